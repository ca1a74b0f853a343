"""Feeds and sitemaps: what they list, and hostile or broken ones handled safely."""

from __future__ import annotations

import gzip
import resource

import pytest

from crawler.discovery import DiscoveryError, parse_date, read_feed, read_sitemap
from tests.helpers.pages import BOMB

BASE = "https://news.test/"


def test_rss_2_atom_and_rss_1_links():
    rss = b"<rss version='2.0'><channel><item><link> /2024/one </link></item></channel></rss>"
    atom = (
        b"<feed xmlns='http://www.w3.org/2005/Atom'><entry><link rel='alternate' href='https://news.test/two'/>"
        b"<link rel='enclosure' href='https://news.test/two.mp3'/></entry></feed>"
    )
    rdf = (
        b"<rdf:RDF xmlns:rdf='http://www.w3.org/1999/02/22-rdf-syntax-ns#' xmlns='http://purl.org/rss/1.0/'>"
        b"<item><link>https://news.test/three</link></item></rdf:RDF>"
    )
    assert read_feed(rss, BASE).articles == ["https://news.test/2024/one"]
    assert read_feed(atom, BASE).articles == ["https://news.test/two"]
    assert read_feed(rdf, BASE).articles == ["https://news.test/three"]


def test_entity_bomb_is_not_expanded():
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with pytest.raises(DiscoveryError, match="amplification"):  # 20^7 * 62 bytes: about 79 GB
        read_feed(BOMB, BASE)
    grown_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
    assert grown_kb < 50_000


def test_broken_but_recoverable_feed_is_read_with_a_warning():
    found = read_feed(b"<rss><channel><item><link>https://news.test/x</link></item><item><link>oops", BASE)
    assert "https://news.test/x" in found.articles and "recovery mode" in found.warning


@pytest.mark.parametrize(
    "body, message",
    [
        (b"Service unavailable {{{ <<<", "not valid XML"),
        (b"<html><body>hello</body></html>", "not an RSS or Atom feed"),
        (b"", "not valid XML"),
    ],
)
def test_unusable_feeds_say_why(body, message):
    with pytest.raises(DiscoveryError, match=message):
        read_feed(body, BASE)


def test_sitemap_index_urlset_gzip_and_robots():
    index = (
        b"<sitemapindex xmlns='http://www.sitemaps.org/schemas/sitemap/0.9'>"
        b"<sitemap><loc>https://news.test/s1.xml.gz</loc></sitemap></sitemapindex>"
    )
    urlset = (
        b"<urlset xmlns='http://www.sitemaps.org/schemas/sitemap/0.9'>"
        b"<url><loc>https://news.test/a</loc></url><url><loc>https://news.test/b</loc></url></urlset>"
    )
    assert read_sitemap(index, BASE + "sitemap.xml", 10**6).sitemaps == ["https://news.test/s1.xml.gz"]
    assert read_sitemap(gzip.compress(urlset), BASE + "s1.xml.gz", 10**6).articles == [
        "https://news.test/a",
        "https://news.test/b",
    ]
    robots = b"User-agent: *\nDisallow: /x/\nSitemap: https://news.test/news-sitemap.xml\n"
    assert read_sitemap(robots, BASE + "robots.txt", 10**6).sitemaps == ["https://news.test/news-sitemap.xml"]


def test_broken_sitemaps_say_why():
    with pytest.raises(DiscoveryError, match="unreadable gzip"):
        entries = "".join(f"<url><loc>https://news.test/{i}</loc></url>" for i in range(2000))
        whole = gzip.compress(f"<urlset>{entries}</urlset>".encode())
        read_sitemap(whole[: len(whole) // 2], BASE + "s.xml.gz", 10**6)
    with pytest.raises(DiscoveryError, match="unreadable gzip"):  # over the size cap
        read_sitemap(gzip.compress(b"<urlset>" + b" " * 100_000 + b"</urlset>"), BASE + "s.xml.gz", 1000)
    with pytest.raises(DiscoveryError, match="not a sitemap"):
        read_sitemap(b"<html><body/></html>", BASE + "s.xml", 10**6)


NEWS_SITEMAP = b"""<?xml version="1.0" encoding="UTF-8"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"
        xmlns:news="http://www.google.com/schemas/sitemap-news/0.9"
        xmlns:image="http://www.google.com/schemas/sitemap-image/1.1">
  <url>
    <loc>https://news.test/world/2026/11/22/russia-china-talks</loc>
    <news:news>
      <news:publication><news:name>News Test</news:name><news:language>en</news:language></news:publication>
      <news:publication_date>2026-11-22T08:15:00+01:00</news:publication_date>
      <news:title>Russia and China hold talks</news:title>
    </news:news>
    <image:image><image:loc>https://news.test/img/1.jpg</image:loc></image:image>
  </url>
  <url><loc>https://news.test/world/2020/01/01/old-story</loc><lastmod>2020-01-01</lastmod></url>
</urlset>"""


def test_news_sitemap_dates_are_read_and_image_locs_ignored():
    found = read_sitemap(NEWS_SITEMAP, BASE + "news-sitemap.xml", 10**6)
    assert found.articles == [
        "https://news.test/world/2026/11/22/russia-china-talks",
        "https://news.test/world/2020/01/01/old-story",
    ]
    assert found.dates == {
        "https://news.test/world/2026/11/22/russia-china-talks": "2026-11-22T08:15:00+01:00",
        "https://news.test/world/2020/01/01/old-story": "2020-01-01",
    }
    assert parse_date("2026-11-22T08:15:00+01:00").isoformat() == "2026-11-22T07:15:00+00:00"
    assert parse_date("2020-01-01").isoformat() == "2020-01-01T00:00:00+00:00"
    assert parse_date("yesterday") is None


@pytest.mark.slow  # 50 MB of XML made and parsed
def test_a_50_mb_sitemap_is_read_within_a_memory_bound():
    entry = b"<url><loc>https://news.test/other/%08d</loc><lastmod>2026-11-22</lastmod></url>\n"
    count = 50 * 2**20 // len(entry % 0)
    xml = (
        b"<urlset xmlns='http://www.sitemaps.org/schemas/sitemap/0.9'>"
        + b"".join(entry % i for i in range(count))
        + b"</urlset>"
    )
    body = gzip.compress(xml, compresslevel=1)
    del xml
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    found = read_sitemap(body, BASE + "big.xml.gz", 64 * 2**20)
    grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    assert len(found.articles) == count
    assert grown_mb < 250  # the 50 MB of XML, the URL list, and little else
