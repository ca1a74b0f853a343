"""Hostile sites against the real crawler (issue 17): each case a real ``newsarchive crawl``
of a loopback site, bounded in time, checked in the WARC files and in what the site served."""

from __future__ import annotations

import re
import shutil
import sqlite3
from pathlib import Path

import pytest
from warcio.archiveiterator import ArchiveIterator

from archive.demo.site import NewsSite
from tests.helpers.cli import FAST, newsarchive

HTML = "text/html; charset=utf-8"
XML = "application/xml"
ARTICLE = b"<html><head><title>An article</title></head><body><p>Text of an article.</p></body></html>"
SECRET = "NEWSARCHIVE-SECRET-7f3a"  # what a file on the crawler's own disk holds


@pytest.fixture(scope="module")
def site():
    with NewsSite() as news_site:
        yield news_site


def crawl(tmp_path: Path, sites_toml: str, *settings: str, timeout: int = 120):
    """``newsarchive crawl`` of ``sites_toml`` into ``tmp_path/data``; (result, Scrapy's stats log text)."""
    sites = tmp_path / "sites.toml"
    sites.write_text(sites_toml, encoding="utf-8")
    data = tmp_path / "data"
    result = newsarchive("crawl", "--sites", sites, *FAST, *settings, data=data, check=False, timeout=timeout)
    logs = sorted((data / "logs").glob("*-crawl.log"))
    return result, logs[-1].read_text(encoding="utf-8") if logs else ""


def stat(log: str, key: str) -> int:
    """A counter from the stats Scrapy dumps at the end of the crawl log (0 when absent)."""
    found = re.search(rf"'{re.escape(key)}': (\d+)", log)
    return int(found.group(1)) if found else 0


def warc_files(data: Path) -> set[Path]:
    return set((data / "warc").glob("*.warc.gz*"))


def records(data: Path, files: set[Path] | None = None) -> list[tuple[dict, bytes]]:
    """(WARC headers, content) of every record in the data dir's WARC files (or in ``files``)."""
    found = []
    for path in sorted(warc_files(data) if files is None else files):
        with open(path, "rb") as fh:
            for record in ArchiveIterator(fh):
                headers = dict(record.rec_headers.headers)
                found.append((headers, record.content_stream().read()))
    return found


def served_since(site: NewsSite, mark: int, prefix: str) -> list:
    return [r for r in site.served()[mark:] if r.path.startswith(prefix)]


def urlset(urls: list[str]) -> bytes:
    entries = "".join(f"<url><loc>{u}</loc></url>" for u in urls)
    return f'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{entries}</urlset>'.encode()


def sitemap_index(urls: list[str]) -> bytes:
    entries = "".join(f"<sitemap><loc>{u}</loc></sitemap>" for u in urls)
    return (
        f'<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{entries}</sitemapindex>'.encode()
    )


def rss(urls: list[str]) -> bytes:
    items = "".join(f"<item><title>t</title><link>{u}</link></item>" for u in urls)
    return f'<rss version="2.0"><channel><title>f</title>{items}</channel></rss>'.encode()


# -- 1: only http(s) is ever requested --------------------------------------------------


def test_file_urls_in_robots_sitemaps_feeds_links_and_redirects_are_never_read(site, tmp_path):
    secret = tmp_path / "passwd"
    secret.write_text(f"root:x:0:0:{SECRET}\n")
    local = f"file://127.0.0.1{secret}"
    base = site.url("/h1")
    site.add("/h1/robots.txt", f"Sitemap: {local}\nSitemap: {base}/index.xml\n".encode(), "text/plain")
    site.add("/h1/index.xml", sitemap_index([local, f"{base}/news.xml", "ftp://127.0.0.1/x.xml"]), XML)
    article = f"{base}/2026/01/an-article-that-redirects-home"
    site.add("/h1/news.xml", urlset([local, article, "data:text/plain,hello"]), XML)
    site.add(
        "/h1/2026/01/an-article-that-redirects-home", b"", None, status=302, headers=[("Location", local)]
    )
    site.add(
        "/h1/feed.xml", rss([local, f"{base}/2026/01/a-feed-article-of-this-site"]), "application/rss+xml"
    )
    site.add("/h1/2026/01/a-feed-article-of-this-site", ARTICLE, HTML)
    site.add("/h1/", f'<html><body><a href="{local}">local</a></body></html>'.encode(), HTML)
    toml = (
        f'[[sites]]\nname = "h1"\nstart_urls = ["{base}/"]\nfeeds = ["{base}/feed.xml"]\n'
        f'sitemaps = ["{base}/robots.txt"]\nobey_robots = false\n'
    )
    result, log = crawl(tmp_path, toml)
    archived = records(tmp_path / "data")
    assert archived, result.stderr
    assert not [
        h["WARC-Target-URI"]
        for h, _ in archived
        if not h.get("WARC-Target-URI", "urn:").startswith(("http", "urn:"))
    ]
    assert not [h.get("WARC-Target-URI") for h, body in archived if SECRET.encode() in body]
    assert (
        stat(log, "newsarchive/not_http_urls") == 6
    )  # robots, index (file, ftp), sitemap (file, data), feed
    assert result.returncode == 0, result.stderr


