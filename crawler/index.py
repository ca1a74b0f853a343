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

from scrapy.crawler import Crawler

from archive.store.lookup import ArchiveIndex

EXTENSION_PATH = f"{__name__}.ArchiveIndexExtension"


class ArchiveIndexExtension:
    """Holds the crawl's ``ArchiveIndex``; the archive is scanned when first asked for."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ArchiveIndexExtension:
        return cls(Path(crawler.settings.get("NEWSARCHIVE_DATA") or "data"))

    @cached_property
    def index(self) -> ArchiveIndex:
        return ArchiveIndex(self.data_dir)


def archive_index(crawler: Crawler) -> ArchiveIndex:
    """The crawl's ``ArchiveIndex``. Usable once Scrapy has built the extensions: in the
    downloader middlewares, the dupefilter and the spider's callbacks, not in the
    spider's ``__init__`` (the spider is built first)."""
    extension = crawler.get_extension(ArchiveIndexExtension)
    if extension is None:
        raise RuntimeError(f"the archive index is not available: EXTENSIONS must enable {EXTENSION_PATH}")
    return extension.index
