"""The one generic spider: finds articles of the listed sites by links, feeds and sitemaps.

It only discovers and fetches; archiving is the WARC middleware's job and reading the
archive is ``archive/``'s. Requests carry ``meta["site"]`` (which entry of the site
list), ``meta["article"]`` (an article URL: not fetched again once archived), and
``meta["route"]``/``meta["found_on"]`` (how and where the URL was found: the middleware
archives them as NewsArchive-Discovered, and extraction weighs them). An archived article
due for a look again (its site's ``revisit`` steps, ``crawler/revisits.py``) is requested
at start, conditionally, with the route ``revisit`` and ``meta["revisit"]``.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import UTC, datetime, timedelta

import scrapy
from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import IgnoreRequest
from scrapy.http import HtmlResponse, Request, Response
from scrapy.linkextractors import LinkExtractor
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.python.failure import Failure
from w3lib.url import canonicalize_url

from archive.warc.fields import WARC_DATE
from crawler.discovery import DiscoveryError, Found, parse_date, read_feed, read_sitemap
from crawler.index import EXTENSION_PATH, archive_index
from crawler.replay import response_from_record
from crawler.revisits import due_revisits
from crawler.sites import Site, load_sites
from crawler.urls import clean_url, is_article_url, is_http, is_wanted

logger = logging.getLogger(__name__)

SOURCES = ("start", "feed", "sitemap")  # where news is found: fetched on every run


def _archived_copy_on_304(callback: Callable) -> Callable:
    """A source answered 304: run ``callback`` on the archived copy the 304 confirms."""

    @functools.wraps(callback)
    def wrapper(self: NewsSpider, response: Response) -> Iterator[Request]:
        if response.status == 304:
            response = self._unchanged(response)
            if response is None:
                return
        yield from callback(self, response)

    return wrapper


def _older(date: str | None, than: datetime | None) -> bool:
    parsed = parse_date(date) if date else None
    return parsed is not None and than is not None and parsed < than


class NewsSpider(scrapy.Spider):
    name = "news"

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args, **kwargs) -> NewsSpider:
        """Also enable the archive index, which this spider and the project's components
        cannot run without. Not in settings.py, where ``-s EXTENSIONS=...`` would replace it,
        nor in ``update_settings``, whose additions to a component dict are lost when a
        ``Crawler`` is handed to ``CrawlerProcess.crawl``: Scrapy builds the extensions
        right after the spider."""
        spider = super().from_crawler(crawler, *args, **kwargs)
        crawler.settings["EXTENSIONS"].set(EXTENSION_PATH, 0, priority="spider")
        crawler.signals.connect(spider._count_revisit, signal=signals.response_received)
        return spider

    def __init__(self, sites: str = "seeds/sites.toml", site: str = "", *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.sites: list[Site] = load_sites(sites, [s for s in site.split(",") if s])
        self.by_name = {s.name: s for s in self.sites}
        self.site_names = list(self.by_name)
        self.source_urls = {u for s in self.sites for u in (*s.start_urls, *s.feeds, *s.sitemaps)}
        self.allowed_domains = sorted({d for s in self.sites for d in s.allowed_domains})
        # Hosts and `deny` are checked by is_wanted (LinkExtractor's allow_domains compares
        # host:port, and its deny would run the site's regexes on Python's backtracking `re`).
        self.link_extractors = {s.name: LinkExtractor() for s in self.sites}
        self.requested_sources: set[str] = set()  # canonical URLs of the feeds and sitemaps requested

    async def start(self) -> AsyncIterator[Request]:
        # Revisits first: queued before any feed is read, an article both due and listed
        # again is fetched once, as the revisit (the dupefilter drops the second request).
        for request in self._revisit_requests():
            yield request
        for site in self.sites:
            for url in site.start_urls:
                yield self._request(url, site, self.parse_page, kind="start", depth=0)
            for url in site.feeds:
                if request := self._source_request(url, site, "feed"):
                    yield request
            for url in site.sitemaps:
                if request := self._source_request(url, site, "sitemap"):
                    yield request

    def _revisit_requests(self) -> Iterator[Request]:
        """The archived articles of the crawled sites whose next ``revisit`` step has come."""
        now = datetime.now(UTC)
        index = archive_index(self.crawler)
        for site in self.sites:
            # The site list may have changed since: a host dropped or a `deny` added is obeyed.
            due = [
                (url, since)
                for url, since in due_revisits(index, site.name, site.revisit, now)
                if is_wanted(url, site)
            ]
            if due:
                logger.info("site %s: %d archived article(s) due for a revisit", site.name, len(due))
                self.crawler.stats.inc_value("newsarchive/revisits_due", len(due))
            for url, since in due:
                request = self._request(url, site, self.parse_revisit, kind="article", route="revisit")
                # The step it is due for: a fleet fetches it once, whoever's archive found it due.
                request.meta["revisit_since"] = since.strftime(WARC_DATE)
                yield request

    def _count_revisit(self, response: Response, request: Request) -> None:
        """Count the revisits answered (redirects and retries are followed before this
        signal, so each revisit is counted once), the 304s among them as unchanged."""
        if request.meta.get("revisit"):
            self.crawler.stats.inc_value("newsarchive/revisits")
            if response.status == 304:
                self.crawler.stats.inc_value("newsarchive/revisits_unchanged")

    def _request(
        self,
        url: str,
        site: Site,
        callback: Callable,
        *,
        kind: str,
        depth: int | None = None,
        route: str = "start",
        found_on: str = "",
    ) -> Request:
        """``route`` and ``found_on``: how the URL was found (start: the site list; feed,
        sitemap, link) and where; archived with the response (NewsArchive-Discovered)."""
        meta = {
            "site": site.name,
            "kind": kind,
            "link_depth": site.max_depth if depth is None else depth,
            "route": route,
            "found_on": found_on,
        }
        if kind == "article":
            meta["article"] = True
            if site.refetch_after_days is not None:
                meta["refetch_after_days"] = site.refetch_after_days
            if route == "revisit":  # archived, looked at again: past the known-article check
                meta["revisit"] = True
        if not site.obey_robots:
            meta["dont_obey_robotstxt"] = True
        if site.download_timeout is not None:
            meta["download_timeout"] = site.download_timeout
        if site.download_maxsize is not None:
            meta["download_maxsize"] = site.download_maxsize
        headers = {"User-Agent": site.user_agent} if site.user_agent else {}
        if kind in SOURCES or meta.get("revisit"):
            # Fetched on every run (they are how news is found), or looked at again, but
            # conditionally: a 304 costs the site nothing and is archived as "unchanged".
            meta["handle_httpstatus_list"] = [304]
            headers.update(self._validators(url))
        return Request(
            url,
            callback=callback,
            errback=self.on_error,
            meta=meta,
            headers=headers,
            dont_filter=kind in SOURCES,
        )

    def _source_request(self, url: str, site: Site, kind: str, found_on: str = "") -> Request | None:
        """A feed or sitemap request, or None when this run has requested that URL already:
        a sitemap that lists itself, or A -> B -> A, is fetched once (sources skip the dupefilter)."""
        if not self._first_request(url):
            self.crawler.stats.inc_value("newsarchive/sources_repeated")
            logger.info("site %s: %s %s already requested in this run: not again", site.name, kind, url)
            return None
        callback = self.parse_feed if kind == "feed" else self.parse_sitemap
        route = "sitemap" if found_on else "start"  # a sitemap index's child, or the site list's
        return self._request(url, site, callback, kind=kind, route=route, found_on=found_on)

    def _first_request(self, url: str) -> bool:
        """Note ``url`` as a source requested in this run; False if it was already."""
        key = canonicalize_url(url)
        if key in self.requested_sources:
            return False
        self.requested_sources.add(key)
        return True

    def _archived(self, url: str) -> tuple | None:
        """The last 2xx capture of ``url`` (record, body), or None: also when its WARC file was
        moved away or cannot be read, which must cost a conditional request, never the crawl."""
        try:
            return archive_index(self.crawler).lookup(url, ok_only=True)
        except (OSError, ValueError) as exc:
            self.crawler.stats.inc_value("newsarchive/validators_unread")
            logger.warning("archived copy of %s unreadable (%s): requested without validators", url, exc)
            return None

    def _validators(self, url: str) -> dict[str, str]:
        """If-None-Match / If-Modified-Since from the last 2xx capture of ``url``."""
        found = self._archived(url)
        if found is None:
            return {}
        record, _ = found
        headers = {}
        if etag := record.http_header("ETag"):
            headers["If-None-Match"] = etag
        if last_modified := record.http_header("Last-Modified"):
            headers["If-Modified-Since"] = last_modified
        return headers

    def _unchanged(self, response: Response) -> Response | None:
        """For a 304, the archived copy it confirms (as a Response); None if there is none."""
        site, kind = response.meta["site"], response.meta["kind"]
        self.crawler.stats.inc_value("newsarchive/unchanged")
        logger.info("site %s: %s %s unchanged since the last run (304)", site, kind, response.url)
        found = self._archived(response.url)
        if found is None:
            return None
        record, body = found
        return response_from_record(record, body, response.request, decode=True)

    def _page_request(self, url: str, site: Site, depth: int, found_on: str) -> Request | None:
        url = clean_url(url)
        if url in self.source_urls or not is_wanted(url, site):  # sources are requested once, at start
            return None
        kind = "article" if is_article_url(url, site) else "page"
        return self._request(
            url, site, self.parse_page, kind=kind, depth=depth, route="link", found_on=found_on
        )

    # -- callbacks --------------------------------------------------------------------

    def parse_revisit(self, response: Response) -> Iterator[Request]:
        """A revisited article: archived already (a 304 too), its links not followed."""
        if response.status == 304:
            logger.info("site %s: article %s unchanged (304)", response.meta["site"], response.url)
        return iter(())

    @_archived_copy_on_304
    def parse_page(self, response: Response) -> Iterator[Request]:
        """Follow links from start and section pages up to the site's ``max_depth``.

        Links of article pages are not followed: news is found on home, section and
        listing pages, in feeds and in sitemaps, and an article's ~200 links (menus,
        related stories) are the bulk of a naive crawler's CPU time.
        """
        site = self.by_name[response.meta["site"]]
        depth = response.meta["link_depth"]
        if (
            depth >= site.max_depth
            or response.meta["kind"] == "article"
            or not isinstance(response, HtmlResponse)
        ):
            return
        for link in self.link_extractors[site.name].extract_links(response):
            request = self._page_request(link.url, site, depth + 1, response.url)
            if request is not None:
                yield request

    @_archived_copy_on_304
    def parse_feed(self, response: Response) -> Iterator[Request]:
        site = self.by_name[response.meta["site"]]
        found = self._read_source(site, "feed", response, read_feed)
        if found is not None:
            yield from self._articles(found.articles, site, "feed", response.url)

    @_archived_copy_on_304
    def parse_sitemap(self, response: Response) -> Iterator[Request]:
        site = self.by_name[response.meta["site"]]
        self._first_request(response.url)  # where a redirect led: not requested again either
        read = functools.partial(read_sitemap, max_size=self.settings.getint("SITEMAP_MAX_SIZE"))
        found = self._read_source(site, "sitemap", response, read)
        if found is None:
            return
        for url in found.sitemaps:
            if (
                is_http(url)
                and site.is_allowed_host(url)
                and not self._unchanged_since_read(url, found.dates.get(url))
                and (request := self._source_request(url, site, "sitemap", response.url))
            ):
                yield request
        articles = found.articles
        if site.max_age_days is not None:
            oldest = datetime.now(UTC) - timedelta(days=site.max_age_days)
            articles = [u for u in articles if not _older(found.dates.get(u), oldest)]
            self.crawler.stats.inc_value("newsarchive/too_old", len(found.articles) - len(articles))
        yield from self._articles(articles, site, "sitemap", response.url)

    def _unchanged_since_read(self, sitemap_url: str, lastmod: str | None) -> bool:
        """A child sitemap whose lastmod is older than our last good copy of it: skip it."""
        if not lastmod:
            return False
        capture = archive_index(self.crawler).latest_ok.get(sitemap_url)
        if capture is None or not _older(lastmod, parse_date(capture.date)):
            return False
        self.crawler.stats.inc_value("newsarchive/sitemaps_unchanged")
        logger.info(
            "site sitemap %s unchanged since %s (lastmod %s): skipped", sitemap_url, capture.date, lastmod
        )
        return True

    def _articles(self, urls: list[str], site: Site, route: str, source: str) -> Iterator[Request]:
        # Feeds and sitemaps list articles by definition; a site's `allow` still narrows them.
        wanted: dict[str, None] = {}  # a dict, not a list: 50,000 lookups stay linear
        for url in map(clean_url, urls):
            if url not in wanted and is_wanted(url, site) and (not site.allow or is_article_url(url, site)):
                wanted[url] = None
        logger.info(
            "site %s: %s %s lists %d URLs, %d of them articles to fetch",
            site.name,
            route,
            source,
            len(urls),
            len(wanted),
        )
        self.crawler.stats.inc_value(f"newsarchive/discovered/{route}", len(wanted))
        for url in wanted:
            yield self._request(url, site, self.parse_page, kind="article", route=route, found_on=source)

    def _note_skipped(self, site: Site, route: str, url: str, found: Found) -> None:
        """Entries of a feed or sitemap that are no http(s) URL: counted, the rest is used."""
        for kind, skipped in (("malformed", found.malformed), ("not_http", found.not_http)):
            if skipped:
                self.crawler.stats.inc_value(f"newsarchive/{kind}_urls", len(skipped))
                logger.warning(
                    "site %s: %s %s: %d %s URL(s) skipped, e.g. %r",
                    site.name,
                    route,
                    url,
                    len(skipped),
                    kind.replace("_", "-"),
                    skipped[0][:200],
                )

    def closed(self, reason: str) -> None:
        unread = self.crawler.stats.get_value("newsarchive/validators_unread", 0)
        if unread:
            logger.warning(
                "%d request(s) sent without validators: their archived copies could not be read "
                "(WARC files moved or unreadable)",
                unread,
            )

    def _read_source(
        self, site: Site, route: str, response: Response, read: Callable[[bytes, str], Found]
    ) -> Found | None:
        """A feed or sitemap read (``read``), its warning logged and its skipped entries
        counted; None, counted as a failed source, when it yields nothing at all."""
        try:
            found = read(response.body, response.url)
        except DiscoveryError as exc:
            self._source_failed(site, route, response.url, str(exc))
            return None
        if found.warning:
            logger.warning("site %s: %s %s: %s", site.name, route, response.url, found.warning)
        self._note_skipped(site, route, response.url, found)
        return found

    def _source_failed(self, site: Site, route: str, url: str, reason: str) -> None:
        logger.error("site %s: %s %s yields no URLs: %s", site.name, route, url, reason)
        self.crawler.stats.inc_value(f"newsarchive/source_errors/{site.name}")

    def on_error(self, failure: Failure) -> None:
        """Log a failed fetch clearly; the response (if any) is already archived."""
        request = failure.request
        site = request.meta.get("site", "?")
        kind = request.meta.get("kind", "page")
        if failure.check(HttpError):
            status = failure.value.response.status
            logger.warning("site %s: %s %s answered HTTP %d", site, kind, request.url, status)
        elif failure.check(IgnoreRequest):  # robots.txt, offsite, size cap: not a fetch failure
            logger.info("site %s: %s %s not fetched: %s", site, kind, request.url, failure.getErrorMessage())
            return
        else:
            logger.warning("site %s: %s %s failed: %s", site, kind, request.url, failure.getErrorMessage())
        if kind in SOURCES:
            self.crawler.stats.inc_value(f"newsarchive/source_errors/{site}")
