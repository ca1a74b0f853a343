"""`newsarchive serve`: the real Datasette process over a store built from a loopback crawl.

Checked over HTTP: search, facets, canned queries, the article page, and the link from an
article to its archived capture (served from the WARC with a sandboxing CSP header).
"""

from __future__ import annotations

import json
import re
import shutil
import sqlite3
from types import SimpleNamespace

import pytest

from tests.helpers.cli import newsarchive
from tests.helpers.serve import HOSTILE_PAGE, HOSTILE_PATH, KNOWN_PAGE, KNOWN_WORD, fetch, running_server


def fetch_json(url: str):
    status, _, body = fetch(url)
    assert status == 200, body[:500]
    return json.loads(body)


def archived_page_links(html: bytes) -> list[str]:
    return re.findall(r'class="archived-page" href="([^"]+)"', html.decode("utf-8"))


@pytest.fixture(scope="module")
def served(news_site, serve_store):
    data = serve_store
    db = sqlite3.connect(data / "news.db")
    db.row_factory = sqlite3.Row
    with running_server(data) as base:
        yield SimpleNamespace(base=base, data=data, db=db, site=news_site)
    db.close()


def _known_article(served) -> sqlite3.Row:
    return served.db.execute("SELECT * FROM articles WHERE url = ?", [served.site.url(KNOWN_PAGE)]).fetchone()


def test_search_finds_an_article_by_a_word_of_its_text(served):
    article = _known_article(served)
    assert KNOWN_WORD in article["text"] and KNOWN_WORD not in article["title"]
    rows = fetch_json(f"{served.base}/news/articles.json?_search={KNOWN_WORD}&_shape=array")
    assert [row["id"] for row in rows] == [article["id"]]
    html = fetch(f"{served.base}/news/articles?_search={KNOWN_WORD}")[2].decode()
    assert "1 row where search matches" in html


def test_database_and_tables_are_described_and_fts_tables_hidden(served):
    database = fetch_json(f"{served.base}/news.json")
    tables = {t["name"]: t for t in database["tables"]}
    visible = {name for name, t in tables.items() if not t["hidden"]}
    assert visible == {"articles", "article_versions", "captures", "crawls", "fetch_errors", "warc_files"}
    assert {"articles_fts", "articles_fts_data", "articles_fts_idx"} <= set(tables) - visible
    html = fetch(f"{served.base}/news/articles")[2].decode()
    assert "<h1" in html and "Articles" in html and "Newest first" in html
    # the column descriptions are one click away, not above the table
    help_block = html.split('<details class="column-help">')[1].split("</details>")[0]
    assert "First 16 hex digits of the SHA-256 of the canonical URL" in help_block


def test_articles_are_sorted_newest_first(served):
    page = fetch_json(f"{served.base}/news/articles.json?_shape=objects&_size=max")
    assert "sorted by published descending" in page["human_description_en"]
    dates = [row["published"] for row in page["rows"] if row["published"]]
    assert dates == sorted(dates, reverse=True) and len(dates) >= 10


def test_facets_on_site_language_and_month_narrow_by_site(served):
    page = fetch_json(f"{served.base}/news/articles.json?_shape=objects")
    facets = page["facet_results"]
    assert {"site", "language", "published"} <= set(facets)
    sites = {r["value"]: r["count"] for r in facets["site"]["results"]}
    routes = {"links", "rss", "atom", "sitemap", "robots"}
    # "bad" serves a copy of a "links" article (same canonical URL): the row takes the site
    # of whichever capture is newer, so it may or may not be there.
    assert routes <= set(sites) <= routes | {"bad"}
    assert sum(sites.values()) == page["filtered_table_rows_count"]
    months = facets["published"]["results"]  # a month facet: one bucket per month, newest first
    assert months and all(re.fullmatch(r"\d{4}-\d\d", month["value"]) for month in months)
    narrowed = fetch_json(f"{served.base}/news/articles.json?site=rss&_shape=objects&_size=max")
    assert narrowed["filtered_table_rows_count"] == sites["rss"] < page["filtered_table_rows_count"]
    assert {row["site"] for row in narrowed["rows"]} == {"rss"}


def test_canned_search_query_highlights_the_matches(served):
    rows = fetch_json(f"{served.base}/news/search_articles.json?q={KNOWN_WORD}&_shape=array")
    assert [row["article_id"] for row in rows] == [_known_article(served)["id"]]
    assert f"<mark>{KNOWN_WORD}</mark>" in rows[0]["snippet"]
    html = fetch(f"{served.base}/news/search_articles?q={KNOWN_WORD}")[2].decode()
    assert f"<mark>{KNOWN_WORD}</mark>" in html  # a highlight, not escaped text
    assert f'href="/news/articles/{rows[0]["article_id"]}"' in html


def test_canned_search_escapes_the_archived_text(served):
    html = fetch(f"{served.base}/news/search_articles?q=the")[2].decode()
    snippets = re.findall(r'<td class="col-snippet[^"]*">(.*?)</td>', html, re.S)
    assert snippets
    for snippet in snippets:  # only <mark> survives as markup
        assert not re.search(r"<(?!/?mark>)", snippet), snippet


