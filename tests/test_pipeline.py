"""End to end on loopback: crawl -> WARC -> extract -> SQLite -> export, with the real CLI."""

from __future__ import annotations

import hashlib
import json
import shutil
import sqlite3
import subprocess
import sys
from collections import Counter
from pathlib import Path
from types import SimpleNamespace

import pytest
from warcio.archiveiterator import ArchiveIterator

from archive.demo.site import ROUTES
from archive.document import check_document
from archive.warc.files import list_warc_files
from tests.helpers.cli import FAST, newsarchive

# A page whose JSON-LD headline is not the headline fundus expects (its og:title is); the
# publisher's fields disagree, so no general rule gets it (README, "Extraction quality").
KNOWN_TITLE_MISSES = {"fundus-uk-eveningstandard-2024-10-24"}


def _collapse(text: str | None) -> str:
    return " ".join((text or "").split())


@pytest.fixture(scope="module")
def crawled(news_site, routes_crawl):
    """The session's crawl of every route and the bad pages (conftest.py), exported."""
    data = routes_crawl.data
    export = newsarchive("export", data=data)
    db = sqlite3.connect(data / "news.db")
    db.row_factory = sqlite3.Row
    log = "".join(p.read_text() for p in sorted((data / "logs").glob("*-crawl.log")))
    yield SimpleNamespace(
        data=data,
        sites=routes_crawl.sites,
        crawl=routes_crawl.crawl,
        extract=routes_crawl.extract,
        export=export,
        served=routes_crawl.served,
        db=db,
        log=log,
        site=news_site,
    )
    db.close()


def _captures(crawled, **where) -> list[sqlite3.Row]:
    sql = "SELECT * FROM captures" + (" WHERE " + " AND ".join(f"{k} = ?" for k in where) if where else "")
    return crawled.db.execute(sql, list(where.values())).fetchall()


def test_crawl_reports_the_failed_feed_and_archives(crawled):
    assert crawled.crawl.returncode == 1, crawled.crawl.stderr  # the "bad" site's feed is broken
    assert "sources failed for site(s): bad" in crawled.crawl.stderr
    assert "responses" in crawled.crawl.stdout and "WARC file(s)" in crawled.crawl.stdout


@pytest.mark.parametrize("route", ROUTES)
def test_each_discovery_route_finds_its_articles(crawled, route):
    fetched = {row["url"] for row in _captures(crawled, site=route)}
    expected = {crawled.site.url(p.path) for p in crawled.site.articles[route]}
    assert expected, route
    assert expected <= fetched, f"{route} missed {sorted(expected - fetched)}"
    other_routes = {crawled.site.url(p.path) for r in ROUTES if r != route for p in crawled.site.articles[r]}
    assert not (fetched & other_routes), f"{route} fetched another route's articles"


def test_robots_txt_is_obeyed(crawled):
    paths = [r.path for r in crawled.served]
    assert "/robots.txt" in paths
    assert not any(p.startswith("/private/") for p in paths)
    assert "/tag/russia/" not in paths  # tag pages are never fetched
    assert not any("example.org" in p for p in paths)


def test_every_served_response_is_archived(crawled):
    served = Counter((crawled.site.url(r.path), r.status) for r in crawled.served)
    archived = Counter((row["url"], row["status"]) for row in _captures(crawled))
    assert served == archived


def test_warc_files_are_closed_valid_and_digests_check(crawled):
    files = list_warc_files(crawled.data / "warc")
    assert files and all(p.name.endswith(".warc.gz") for p in files)
    for path in files:
        types = Counter()
        with open(path, "rb") as fh:
            for record in ArchiveIterator(fh, check_digests="raise"):
                types[record.rec_type] += 1
                if record.rec_type == "response":
                    assert record.rec_headers.get_header("WARC-Payload-Digest", "").startswith("sha1:")
                    assert record.rec_headers.get_header("WARC-Block-Digest", "").startswith("sha1:")
                record.content_stream().read()
        assert types["warcinfo"] == 1 and types["response"] == types["request"] > 0
        check = subprocess.run(
            [sys.executable, "-m", "warcio.cli", "check", str(path)], capture_output=True, text=True
        )
        assert check.returncode == 0, check.stdout + check.stderr


def test_request_records_are_tied_to_their_responses(crawled):
    path = list_warc_files(crawled.data / "warc")[0]
    responses, concurrent = set(), set()
    with open(path, "rb") as fh:
        for record in ArchiveIterator(fh):
            if record.rec_type == "response":
                responses.add(record.rec_headers.get_header("WARC-Record-ID"))
            elif record.rec_type == "request":
                concurrent.add(record.rec_headers.get_header("WARC-Concurrent-To"))
                assert record.http_headers.get_header("User-Agent", "").startswith("newsarchive/")
    assert responses == concurrent