def test_scrapy_s_file_ftp_s3_and_data_handlers_are_off():
    from crawler.runner import crawl_settings

    handlers = crawl_settings(Path("data")).getwithbase("DOWNLOAD_HANDLERS")
    assert {scheme: handlers[scheme] for scheme in ("file", "ftp", "s3", "data")} == dict.fromkeys(
        ("file", "ftp", "s3", "data")
    )


# -- 2: every sitemap and feed URL at most once per run ----------------------------------


def test_a_sitemap_listing_itself_or_a_loop_is_fetched_once(site, tmp_path):
    a, b = site.url("/loop/a.xml"), site.url("/loop/b.xml")
    site.add("/loop/a.xml", sitemap_index([a, b, a + "#again"]), XML)
    site.add("/loop/b.xml", sitemap_index([a, b]), XML)
    mark = len(site.served())
    toml = f'[[sites]]\nname = "loop"\nsitemaps = ["{a}"]\nobey_robots = false\n'
    # CLOSESPIDER_TIMEOUT: without the fix the crawl never ends by itself.
    result, log = crawl(tmp_path, toml, "-s", "CLOSESPIDER_TIMEOUT=20")
    paths = [r.path for r in served_since(site, mark, "/loop/")]
    assert sorted(paths) == ["/loop/a.xml", "/loop/b.xml"], f"{len(paths)} fetches"
    assert "finish_reason': 'finished'" in log
    assert stat(log, "newsarchive/sources_repeated") == 4


# -- 3: archived copies that cannot be read cost the validators, never the crawl --------


@pytest.mark.parametrize("fault", ["moved", "corrupt"])
def test_warcs_moved_away_or_unreadable_do_not_stop_the_crawl(site, tmp_path, fault):
    base = site.url(f"/cold-{fault}")
    site.add(f"/cold-{fault}/feed.xml", rss([f"{base}/2026/01/an-article-kept-cold"]), "application/rss+xml")
    site.add(f"/cold-{fault}/2026/01/an-article-kept-cold", ARTICLE, HTML)
    toml = f'[[sites]]\nname = "cold"\nfeeds = ["{base}/feed.xml"]\nobey_robots = false\n'
    first, _ = crawl(tmp_path, toml)
    data = tmp_path / "data"
    assert first.returncode == 0, first.stderr
    newsarchive("extract", data=data)  # news.db now says where the feed's capture is
    with sqlite3.connect(data / "news.db") as conn:
        file, offset = conn.execute(
            "SELECT warc_file, warc_offset FROM captures WHERE url = ?", (f"{base}/feed.xml",)
        ).fetchone()
    if fault == "moved":  # to cold storage
        shutil.move(data / "warc", tmp_path / "cold")
    else:  # the feed's record overwritten in place
        with open(data / "warc" / file, "r+b") as fh:
            fh.seek(offset)
            fh.write(b"\0" * 64)
    mark, before = len(site.served()), warc_files(data)
    second, log = crawl(tmp_path, toml)
    feeds = served_since(site, mark, f"/cold-{fault}/feed.xml")
    assert len(feeds) == 1 and feeds[0].status == 200, second.stderr  # fetched, unconditionally
    assert "If-None-Match" not in feeds[0].headers
    assert stat(log, "newsarchive/validators_unread") == 1
    assert "1 request(s) sent without validators" in log
    new = warc_files(data) - before
    summary = [
        body for h, body in records(data, new) if h.get("WARC-Target-URI") == "urn:newsarchive:crawl-summary"
    ]
    assert b'"validators_unread": 1' in summary[-1]
    assert second.returncode == 0, second.stderr


# -- 6: a malformed URL costs that URL only ----------------------------------------------


def test_a_malformed_url_in_a_sitemap_or_feed_costs_that_url_only(site, tmp_path):
    base = site.url("/bad-url")
    bad = ["https://[SITE_URL]/2026/01/template-left-over", "http://[::1:bad/", "http://127.0.0.1:99999/x"]
    good = [f"{base}/2026/01/sitemap-article-after-bad-ones", f"{base}/2026/01/feed-article-after-bad-ones"]
    site.add("/bad-url/news.xml", urlset([bad[0], bad[1], good[0], bad[2]]), XML)
    site.add("/bad-url/feed.xml", rss([bad[1], good[1], bad[0]]), "application/rss+xml")
    for url in good:
        site.add(url.removeprefix(site.base), ARTICLE, HTML)
    mark = len(site.served())
    toml = (
        f'[[sites]]\nname = "bad-url"\nfeeds = ["{base}/feed.xml"]\nsitemaps = ["{base}/news.xml"]\n'
        "obey_robots = false\n"
    )
    result, log = crawl(tmp_path, toml)
    fetched = {r.path for r in served_since(site, mark, "/bad-url/2026/")}
    assert fetched == {u.removeprefix(site.base) for u in good}, result.stderr
    assert stat(log, "newsarchive/malformed_urls") == 5
    assert "yields no URLs" not in log