def test_canned_articles_per_site_per_day(served):
    rows = fetch_json(f"{served.base}/news/articles_per_site_per_day.json?_shape=array&_size=max")
    originals = served.db.execute("SELECT count(*) FROM articles WHERE duplicate_of IS NULL").fetchone()[0]
    assert sum(row["articles"] for row in rows) == originals
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\d", row["day"]) for row in rows)


def test_canned_failed_captures_lists_the_4xx_and_5xx(served):
    rows = fetch_json(f"{served.base}/news/failed_captures.json?_shape=array&_size=max")
    urls = {row["url"] for row in rows}
    assert {served.site.url("/bad/404"), served.site.url("/bad/500")} <= urls
    assert all(row["status"] >= 400 for row in rows)


def test_canned_crawl_runs(served):
    rows = fetch_json(f"{served.base}/news/crawl_runs.json?_shape=array")
    assert len(rows) == 1 and rows[0]["responses"] > 0 and rows[0]["finished"] >= rows[0]["started"]


def test_article_page_shows_its_paragraphs(served):
    article = _known_article(served)
    html = fetch(f"{served.base}/news/articles/{article['id']}")[2].decode()
    text = re.search(r'<div class="article-text">(.*?)</div>', html, re.S).group(1)
    paragraphs = [line for line in article["text"].split("\n") if line.strip()]
    assert text.count("<p>") == len(paragraphs) > 5


def test_capture_link_serves_the_archived_page_sandboxed(served):
    article = _known_article(served)
    html = fetch(f"{served.base}/news/articles/{article['id']}")[2]
    [link] = set(archived_page_links(html))  # the article's capture, and its one version's
    status, headers, body = fetch(served.base + link)
    assert status == 200
    policy = [p.strip() for p in headers["Content-Security-Policy"].split(";")]
    assert policy[0] == "sandbox" and "default-src 'none'" in policy  # no scripts, no same origin
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Content-Type"].startswith("text/html")
    assert body == served.site.pages[KNOWN_PAGE].body  # gzip undone, bytes as the server sent them


def test_hostile_archived_page_is_served_sandboxed(served):
    warc_file, offset = served.db.execute(
        "SELECT warc_file, warc_offset FROM captures WHERE url = ?", [served.site.url(HOSTILE_PATH)]
    ).fetchone()
    status, headers, body = fetch(f"{served.base}/-/capture/{warc_file}/{offset}")
    assert status == 200 and body == HOSTILE_PAGE
    assert headers["Content-Security-Policy"].split(";")[0] == "sandbox"


def test_captures_table_links_every_offset_including_errors(served):
    html = fetch(f"{served.base}/news/failed_captures")[2]
    links = archived_page_links(html)
    assert links
    for link in links:
        status, headers, _ = fetch(served.base + link)
        assert status == 200 and headers["Content-Security-Policy"].startswith("sandbox")


def test_revisit_capture_redirects_to_its_original(served):
    # WARC_DEDUP: robots.txt, asked for by every site, is archived once and then revisited.
    captures = served.db.execute(
        "SELECT warc_file, warc_offset FROM captures WHERE url = ? ORDER BY warc_file, warc_offset",
        [served.site.url("/robots.txt")],
    ).fetchall()
    assert len(captures) > 1
    original, revisit = captures[0], captures[-1]
    status, headers, _ = fetch(f"{served.base}/-/capture/{revisit['warc_file']}/{revisit['warc_offset']}")
    assert status == 302
    assert headers["Location"] == f"/-/capture/{original['warc_file']}/{original['warc_offset']}"
    status, _, body = fetch(served.base + headers["Location"])
    assert status == 200 and body == served.site.pages["/robots.txt"].body


@pytest.mark.parametrize(
    "path",
    ["/-/capture/NEWSARCHIVE-nothing.warc.gz/0", "/-/capture/..%2F..%2Fnews.db/0", "/-/capture/{file}/1"],
)
def test_only_known_captures_are_served(served, path):
    warc_file = served.db.execute("SELECT warc_file FROM captures LIMIT 1").fetchone()[0]
    status, _, body = fetch(served.base + path.format(file=warc_file))
    assert status == 404 and body.startswith(b"no capture at ")


def test_copy_without_warcs_and_corrupt_warc_say_so(served, tmp_path):
    (tmp_path / "warc").mkdir()
    shutil.copy(served.data / "news.db", tmp_path / "news.db")
    article = _known_article(served)
    warc_file, offset = served.db.execute(
        "SELECT warc_file, warc_offset FROM captures WHERE id = ?", [article["capture_id"]]
    ).fetchone()
    with running_server(tmp_path) as base:
        status, _, body = fetch(f"{base}/news/articles/{article['id']}")
        assert status == 200 and b'class="article-text"' in body  # the copy still browses
        status, _, body = fetch(f"{base}/-/capture/{warc_file}/{offset}")
        assert status == 404 and f"{warc_file} is not in".encode() in body
        (tmp_path / "warc" / warc_file).write_bytes(b"not a WARC file at all\n" * 100)
        status, _, body = fetch(f"{base}/-/capture/{warc_file}/{offset}")
        assert status == 502 and body.startswith(f"the record at {warc_file}:{offset} is damaged: ".encode())


def test_serve_without_a_store_is_a_configuration_error(tmp_path):
    result = newsarchive("serve", data=tmp_path, check=False)
    assert result.returncode == 3 and "no store at" in result.stderr
