"""How the crawl found each URL reaches the store: a real loopback crawl of one site per route
(feed, sitemap, link, start page), its WARC headers, and the captures' columns."""

from __future__ import annotations

import sqlite3

import pytest

from archive.warc.fields import NEWSARCHIVE_DISCOVERED_HEADER, parse_discovered
from archive.warc.files import list_warc_files
from archive.warc.reader import iter_records

# The loopback site's routes (archive/demo/site.py) as the crawl names them, and where from.
ROUTE_OF = {"links": "link", "rss": "feed", "atom": "feed", "sitemap": "sitemap", "robots": "sitemap"}
SOURCES = {
    "rss": {"/feeds/rss.xml"},
    "atom": {"/feeds/atom.xml"},
    "sitemap": {"/sitemaps/news-1.xml.gz", "/sitemaps/news-2.xml"},
    "robots": {"/sitemaps/robots.xml"},
    "links": {"/world/", "/business/"},
}


@pytest.fixture(scope="module")
def captures(routes_crawl):
    db = sqlite3.connect(routes_crawl.data / "news.db")
    db.row_factory = sqlite3.Row
    rows = {row["url"]: dict(row) for row in db.execute("SELECT * FROM captures")}
    db.close()
    return rows


@pytest.mark.parametrize("route", sorted(ROUTE_OF))
def test_each_article_capture_says_its_route_and_source(news_site, captures, route):
    for page in news_site.articles[route]:
        row = captures[news_site.url(page.path)]
        assert row["discovered_by"] == ROUTE_OF[route], page.path
        assert row["discovered_from"] in {news_site.url(p) for p in SOURCES[route]}, page.path
        assert row["not_article"] is None, page.path


def test_start_pages_and_sources_are_start_and_their_children_say_their_parent(news_site, captures):
    home = captures[news_site.url("/")]
    assert (home["discovered_by"], home["discovered_from"]) == ("start", None)
    assert home["not_article"] == "listing"
    for path in ("/feeds/rss.xml", "/sitemap_index.xml", "/robots.txt"):
        row = captures[news_site.url(path)]
        assert (row["discovered_by"], row["discovered_from"], row["not_article"]) == (
            "start",
            None,
            "not_html",
        )
    child = captures[news_site.url("/sitemaps/news-2.xml")]
    assert (child["discovered_by"], child["discovered_from"]) == (
        "sitemap",
        news_site.url("/sitemap_index.xml"),
    )
    section = captures[news_site.url("/world/")]
    assert (section["discovered_by"], section["discovered_from"]) == ("link", news_site.url("/"))
    assert section["not_article"] == "listing"


def test_errors_and_redirects_say_why_they_are_no_article(news_site, captures):
    assert captures[news_site.url("/bad/500")]["not_article"] == "error_page"
    assert captures[news_site.url("/bad/404")]["not_article"] == "error_page"
    assert captures[news_site.url("/bad/redirect/1")]["not_article"] == "redirect"
    assert captures[news_site.url("/bad/landed")]["not_article"] is None  # the redirect led to an article
    every = {row["not_article"] for row in captures.values()}
    assert every <= {
        None,
        "listing",
        "not_html",
        "error_page",
        "redirect",
        "too_short",
        "empty",
        "not_article",
    }


def test_the_route_is_a_warc_header_of_the_response_record(routes_crawl, news_site):
    found = {}
    for path in list_warc_files(routes_crawl.data / "warc"):
        for record in iter_records(path, 0, []):
            if record.type == "response":
                found[record.url] = record.headers.get(NEWSARCHIVE_DISCOVERED_HEADER)
    page = news_site.articles["rss"][0]
    assert found[news_site.url(page.path)] == f"feed {news_site.url('/feeds/rss.xml')}"
    assert found[news_site.url("/")] == "start"


@pytest.mark.parametrize(
    ("value", "parsed"),
    [
        ("feed https://x.test/rss.xml", ("feed", "https://x.test/rss.xml")),
        ("start", ("start", None)),
        ("  link   https://x.test/a b ", ("link", "https://x.test/a b")),
        ("", (None, None)),
        (None, (None, None)),
    ],
)
def test_the_header_value_is_read_back_whatever_it_holds(value, parsed):
    assert parse_discovered(value) == parsed


def test_stats_and_the_run_summary_count_the_reasons_per_site(routes_crawl):
    from archive.publish.stats import archive_stats
    from archive.publish.summary import run_summary

    stats = archive_stats(routes_crawl.data)
    by_site = {(site, reason): n for site, reason, n in stats.not_articles_by_site}
    assert by_site[("links", "listing")] >= 3  # the home page and its two sections
    assert by_site[("bad", "error_page")] >= 2
    assert "captures that are no article, by reason" in stats.text()
    db = sqlite3.connect(routes_crawl.data / "news.db")
    crawl_id = db.execute("SELECT id FROM crawls").fetchone()[0]
    db.close()
    summary = run_summary(routes_crawl.data, crawl_id)
    links = next(s for s in summary.sites if s.site == "links")
    assert links.not_articles["listing"] >= 3
    assert "Not articles: " in summary.text() and "links listing" in summary.text()
    assert not any("walls or challenges" in p for p in summary.problems)
