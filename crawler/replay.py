"""Downloader middleware that answers every request from the archive, never the network.

`newsarchive replay` swaps it in for the WARC middleware, so changed spider logic can be
re-run over yesterday's crawl. The response goes on through the other middlewares as
the live one did (decompression, redirects, robots.txt), so the spider sees what it saw.
"""

from __future__ import annotations

import logging

from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Headers, Request, Response
from scrapy.responsetypes import responsetypes

from archive.warc.body import undo_content_encoding
from archive.warc.reader import WarcRecord
from crawler.index import archive_index

logger = logging.getLogger(__name__)


def response_from_record(record: WarcRecord, body: bytes, request: Request, decode: bool = False) -> Response:
    """A Scrapy response rebuilt from an archived one, ``body`` its entity (chunked framing
    undone, as ``ArchiveIndex.lookup`` gives it). With ``decode``, Content-Encoding is undone
    here too (for callers past HttpCompressionMiddleware)."""
    skip = ("transfer-encoding", "content-encoding", "content-length") if decode else ("transfer-encoding",)
    if decode:
        body, _ = undo_content_encoding(body, record.http_header("Content-Encoding"))
    headers = Headers()
    for name, value in record.http_headers:
        if name.lower() not in skip:
            headers.appendlist(name, value)
    response_class = responsetypes.from_args(headers=headers, url=request.url, body=body)
    return response_class(
        url=request.url, status=record.status or 200, headers=headers, body=body, request=request
    )


class ReplayMiddleware:
    def __init__(self, crawler: Crawler) -> None:
        self.index = archive_index(crawler)
        self.stats = crawler.stats
        self.urls_file = crawler.settings.get("REPLAY_URLS_FILE")
        self.outcomes: list[tuple[str, str]] = []
        logger.info("replaying from an archive of %d URLs", len(self.index))
        crawler.signals.connect(self.spider_closed, signal=signals.spider_closed)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ReplayMiddleware:
        return cls(crawler)

    def process_request(self, request: Request) -> Response:
        found = self.index.lookup(request.url)
        if found is None:
            self.stats.inc_value("newsarchive/replay_misses")
            self.outcomes.append(("miss", request.url))
            logger.info("replay miss: %s is not in the archive", request.url)
            raise IgnoreRequest(f"not in the archive: {request.url}")
        record, body = found
        self.stats.inc_value("newsarchive/replay_hits")
        self.outcomes.append(("hit", request.url))
        return response_from_record(record, body, request)

    def spider_closed(self) -> None:
        if self.urls_file:
            with open(self.urls_file, "w", encoding="utf-8") as fh:
                fh.writelines(f"{outcome}\t{url}\n" for outcome, url in self.outcomes)