def test_gzip_bodies_are_archived_as_received(crawled):
    path = list_warc_files(crawled.data / "warc")[0]
    with open(path, "rb") as fh:
        for record in ArchiveIterator(fh):
            if record.rec_type == "response" and record.rec_headers.get_header("WARC-Target-URI").endswith(
                "/feeds/rss.xml"
            ):
                assert record.http_headers.get_header("Content-Encoding") == "gzip"
                assert record.raw_stream.read(2) == b"\x1f\x8b"
                return
    pytest.fail("no archived RSS feed")


def test_extracted_titles_match_the_corpus(crawled):
    by_url = {crawled.site.url(p.path): p for pages in crawled.site.articles.values() for p in pages}
    rows = crawled.db.execute("SELECT url, title FROM articles").fetchall()
    misses = []
    for row in rows:
        page = by_url.get(row["url"])
        if page is None:
            continue
        expected, got = _collapse(page.manifest["expected"]["title"]), _collapse(row["title"])
        if not (expected == got or expected in got or got in expected) and page.id not in KNOWN_TITLE_MISSES:
            misses.append((page.id, expected, got))
    assert not misses
    assert len(rows) >= len(by_url) - 2  # one corpus page trafilatura cannot read (scmp) at most


def test_exported_files_obey_the_format_and_ids(crawled):
    export_dir = crawled.data / "export"
    lines = [json.loads(line) for line in (export_dir / "articles.jsonl").read_text().splitlines()]
    files = sorted(p for p in export_dir.iterdir() if p.suffix == ".txt")
    assert len(files) == len(lines) >= 20
    for position, (path, meta) in enumerate(zip(files, lines, strict=True)):
        text = path.read_bytes().decode("utf-8")
        expected_id = hashlib.sha256(meta["canonical_url"].encode("utf-8")).hexdigest()[:16]
        assert meta["id"] == expected_id and meta["file"] == path.name
        assert path.name.startswith(f"{position:03d}_")
        assert check_document(text, path.name, expected_id) == [], path.name
        assert text == meta["text"]


def test_home_and_section_pages_are_not_articles(crawled):
    urls = {row["url"] for row in crawled.db.execute("SELECT url FROM articles")}
    for path in ("/", "/world/", "/business/", "/bad/"):
        assert crawled.site.url(path) not in urls


def test_extract_twice_adds_nothing(crawled):
    before = {
        t: crawled.db.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
        for t in ("captures", "articles", "crawls", "warc_files")
    }
    again = newsarchive("extract", data=crawled.data)
    assert "extract: 0 records from 0 WARC file(s)" in again.stdout
    after = {t: crawled.db.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in before}
    assert before == after and before["crawls"] == 1


def test_crawl_run_is_recorded(crawled):
    crawl = crawled.db.execute("SELECT * FROM crawls").fetchone()
    assert json.loads(crawl["sites"]) == sorted(["links", "rss", "atom", "sitemap", "robots", "bad"])
    assert crawl["responses"] == len(crawled.served)
    assert crawl["errors"] >= 2  # the 500 and the 404 at least
    files = json.loads(crawl["warc_files"])
    assert files == [p.name for p in list_warc_files(crawled.data / "warc")]


def test_second_crawl_fetches_no_known_article(crawled, tmp_path):
    data = shutil.copytree(crawled.data, tmp_path / "data")  # the shared archive stays as crawled once
    site = crawled.site
    already = len(site.served())
    second = newsarchive("crawl", "--sites", crawled.sites, *FAST, data=data, check=False)
    paths = [r.path for r in site.served()[already:]]
    assert not [p for p in paths if p.startswith("/news/")], paths
    for path in (
        "/",
        "/feeds/rss.xml",
        "/feeds/atom.xml",
        "/sitemap_index.xml",
        "/sitemaps/news-1.xml.gz",
        "/sitemaps/robots.xml",
    ):
        assert path in paths
    assert "known articles skipped" in second.stdout
    newsarchive("extract", data=data)
    assert sqlite3.connect(data / "news.db").execute("SELECT count(*) FROM crawls").fetchone()[0] == 2


def test_data_dir_layout(crawled):
    names = {p.name for p in Path(crawled.data).iterdir()}
    assert {"warc", "news.db", "export", "logs"} <= names
