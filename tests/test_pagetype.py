"""The page-type decision on real pages (WCXB, the bundled corpus) and on the pages a news
crawler meets: short news kept; home, section, tag, author, search, video and live-listing
pages rejected; walls and challenges named; every capture says why it is no article."""

from __future__ import annotations

import gzip
import json
import sqlite3
from pathlib import Path

import pytest

from archive.extract.article import examine_page
from archive.extract.pagetype import capture_reason, free_to_read
from archive.publish.summary import walls_problem
from archive.store.schema import MIGRATIONS
from tests.helpers.pages import ROWS, corpus_page, extract_corpus_page

WCXB = Path(__file__).parent / "data" / "wcxb"
FETCHED = "2026-11-20T12:00:00+00:00"
WORDS = (
    "the council said on tuesday that repairs to the bridge would begin next month after engineers "
    "found cracks in two of its supports and that traffic would be diverted through the old town "
).split()


def words(n: int, offset: int = 0) -> str:
    return " ".join(WORDS[(offset + i) % len(WORDS)] for i in range(n))


def page(body: str, head: str = "", title: str = "A page") -> str:
    nav = "".join(f'<li><a href="/{s}/">{s.title()} news</a></li>' for s in ("world", "business", "sport"))
    return (
        f"<!doctype html><html lang='en'><head><title>{title}</title>{head}</head><body>"
        f"<header><nav><ul>{nav}</ul></nav></header><main>{body}</main>"
        "<footer><p><a href='/about/'>About us</a> <a href='/privacy/'>Privacy</a></p></footer></body></html>"
    )


def teasers(n: int, dated: bool = True) -> str:
    """A listing's items: a linked headline, a one-line summary, a time."""
    return "".join(
        f'<article class="teaser"><h2><a href="/2026/11/{i}/story-number-{i}-about-the-bridge">'
        f"Story {i}: {words(8, i)}</a></h2><p>{words(18, i + 3)}</p>"
        + (f'<time datetime="2026-11-{1 + i % 19:02d}T08:00:00Z">Nov {1 + i % 19}</time>' if dated else "")
        + "</article>"
        for i in range(n)
    )


def short_news(n_words: int, head: str = '<meta property="og:type" content="article">') -> str:
    half = n_words // 2
    return page(
        '<article><h1>Bridge closes after cracks found</h1><time datetime="2026-11-20T09:12:00Z">'
        f"20 November 2026, 09:12</time><p>{words(half)}.</p><p>{words(n_words - half, 7)}.</p>"
        "</article>",
        head,
        "Bridge closes after cracks found",
    )


def reason(html: str, url: str, route: str | None = None) -> str | None:
    return examine_page(html, url, FETCHED, route=route).reason


# -- real pages ------------------------------------------------------------------------


def wcxb_pages() -> list[tuple[str, str, str]]:
    meta = json.loads((WCXB / "pages.json").read_text(encoding="utf-8"))
    return [(page_id, row["page_type"], row["url"]) for page_id, row in sorted(meta.items())]


@pytest.mark.parametrize(("page_id", "page_type", "url"), wcxb_pages())
def test_wcxb_pages_are_decided_as_their_annotators_did(page_id, page_type, url):
    html = gzip.decompress((WCXB / f"{page_id}.html.gz").read_bytes()).decode("utf-8", errors="replace")
    verdict = examine_page(html, url)
    assert (verdict.reason is None) == (page_type == "article"), (page_id, page_type, verdict.reason)


@pytest.mark.parametrize("page_id", sorted(ROWS))
def test_every_bundled_corpus_article_is_kept(page_id):
    assert extract_corpus_page(page_id) is not None, page_id


def test_corpus_article_found_by_link_or_feed_is_kept_either_way():
    row = ROWS["fundus-ca-globalnews-2026-05-24"]
    html = corpus_page(row["id"]).decode(row["encoding"])
    for route in (None, "link", "feed", "sitemap"):
        assert reason(html, row["url"], route) is None, route


# -- short news and the pages around it ------------------------------------------------