# -- 9: IDN hosts, regexes, session ids, cut-short pages ---------------------------------


def test_an_idn_host_written_in_unicode_keeps_its_links(site, tmp_path, monkeypatch):
    # The loopback site is the crawl's HTTP proxy: requests name the host in their request
    # line, so a page can be served under a host no resolver knows.
    host = "xn--bcher-kva.test"  # bücher.test
    site.add(f"http://{host}/idn/", b'<html><body><a href="/idn/2026/01/an-idn-article-here">a</a>', HTML)
    site.add(f"http://{host}/idn/2026/01/an-idn-article-here", ARTICLE, HTML)
    monkeypatch.setenv("http_proxy", site.base)
    monkeypatch.delenv("no_proxy", raising=False)
    monkeypatch.delenv("NO_PROXY", raising=False)
    mark = len(site.served())
    toml = '[[sites]]\nname = "idn"\nstart_urls = ["http://bücher.test/idn/"]\nobey_robots = false\n'
    result, _ = crawl(tmp_path, toml)
    fetched = [r.path for r in site.served()[mark:]]
    assert f"http://{host}/idn/2026/01/an-idn-article-here" in fetched, result.stderr


def test_a_catastrophic_deny_regex_cannot_hang_the_crawl(site, tmp_path):
    crafted = "/redos/" + "a" * 40 + "!"  # (a+)+$ backtracks 2^40 times on it with Python's re
    site.add(
        "/redos/",
        f'<html><body><a href="{crafted}">x</a><a href="/redos/2026/01/fine-article-x">y</a>'.encode(),
        HTML,
    )
    site.add("/redos/2026/01/fine-article-x", ARTICLE, HTML)
    mark = len(site.served())
    toml = (
        f'[[sites]]\nname = "redos"\nstart_urls = ["{site.url("/redos/")}"]\nobey_robots = false\n'
        "deny = ['(a+)+$']\n"
    )
    result, _ = crawl(tmp_path, toml, timeout=60)
    assert "/redos/2026/01/fine-article-x" in [r.path for r in site.served()[mark:]], result.stderr


def test_session_id_links_do_not_multiply_a_site(site, tmp_path):
    world = "<html><body>{}</body></html>"
    links = []
    for n in range(10):
        for variant in (
            f"/sess/world?PHPSESSID=p{n}",
            f"/sess/world;jsessionid=J{n}",
            f"/sess/world?sid={n}&page=1",
        ):
            links.append(variant)
            article = f"/sess/2026/01/a-session-article-here;jsessionid=J{n}"
            site.add(variant, world.format(f'<a href="{article}">a</a>').encode(), HTML)
            site.add(article, ARTICLE, HTML)
    site.add(
        "/sess/world", world.format('<a href="/sess/2026/01/a-session-article-here">a</a>').encode(), HTML
    )
    site.add("/sess/world?page=1", world.format("").encode(), HTML)
    site.add("/sess/2026/01/a-session-article-here", ARTICLE, HTML)
    site.add("/sess/", world.format("".join(f'<a href="{u}">s</a>' for u in links)).encode(), HTML)
    mark = len(site.served())
    toml = f'[[sites]]\nname = "sess"\nstart_urls = ["{site.url("/sess/")}"]\nobey_robots = false\n'
    result, _ = crawl(tmp_path, toml)
    paths = sorted(r.path for r in served_since(site, mark, "/sess/"))
    assert paths == [
        "/sess/",
        "/sess/2026/01/a-session-article-here",
        "/sess/world",
        "/sess/world?page=1",
    ], result.stderr


def test_a_page_cut_short_by_a_closed_connection_is_archived_as_truncated(site, tmp_path):
    path = "/cut/2026/01/a-page-cut-short-here"
    body = ARTICLE * 50
    # Says 100,000 bytes, sends fewer, and closes the connection.
    site.add(path, body, HTML, headers=[("Content-Length", "100000"), ("Connection", "close")])
    toml = f'[[sites]]\nname = "cut"\nstart_urls = ["{site.url(path)}"]\nobey_robots = false\n'
    result, log = crawl(tmp_path, toml)
    responses = [
        h
        for h, _ in records(tmp_path / "data")
        if h["WARC-Type"] == "response" and h["WARC-Target-URI"].endswith(path)
    ]
    assert len(responses) == 1, result.stderr
    assert responses[0].get("WARC-Truncated") == "disconnect"
    assert stat(log, "newsarchive/truncated") == 1
    assert result.returncode == 1  # the page was lost: said, not exit 0
    assert "crawl: 1 page(s) cut short by their server" in result.stderr
