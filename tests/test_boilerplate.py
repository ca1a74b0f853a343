"""Site boilerplate learned from the archive: fixture pages sharing a house ad and a blurb."""

from __future__ import annotations

import json
import shutil
import sqlite3
from html import escape
from pathlib import Path

import pytest

from archive.demo.site import CORPUS_DIR, NewsSite, load_manifest
from archive.store.boilerplate import MIN_PAGES, block_key, clean_document
from tests.helpers.cli import FAST, newsarchive

CORPUS = CORPUS_DIR
STORIES = [
    row
    for row in load_manifest(CORPUS)
    if row["language"] == "en" and row["expected"].get("body") and len(row["expected"]["body"]) > 1500
][:4]
HOUSE_AD = "Help us grow. Support Loopback News on Patreon and get our stories before anyone else!"
BLURB = "Jane Roe is our correspondent in Moscow; she has covered Russia and China for twenty years."


def _page(row: dict, shared: list[str]) -> bytes:
    """A real story (the corpus's expected text) as a news site lays it out, plus ``shared``."""
    title = row["expected"]["title"]
    paragraphs = "".join(f"<p>{escape(p)}</p>" for p in [*row["expected"]["body"].split("\n\n"), *shared])
    schema = json.dumps(
        {
            "@context": "https://schema.org",
            "@type": "NewsArticle",
            "headline": title,
            "datePublished": "2026-11-02T08:00:00+00:00",
        }
    )
    return (
        f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{escape(title)}</title>'
        f'<script type="application/ld+json">{schema}</script></head><body><nav><a href="/">Home</a></nav>'
        f"<article><h1>{escape(title)}</h1>{paragraphs}</article><footer>Loopback News</footer></body></html>"
    ).encode()


def test_clean_document_keeps_headline_and_stories():
    document = "Headline\n\nStory paragraph one with many words in it.\n\nAd"
    assert (
        clean_document(document, {block_key("Ad")})
        == "Headline\n\nStory paragraph one with many words in it."
    )
    story = "Headline\n\nA whole story in one paragraph, said again.\n\nAd"
    assert (
        clean_document(story, {block_key("A whole story in one paragraph, said again."), block_key("Ad")})
        == story
    )
    assert clean_document("Headline", {block_key("Headline")}) == "Headline"


def _crawl(data: Path, shared_on: int, *options: str) -> None:
    """Crawl the four stories, the first ``shared_on`` of them with the house ad and blurb."""
    data.mkdir(parents=True)
    with NewsSite() as site:
        links = []
        for n, row in enumerate(STORIES):
            path = f"/house/2026/11/{row['id']}"
            site.add(path, _page(row, [HOUSE_AD, BLURB] if n < shared_on else []), "text/html; charset=utf-8")
            links.append(f'<a href="{path}">{escape(row["expected"]["title"])}</a>')
        site.add(
            "/house/", f"<html><body>{''.join(links)}</body></html>".encode(), "text/html; charset=utf-8"
        )
        sites = data / "sites.toml"
        sites.write_text(
            f'[[sites]]\nname = "house"\nstart_urls = ["{site.url("/house/")}"]\nmax_depth = 1\n'
        )
        newsarchive("crawl", "--sites", sites, *FAST, *options, data=data)


def _crawl_and_extract(tmp_path: Path, shared_on: int) -> sqlite3.Connection:
    data = tmp_path / "data"
    _crawl(data, shared_on)
    newsarchive("extract", data=data)
    return sqlite3.connect(data / "news.db")


@pytest.fixture(scope="module")
def shared_on_all(tmp_path_factory) -> Path:
    """The four stories, every one with the house ad and blurb, crawled once and extracted."""
    data = tmp_path_factory.mktemp("house") / "data"
    _crawl(data, shared_on=4)
    newsarchive("extract", data=data)
    return data


def test_house_ad_and_blurb_shared_by_pages_are_removed_and_rebuild_agrees(shared_on_all, tmp_path):
    assert len(STORIES) == 4 >= MIN_PAGES
    db = sqlite3.connect(shared_on_all / "news.db")
    texts = dict(db.execute("SELECT url, text FROM articles"))
    assert len(texts) == 4
    for text in texts.values():
        assert HOUSE_AD not in text and BLURB not in text
        assert len(text.split("\n\n")) > 3  # the story itself stays
    counts = dict(db.execute("SELECT block, count(*) FROM site_blocks GROUP BY block"))
    assert counts[block_key(HOUSE_AD)] == 4  # the model remembers what it removed
    db.close()

    data = shutil.copytree(shared_on_all, tmp_path / "data")  # rebuilt on a copy: the module's stays
    newsarchive("extract", "--rebuild", data=data)
    db = sqlite3.connect(data / "news.db")
    assert dict(db.execute("SELECT url, text FROM articles")) == texts
    db.close()


def test_paragraph_on_too_few_pages_stays(tmp_path):
    db = _crawl_and_extract(tmp_path, shared_on=MIN_PAGES - 1)
    texts = [row[0] for row in db.execute("SELECT text FROM articles")]
    db.close()
    assert sum(HOUSE_AD in text for text in texts) == MIN_PAGES - 1


def test_merge_learns_boilerplate_no_single_shard_saw_enough_of(shared_on_all, tmp_path):
    """Each story's WARC file extracted into a store of its own: no store sees the house ad
    on MIN_PAGES pages, the merged store does and cleans it, as a single extract would."""
    plain = sorted(
        t for (t,) in sqlite3.connect(shared_on_all / "news.db").execute("SELECT text FROM articles")
    )
    # Crawled again with one record per file, so every story lands in a file of its own.
    per_file = tmp_path / "per-file"
    _crawl(per_file / "crawl", 4, "-s", "WARC_MAX_SIZE=1")
    stores = []
    for n, warc in enumerate(sorted((per_file / "crawl" / "warc").glob("*.warc.gz"))):
        newsarchive("extract", warc, data=per_file / f"store{n}")
        stores.append(per_file / f"store{n}" / "news.db")
    shard_texts = [t for db in stores for (t,) in sqlite3.connect(db).execute("SELECT text FROM articles")]
    assert len(shard_texts) == 4 and all(HOUSE_AD in t for t in shard_texts)
    newsarchive("merge", *stores, data=per_file / "merged")
    merged = sqlite3.connect(per_file / "merged" / "news.db").execute("SELECT text FROM articles")
    assert sorted(t for (t,) in merged) == plain  # ids differ: the two sites had other ports