@pytest.mark.parametrize("n_words", [30, 64, 150])
def test_short_dated_news_is_kept(n_words):
    assert (
        reason(short_news(n_words), "https://news.test/2026/11/20/bridge-closes-after-cracks-found") is None
    )


def test_a_short_story_with_only_a_date_and_an_article_element_is_kept():
    url = "https://news.test/2026/11/20/bridge-closes-after-cracks-found"
    assert reason(short_news(64, head=""), url) is None


def test_a_line_is_no_article():
    assert reason(short_news(12), "https://news.test/2026/11/20/bridge-closes") == "too_short"


@pytest.mark.parametrize(
    ("url", "html"),
    [
        ("https://news.test/", page(teasers(24), title="News Test: home")),
        ("https://news.test/world/", page("<h1>World</h1>" + teasers(20), title="World")),
        ("https://news.test/tag/bridges/", page("<h1>Bridges</h1>" + teasers(12), title="Tag: bridges")),
        (
            "https://news.test/author/jane-doe/",
            page(f"<h1>Jane Doe</h1><p>{words(30)}</p>" + teasers(10), title="Jane Doe, reporter"),
        ),
        (
            "https://news.test/search?q=bridge",
            page("<h1>Results for bridge</h1><form><input name=q></form>" + teasers(10, dated=False)),
        ),
        (
            "https://news.test/live/",
            page("<h1>Live now</h1>" + teasers(16), title="Live: all live coverage"),
        ),
    ],
    ids=["home", "section", "tag", "author", "search", "live-listing"],
)
def test_listing_pages_are_rejected_as_listings(url, html):
    assert reason(html, url) == "listing"


def test_a_video_page_is_rejected():
    html = page(
        f'<h1>Watch: the bridge closes</h1><video src="/v/1.mp4"></video><p>{words(40)}</p>',
        '<meta property="og:type" content="video.other"><script type="application/ld+json">'
        '{"@context": "https://schema.org", "@type": "VideoObject", "name": "The bridge closes"}</script>',
    )
    assert reason(html, "https://news.test/video/2026/11/20/the-bridge-closes") not in (None, "bot_challenge")


# -- walls and challenges --------------------------------------------------------------

CLOUDFLARE = (
    "<!DOCTYPE html><html><head><title>Just a moment...</title></head><body><div class='main-wrapper'>"
    "<h1>news.test</h1><p>Verifying you are human. This may take a few seconds.</p></div>"
    "<script>window._cf_chl_opt={cvId: '3', cZone: 'news.test'};</script>"
    "<script src='/cdn-cgi/challenge-platform/h/g/orchestrate/chl_page/v1'></script></body></html>"
)
DATADOME = (
    "<html><head><title>news.test</title></head><body><p>Please enable JS and disable any ad blocker</p>"
    "<script>var dd={'rt':'c','cid':'AHrl','hsh':'2013457A','host':'geo.captcha-delivery.com'}</script>"
    "<script src='https://ct.captcha-delivery.com/c.js'></script></body></html>"
)
CONSENT = page(
    "<h1>Before you continue</h1><p>We use cookies and data to deliver and maintain our services and to "
    "measure audience engagement. If you choose Accept all, we will also use cookies to personalise ads.</p>"
    "<button>Reject all</button><button>Accept all</button>",
    title="Before you continue",
)


@pytest.mark.parametrize(
    ("html", "expected"),
    [(CLOUDFLARE, "bot_challenge"), (DATADOME, "bot_challenge"), (CONSENT, "consent_wall")],
    ids=["cloudflare", "datadome", "consent"],
)
def test_walls_and_challenges_are_named(html, expected):
    assert reason(html, "https://news.test/2026/11/20/bridge-closes-after-cracks-found", "feed") == expected


def test_a_challenge_served_as_an_error_is_a_challenge_and_other_errors_are_error_pages():
    assert capture_reason("response", 403, True, lambda: CLOUDFLARE) == "bot_challenge"
    assert capture_reason("response", 503, True, lambda: "<html>Service unavailable</html>") == "error_page"
    assert capture_reason("response", 404, False, lambda: "") == "error_page"
    assert capture_reason("response", 301, False, lambda: "") == "redirect"
    assert capture_reason("response", 304, False, lambda: "") == "not_modified"
    assert capture_reason("response", 200, False, lambda: "") == "not_html"
    assert capture_reason("revisit", 200, True, lambda: "") == "duplicate"
    assert capture_reason("response", 200, True, lambda: "") is None  # a page: its verdict comes later


