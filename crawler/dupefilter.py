"""A dupefilter that also knows every article the archive already holds.

Scrapy's ``RFPDupeFilter`` stops a URL from being fetched twice in one crawl (and, with
JOBDIR, across a paused crawl). This subclass is seeded from the archive at open, so an
article fetched by any earlier run is not fetched again. Only requests the spider marks
as articles (``meta["article"]``) are checked against the archive: feeds, sitemaps,
start and section pages are fetched every run, and so are the revisits the spider asks
for (``meta["revisit"]``), which are archived articles by definition. Every request,
those included, is still fetched at most once per run (Scrapy's seen set).
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.dupefilters import RFPDupeFilter
from scrapy.utils.job import job_dir

from archive.warc.fields import parse_warc_date
from crawler.index import archive_index

logger = logging.getLogger(__name__)


class ArchiveDupeFilter(RFPDupeFilter):
    def __init__(self, *args, crawler: Crawler | None = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.crawler = crawler
        self.archived: dict[bytes, str] = {}  # fingerprint -> WARC-Date of its latest 2xx capture

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ArchiveDupeFilter:
        settings = crawler.settings
        return cls(
            job_dir(settings),
            debug=settings.getbool("DUPEFILTER_DEBUG"),
            fingerprinter=crawler.request_fingerprinter,
            crawler=crawler,
        )

    def open(self) -> None:
        super().open()
        if self.crawler is not None:
            self.archived = archived_fingerprints(self.crawler)

    def request_seen(self, request: Request) -> bool:
        if request.meta.get("article"):
            if known_article(request, self.archived.get(self._fingerprint(request)), self.crawler):
                return True
        return super().request_seen(request)


def archived_fingerprints(crawler: Crawler) -> dict[bytes, str]:
    """Request fingerprint -> WARC-Date of the latest 2xx capture, for every URL archived."""
    archived = {}
    for url, capture in archive_index(crawler).latest_ok.items():
        try:
            archived[crawler.request_fingerprinter.fingerprint(Request(url))] = capture.date
        except ValueError:  # a URL Scrapy cannot request is not one it will meet
            continue
    logger.info("archive holds %d fetched URLs; known articles will not be fetched again", len(archived))
    return archived


def known_article(request: Request, fetched: str | None, crawler: Crawler | None) -> bool:
    """An article request whose URL was fetched (at ``fetched``) and is not due again: skip it.
    A revisit is due by definition (the spider asked for it from the schedule)."""
    if fetched is None or request.meta.get("revisit"):
        return False
    if _due_again(fetched, request.meta.get("refetch_after_days")):
        return False
    if crawler is not None:
        crawler.stats.inc_value("newsarchive/known_skipped")
    return True


def _due_again(fetched: str, refetch_after_days: int | None) -> bool:
    """An archived article is fetched again when its site asks for it and its capture is old enough."""
    if refetch_after_days is None:
        return False
    age = datetime.now(UTC) - parse_warc_date(fetched)
    return age >= timedelta(days=refetch_after_days)
