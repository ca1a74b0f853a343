"""Each story once: exact and near copies point at the earliest article; export skips them."""

from __future__ import annotations

import gzip
import json
import re
import sqlite3

from archive.demo.site import CORPUS_DIR, NewsSite, load_manifest
from archive.store.copies import Fingerprint, find_duplicates
from tests.helpers.cli import FAST, newsarchive

CORPUS = CORPUS_DIR
ROWS = {row["id"]: row for row in load_manifest(CORPUS)}
WIRE_ID = "fundus-us-apnews-2023-04-28"


def _copies(articles: list[tuple[str, str]]) -> dict[str, str]:
    return find_duplicates((article_id, Fingerprint.of(document)) for article_id, document in articles)


def _document(page_id: str) -> str:
    row = ROWS[page_id]["expected"]
    return f"{row['title']}\n\n{row['body']}"


def test_same_body_under_another_headline_is_a_copy():
    wire = _document(WIRE_ID)
    retitled = "Mexico's economy grows\n\n" + wire.partition("\n\n")[2]
    assert _copies([("a", wire), ("b", retitled)]) == {"b": "a"}


def test_wire_copy_with_other_footer_and_byline_is_a_near_copy():
    body = _document(WIRE_ID).partition("\n\n")[2]
    paragraphs = body.split("\n\n")
    copy = "\n\n".join(["Other headline", "By Staff and wires", *paragraphs, "Copyright 2023 Site B."])
    other = _document("fundus-uk-bbc-2026-04-25")
    assert _copies([("a", _document(WIRE_ID)), ("c", other), ("b", copy)]) == {"b": "a"}


def test_different_stories_and_short_briefs_are_not_copies():
    documents = [(page_id, _document(page_id)) for page_id in ROWS if ROWS[page_id]["expected"].get("body")]
    assert _copies(documents) == {}
    briefs = [("x", "Brief\n\nMarkets closed higher today."), ("y", "Other\n\nMarkets closed lower today.")]
    assert _copies(briefs) == {}


def test_every_copy_points_at_the_earliest_original():
    wire = _document(WIRE_ID)
    copies = [(f"id{n}", f"Headline {n}\n\n" + wire.partition("\n\n")[2]) for n in range(4)]
    assert _copies(copies) == {"id1": "id0", "id2": "id0", "id3": "id0"}


def _wire_page(html: str, headline: str | None, footer: str | None) -> bytes:
    """The wire story as another site serves it: its own URL, maybe its own headline and footer."""
    html = re.sub(r'<link[^>]*rel="canonical"[^>]*>', "", html)
    html = re.sub(r'<meta[^>]*property="og:url"[^>]*>', "", html)
    if headline:
        html = html.replace(ROWS[WIRE_ID]["expected"]["title"], headline)
    if footer:
        html = html.replace("</article>", f"<p>{footer}</p></article>", 1)
    return html.encode("utf-8")


def test_wire_story_on_two_sites_end_to_end(tmp_path):
    html = gzip.decompress((CORPUS / "pages" / f"{WIRE_ID}.html.gz").read_bytes()).decode("utf-8")
    data = tmp_path / "data"
    with NewsSite() as site:
        site.add("/a/2023/04/mexico-economy", _wire_page(html, None, None), "text/html; charset=utf-8")
        site.add(
            "/b/2023/04/mexico-growth-slows",
            _wire_page(html, "Mexico growth slows, wire report says", "Distributed by the wire service."),
            "text/html; charset=utf-8",
        )
        for name, slug in (("a", "mexico-economy"), ("b", "mexico-growth-slows")):
            link = f'<html><body><a href="/{name}/2023/04/{slug}">story</a></body></html>'
            site.add(f"/{name}/", link.encode(), "text/html; charset=utf-8")
        sites = tmp_path / "sites.toml"
        sites.write_text(
            "".join(
                f'[[sites]]\nname = "wire_{n}"\nstart_urls = ["{site.url(f"/{n}/")}"]\nmax_depth = 1\n\n'
                for n in ("a", "b")
            )
        )
        # Site A first, then site B: A's copy is the earliest.
        newsarchive("crawl", "--sites", sites, "--site", "wire_a", *FAST, data=data)
        newsarchive("crawl", "--sites", sites, "--site", "wire_b", *FAST, data=data)
    newsarchive("extract", data=data)
    db = sqlite3.connect(data / "news.db")
    rows = db.execute("SELECT site, id, title, duplicate_of FROM articles ORDER BY first_seen").fetchall()
    db.close()
    assert [r[0] for r in rows] == ["wire_a", "wire_b"]
    (_, original, _, original_dup), (_, copy, copy_title, copy_dup) = rows
    assert copy_title == "Mexico growth slows, wire report says"
    assert original_dup is None and copy_dup == original

    newsarchive("export", data=data)
    exported = [json.loads(line) for line in (data / "export" / "articles.jsonl").read_text().splitlines()]
    assert [a["id"] for a in exported] == [original]
    newsarchive("export", "--include-duplicates", data=data)
    exported = [json.loads(line) for line in (data / "export" / "articles.jsonl").read_text().splitlines()]
    assert sorted(a["id"] for a in exported) == sorted([original, copy])