def paywalled(n_words: int, free: object = False) -> str:
    data = {
        "@context": "https://schema.org",
        "@type": "NewsArticle",
        "headline": "Bridge closes after cracks found",
        "datePublished": "2026-11-20T09:12:00Z",
        "isAccessibleForFree": free,
        "hasPart": {"@type": "WebPageElement", "isAccessibleForFree": free, "cssSelector": ".paywall"},
    }
    return page(
        f"<article><h1>Bridge closes after cracks found</h1><p>{words(n_words)}.</p>"
        "<div class='paywall'>Subscribe to read the rest of this story.</div></article>",
        f'<script type="application/ld+json">{json.dumps(data)}</script>',
    )


def test_a_paywall_teaser_is_a_paywall_and_a_whole_paywalled_article_is_kept():
    url = "https://news.test/2026/11/20/bridge-closes-after-cracks-found"
    assert reason(paywalled(60), url) == "paywall"
    assert reason(paywalled(60, "False"), url) == "paywall"
    assert reason(paywalled(400), url) is None  # the publisher gave the crawler the whole text
    assert reason(paywalled(60, True), url) is None


@pytest.mark.parametrize(
    ("node", "free"),
    [
        (None, True),
        ({}, True),
        ({"isAccessibleForFree": "false"}, False),
        ({"isAccessibleForFree": True}, True),
        ({"hasPart": [{"isAccessibleForFree": False}, "junk"]}, False),
        ({"hasPart": "junk"}, True),
    ],
)
def test_free_to_read_reads_any_shape_of_the_markup(node, free):
    assert free_to_read(node) is free


@pytest.mark.parametrize("html", ["", "   ", "<html></html>", "\x00\x01garbage", "<p>" * 5000])
def test_pages_with_no_text_are_empty_not_errors(html):
    assert reason(html, "https://news.test/x") in ("empty", "listing")


# -- the run summary's flag ------------------------------------------------------------


def test_a_site_whose_pages_come_back_as_walls_is_flagged():
    assert walls_problem({"": 10, "listing": 3}) is None
    assert walls_problem({"": 10, "bot_challenge": 2}) is None  # a couple: noise
    flagged = walls_problem({"": 4, "bot_challenge": 6, "consent_wall": 2, "not_html": 50})
    assert flagged is not None and "8 of 12 pages" in flagged and "bot_challenge 6" in flagged


# -- the store -------------------------------------------------------------------------


def test_an_old_store_gains_the_columns_and_the_reasons_its_captures_tell(tmp_path):
    from archive.store.db import Store

    path = tmp_path / "news.db"
    db = sqlite3.connect(path)
    db.execute(
        "CREATE TABLE captures (id TEXT PRIMARY KEY, url TEXT, status INTEGER, mime TEXT, fetched_at TEXT,"
        " warc_file TEXT, warc_offset INTEGER, warc_length INTEGER, payload_digest TEXT, site TEXT)"
    )
    db.executemany(
        "INSERT INTO captures (id, url, status, mime) VALUES (?, ?, ?, ?)",
        [
            ("a", "u1", 200, "text/html"),
            ("b", "u2", 404, "text/html"),
            ("c", "u3", 200, "application/rss+xml"),
            ("d", "u4", 301, None),
        ],
    )
    db.commit()
    db.close()
    Store(path).close()
    db = sqlite3.connect(path)
    reasons = dict(db.execute("SELECT id, not_article FROM captures"))
    assert reasons == {"a": None, "b": "error_page", "c": "not_html", "d": "redirect"}
    applied = {r[0] for r in db.execute("SELECT name FROM _sqlite_migrations")}
    assert "say_why_not_article" in applied and MIGRATIONS
    db.close()
