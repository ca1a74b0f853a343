"""The crawl's one view of the archive, shared by the components that read it.

The spider (conditional requests, 304s, sitemap dates), the dupefilters (known
articles), the WARC middleware (``WARC_DEDUP``) and replay all ask the same
``ArchiveIndex``. Scanning the archive is the costly part of starting a crawl, so it is
done once, on first use, and held by a Scrapy extension: extensions are built before
the engine, hence before the downloader middlewares, the scheduler and its dupefilter,
and every component finds this one with ``crawler.get_extension``.
"""

from __future__ import annotations

from functools import cached_property
from pathlib import Path

from scrapy import signals
from scrapy.crawler import Crawler

from archive.store.lookup import ArchiveIndex

EXTENSION_PATH = f"{__name__}.ArchiveIndexExtension"
STORE_PROBLEM_STAT = "newsarchive/store_unusable"  # why news.db could not be read, if it could not


class ArchiveIndexExtension:
    """Holds the crawl's ``ArchiveIndex``; the archive is scanned when first asked for."""

    def __init__(self, data_dir: Path, crawler: Crawler | None = None) -> None:
        self.data_dir = data_dir
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ArchiveIndexExtension:
        extension = cls(Path(crawler.settings.get("NEWSARCHIVE_DATA") or "data"), crawler)
        crawler.signals.connect(extension.spider_closed, signal=signals.spider_closed)
        return extension

    @cached_property
    def index(self) -> ArchiveIndex:
        return ArchiveIndex(self.data_dir)

    def spider_closed(self) -> None:
        """A store found unusable (at the scan or later) goes in the stats, for the crawl's
        summary and exit code."""
        index = self.__dict__.get("index")  # cached_property's value, if it was ever built
        if index is not None and index.store_problem and self.crawler is not None:
            self.crawler.stats.set_value(STORE_PROBLEM_STAT, index.store_problem)


def archive_index(crawler: Crawler) -> ArchiveIndex:
    """The crawl's ``ArchiveIndex``. Usable once Scrapy has built the extensions: in the
    downloader middlewares, the dupefilter and the spider's callbacks, not in the
    spider's ``__init__`` (the spider is built first)."""
    extension = crawler.get_extension(ArchiveIndexExtension)
    if extension is None:
        raise RuntimeError(f"the archive index is not available: EXTENSIONS must enable {EXTENSION_PATH}")
    return extension.index
