"""Reading feeds and sitemaps for article URLs, safely.

Sitemaps are read with lxml's iterparse (entities not resolved, entries cleared as read),
robots.txt with Scrapy's ``sitemap_urls_from_robots``; gzipped sitemaps are gunzipped with
a size cap.
Feeds are read with lxml directly because no maintained parser both refuses entity
expansion and reports *why* a feed is unreadable (feedparser swallows both): a feed is
read strictly first, then in recovery mode, and the caller learns which happened.
"""

from __future__ import annotations

import io
import zlib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from urllib.parse import urlsplit

from lxml import etree
from scrapy.utils.sitemap import sitemap_urls_from_robots

from crawler.urls import absolute_url, is_http

FEED_ITEM_LINKS = etree.XPath(
    "//*[local-name()='item']/*[local-name()='link']/text()"
    " | //*[local-name()='entry']/*[local-name()='link'][not(@rel) or @rel='alternate']/@href"
)
FEED_ROOTS = {"rss", "feed", "RDF"}
GZIP_MAGIC = b"\x1f\x8b\x08"  # as scrapy.utils.gz.gzip_magic_number checks


class DiscoveryError(ValueError):
    """A feed or sitemap that yields nothing usable; the message says why."""


@dataclass
class Found:
    """What a feed or sitemap pointed at."""

    articles: list[str] = field(default_factory=list)
    sitemaps: list[str] = field(default_factory=list)
    dates: dict[str, str] = field(default_factory=dict)  # URL -> lastmod or news:publication_date
    warning: str | None = None  # readable, but only in recovery mode
    malformed: list[str] = field(default_factory=list)  # entries no URL could be made of: skipped
    not_http: list[str] = field(default_factory=list)  # file://, ftp://, ...: never requested

    def resolve(self, link: str, base: str) -> str | None:
        """``link`` as an absolute http(s) URL, or None (and noted) when it is not one:
        one bad entry costs that entry only, never the document."""
        try:
            url = absolute_url(link, base)
        except ValueError:
            self.malformed.append(link)
            return None
        if not is_http(url):
            self.not_http.append(url)
            return None
        return url


# Hostile XML stays inert: no entity expansion, no DTD or network fetches, no huge trees.
SAFE_XML = {
    "resolve_entities": False,
    "no_network": True,
    "huge_tree": False,
    "load_dtd": False,
    "remove_comments": True,
}


def _parser(recover: bool) -> etree.XMLParser:
    return etree.XMLParser(recover=recover, **SAFE_XML)


def read_feed(body: bytes, base_url: str) -> Found:
    """Article URLs of an RSS 0.9x/1.0/2.0 or Atom feed."""
    warning = None
    try:
        root = etree.fromstring(body, parser=_parser(recover=False))
    except etree.XMLSyntaxError as exc:
        warning = f"not well-formed XML ({exc}); read in recovery mode"
        try:
            root = etree.fromstring(body, parser=_parser(recover=True))
        except etree.XMLSyntaxError:
            root = None
        if root is None:
            raise DiscoveryError(f"not valid XML: {exc}") from None
    local = etree.QName(root).localname
    if local not in FEED_ROOTS:
        raise DiscoveryError(f"not an RSS or Atom feed (root element <{local}>)")
    found = Found(warning=warning)
    urls = (found.resolve(str(link), base_url) for link in FEED_ITEM_LINKS(root))
    found.articles = list(dict.fromkeys(url for url in urls if url))  # in order, once each
    if not found.articles and warning:
        raise DiscoveryError(warning)
    return found


def sitemap_body(body: bytes, max_size: int) -> bytes:
    """The XML of a sitemap, gunzipped (size-capped) when it came as a .gz file.

    By hand rather than scrapy.utils.gz.gunzip, which returns a truncated stream's
    beginning without saying so: a cut-off sitemap must be reported, not half-read.
    """
    if body[:3] != GZIP_MAGIC:
        return body
    decoder = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        xml = decoder.decompress(body, max_size + 1)
    except zlib.error as exc:
        raise OSError(f"corrupt gzip: {exc}") from None
    if len(xml) > max_size:
        raise OSError(f"over the {max_size:,}-byte cap once gunzipped")
    if not decoder.eof:
        raise OSError(f"truncated gzip (ends after {len(xml):,} bytes of XML)")
    return xml


def read_sitemap(body: bytes, url: str, max_size: int) -> Found:
    """Entries of a sitemap, sitemap index, news sitemap, or a robots.txt's ``Sitemap:`` lines.

    Read with lxml's iterparse, each entry cleared once read, so a 50 MB sitemap costs
    little memory. By hand rather than Scrapy's ``Sitemap``, which flattens
    ``<news:news>`` to an empty string: a news sitemap's publication date is what tells
    a first crawl how far back to reach.
    """
    if urlsplit(url).path.endswith("/robots.txt"):
        found = Found()
        for line in sitemap_urls_from_robots(body):  # without a base: each line resolved on its own
            if sitemap := found.resolve(line, url):
                found.sitemaps.append(sitemap)
        return found
    try:
        xml = sitemap_body(body, max_size)
    except OSError as exc:  # truncated or corrupt gzip, or over the size cap
        raise DiscoveryError(f"unreadable gzip: {exc}") from None
    found = Found()
    root_name = None
    try:
        for event, element in etree.iterparse(
            io.BytesIO(xml), events=("start", "end"), remove_pis=True, **SAFE_XML
        ):
            name = etree.QName(element).localname
            if root_name is None:
                root_name = name
                if name not in ("urlset", "sitemapindex"):
                    raise DiscoveryError(f"not a sitemap (root element <{name}>)")
                continue
            if event != "end" or name not in ("url", "sitemap"):
                continue
            fields: dict[str, str] = {}
            for child in element.iter():  # the first of a name wins: <image:loc> comes after <loc>
                if isinstance(child.tag, str):
                    fields.setdefault(etree.QName(child).localname, (child.text or "").strip())
            element.clear()
            while element.getprevious() is not None:  # drop entries already read
                del element.getparent()[0]
            loc = found.resolve(fields["loc"], url) if fields.get("loc") else None
            if loc is None:
                continue
            date = fields.get("publication_date") or fields.get("lastmod") or None
            if date:
                found.dates[loc] = date
            (found.sitemaps if name == "sitemap" else found.articles).append(loc)
    except etree.XMLSyntaxError as exc:
        if root_name is None:
            raise DiscoveryError(f"not valid XML: {exc}") from None
        found.warning = f"not well-formed XML ({exc}); read up to the error"
    if root_name is None:
        raise DiscoveryError("not valid XML: empty document")
    return found


def parse_date(value: str) -> datetime | None:
    """A W3C datetime as sitemaps write it (a day, or a time with an offset), in UTC."""
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed.replace(tzinfo=parsed.tzinfo or UTC).astimezone(UTC)
