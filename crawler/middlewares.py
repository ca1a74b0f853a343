"""Downloader middleware that archives every exchange to WARC as it went over the wire.

It sits at the downloader end of the chain (priority 950, after HttpCompression at 590
and Redirect at 600), so ``process_response`` sees each response first: body still
compressed, 3xx before they are followed, 4xx/5xx before they are retried. Failures with
no response become WARC ``metadata`` records so the archive says what was tried.

A write that fails (a full disk) stops the crawl: it is said once, in one line (and in
the ``newsarchive/warc_write_failed`` stat, which ``crawl`` turns into exit code 5); the
file ends with its last whole record, readable by every tool at once (writer.py).
"""

from __future__ import annotations

import logging
import os
import socket
from collections import Counter
from datetime import UTC, datetime
from http import HTTPStatus
from pathlib import Path
from urllib.parse import ParseResult

import scrapy
from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Headers, Request, Response
from scrapy.utils.defer import deferred_from_coro
from scrapy.utils.httpobj import urlparse_cached

from archive.warc.fields import (
    CRAWL_SUMMARY_URI,
    NEWSARCHIVE_DISCOVERED_HEADER,
    NEWSARCHIVE_SITE_HEADER,
    WARC_DATE,
    discovered_value,
)
from archive.warc.files import closed_name
from archive.warc.recover import recover_orphans
from archive.warc.writer import Exchange, WarcWriter
from crawler.index import archive_index

logger = logging.getLogger(__name__)


REASONS = {status.value: status.phrase for status in HTTPStatus}  # status code -> reason phrase
WRITE_FAILED_STAT = "newsarchive/warc_write_failed"  # why the WARC could not be written, if it could not
WRITE_FAILED_REASON = "warc_write_failed"  # the crawl's finish reason then


def _header_pairs(headers: Headers) -> list[tuple[str, str]]:
    """Every value of every header (Set-Cookie and Link repeat).

    Read with ``dict.items``: ``Headers`` holds each name's values as a list, and its own
    ``items()`` looks every name up again through ``getlist``, which normalises it again.
    """
    return [
        (name.decode("latin-1"), value.decode("latin-1"))
        for name, values in dict.items(headers)
        for value in values
    ]


def _request_target(parts: ParseResult) -> str:
    """Path, params and query: the request line's target, as Twisted builds it from the URL."""
    target = (parts.path or "/") + (f";{parts.params}" if parts.params else "")
    return target + (f"?{parts.query}" if parts.query else "")


def response_header_pairs(response: Response) -> list[tuple[str, str]]:
    """The response's headers, Transfer-Encoding renamed: Twisted has already undone that
    hop-by-hop coding, and tools reading the record would try to de-chunk it again."""
    pairs = _header_pairs(response.headers)
    for i, (name, value) in enumerate(pairs):
        if name.lower() == "transfer-encoding":
            pairs[i] = ("X-Archive-Orig-Transfer-Encoding", value)
    return pairs


def request_header_pairs(request: Request) -> list[tuple[str, str]]:
    pairs = _header_pairs(request.headers)
    if not any(name.lower() == "host" for name, _ in pairs):
        pairs.insert(0, ("Host", urlparse_cached(request).netloc))
    return pairs


class WarcArchiveMiddleware:
    """Writes a response + request record pair for every response the crawler receives."""

    def __init__(self, crawler: Crawler) -> None:
        settings = crawler.settings
        self.crawler = crawler
        self.stats = crawler.stats
        data = Path(settings.get("NEWSARCHIVE_DATA") or "data")
        recover_orphans(data / "warc")
        self.writer = WarcWriter(
            data / "warc",
            max_size=settings.getint("WARC_MAX_SIZE"),
            warcinfo={
                "software": f"newsarchive (Scrapy {scrapy.__version__})",
                "operator": settings.get("WARC_OPERATOR", ""),
                "http-header-user-agent": settings.get("USER_AGENT", ""),
                "robots": "obey" if settings.getbool("ROBOTSTXT_OBEY") else "ignore",
                "description": "newsarchive crawl",
            },
        )
        self.started = datetime.now(UTC)
        # WARC_DEDUP: payload digest -> (URI, WARC-Date) of the record that holds that payload.
        self.dedup: dict[str, tuple[str, str]] | None = (
            dict(archive_index(crawler).payloads) if settings.getbool("WARC_DEDUP") else None
        )
        self.site_responses: Counter[str] = Counter()
        self.site_errors: Counter[str] = Counter()
        self.site_bytes: Counter[str] = Counter()
        self.write_failure: str | None = None  # the first failed write, said once
        crawler.signals.connect(self.spider_closed, signal=signals.spider_closed)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> WarcArchiveMiddleware:
        return cls(crawler)

    def _write_failed(self, exc: OSError, stop: bool = True) -> None:
        """The first failed write: one line, a stat, and the crawl stops (with ``stop``);
        nothing more can be archived, and a page not archived must not count as crawled."""
        if self.write_failure is not None:
            return
        path = self.writer.current_path
        where = f"the WARC file {closed_name(path)}" if path else f"a WARC file in {self.writer.directory}"
        self.write_failure = (
            f"cannot write {where}: {exc.strerror or exc}; the crawl stopped, the file ends with its last"
            " whole record (free some space and crawl again)"
        )
        logger.error(self.write_failure)
        self.stats.set_value(WRITE_FAILED_STAT, self.write_failure)
        if stop and self.crawler.engine is not None:
            deferred_from_coro(self.crawler.engine.close_spider_async(reason=WRITE_FAILED_REASON))

    def process_response(self, request: Request, response: Response) -> Response:
        if self.write_failure is not None:  # the crawl is stopping: nothing more is archived
            raise IgnoreRequest(f"not archived: {self.write_failure}")
        site = request.meta.get("site", "")
        exchange = Exchange(
            url=response.url,
            method=request.method,
            # parsed by Scrapy's downloader already, for the download slot
            request_target=_request_target(urlparse_cached(request)),
            request_headers=request_header_pairs(request),
            request_body=request.body,
            protocol=response.protocol or "HTTP/1.1",
            status=response.status,
            reason=REASONS.get(response.status, ""),
            response_headers=response_header_pairs(response),
            body=response.body,
            ip_address=str(response.ip_address) if response.ip_address else None,
            extra_headers={NEWSARCHIVE_SITE_HEADER: site} if site else {},
        )
        if route := request.meta.get("route"):  # how the spider found the URL (a redirect keeps it)
            exchange.extra_headers[NEWSARCHIVE_DISCOVERED_HEADER] = discovered_value(
                route, request.meta.get("found_on", "")
            )
        if "dataloss" in response.flags:  # the connection closed before Content-Length bytes came
            exchange.extra_headers["WARC-Truncated"] = "disconnect"  # WARC 1.1's field for this
            self.stats.inc_value("newsarchive/truncated")
            logger.warning("%s: connection closed before the whole body: archived as truncated", response.url)
        revisit_of = None
        if self.dedup is not None and response.status == 200:
            digest = exchange.payload_digest
            revisit_of = self.dedup.get(digest)
            if revisit_of is not None:
                self.stats.inc_value("newsarchive/warc_revisits")
        try:
            written = self.writer.write_exchange(exchange, revisit_of=revisit_of)
        except OSError as exc:
            self._write_failed(exc)
            raise IgnoreRequest(f"not archived: {self.write_failure}") from None
        if self.dedup is not None and response.status == 200 and revisit_of is None:
            self.dedup[digest] = (response.url, written.date)
        self.stats.inc_value("newsarchive/warc_responses")
        self.stats.inc_value("newsarchive/warc_response_bytes", len(response.body))
        if site:
            self.site_responses[site] += 1
            self.site_bytes[site] += len(response.body)
            if response.status >= 400:
                self.site_errors[site] += 1
        return response

    def process_exception(self, request: Request, exception: Exception) -> None:
        if isinstance(exception, IgnoreRequest):  # refused before sending (robots.txt): nothing was tried
            return
        site = request.meta.get("site", "")
        message = f"{type(exception).__name__}: {exception}"
        logger.warning("fetch failed: %s %s: %s", request.method, request.url, message)
        if self.write_failure is not None:
            return
        try:
            self.writer.write_metadata(
                request.url,
                {
                    "fetch_error": message,
                    "method": request.method,
                    "site": site,
                    "request_headers": request_header_pairs(request),
                },
                extra_headers={NEWSARCHIVE_SITE_HEADER: site} if site else {},
            )
        except OSError as exc:
            self._write_failed(exc)
        self.stats.inc_value("newsarchive/fetch_errors")
        if site:
            self.site_errors[site] += 1

    def spider_closed(self, spider: scrapy.Spider, reason: str) -> None:
        """Record the crawl run in the archive itself, then close the WARC file."""
        try:
            summary = self._write_summary(spider, reason)
        except OSError as exc:  # the run is not recorded in the archive; what was written stays
            self._write_failed(exc, stop=False)
            summary = self._summary(spider, reason, [])
        closed = self.writer.close()
        self.crawler.stats.set_value("newsarchive/warc_files", [str(p) for p in closed])
        self.crawler.stats.set_value("newsarchive/crawl_id", summary["crawl_id"])
        for key in ("site_responses", "site_errors", "site_bytes", "source_errors"):
            self.crawler.stats.set_value(f"newsarchive/{key}", summary[key])
        logger.info("crawl archived: %d responses in %d WARC file(s)", summary["responses"], len(closed))

    def _write_summary(self, spider: scrapy.Spider, reason: str) -> dict:
        """The crawl's summary record, in the current file whatever its size."""
        current = self.writer.ensure_open()
        files = [p.name for p in self.writer.closed_files] + [closed_name(current)]
        summary = self._summary(spider, reason, files)
        self.writer.write_metadata(CRAWL_SUMMARY_URI, summary, rotate=False)
        return summary

    def _summary(self, spider: scrapy.Spider, reason: str, files: list[str]) -> dict:
        stats = self.stats.get_stats()
        finished = datetime.now(UTC)
        return {
            "crawl_id": f"{self.started:%Y%m%dT%H%M%SZ}-{socket.gethostname()}-{os.getpid()}",
            # the WARC-Date format, so times compare as strings with captures' fetched_at
            "started": self.started.strftime(WARC_DATE),
            "finished": finished.strftime(WARC_DATE),
            "reason": reason,
            "sites": sorted(getattr(spider, "site_names", [])),
            "requests": stats.get("downloader/request_count", 0),
            "responses": stats.get("newsarchive/warc_responses", 0),
            "bytes": stats.get("newsarchive/warc_response_bytes", 0),
            "errors": stats.get("newsarchive/fetch_errors", 0)
            + sum(
                v
                for k, v in stats.items()
                if k.startswith("downloader/response_status_count/") and k.rsplit("/", 1)[1] >= "400"
            ),
            "known_skipped": stats.get("newsarchive/known_skipped", 0),
            "validators_unread": stats.get("newsarchive/validators_unread", 0),
            "site_responses": dict(self.site_responses),
            "site_errors": dict(self.site_errors),
            "site_bytes": dict(self.site_bytes),
            "source_errors": {
                key.rsplit("/", 1)[1]: value
                for key, value in stats.items()
                if key.startswith("newsarchive/source_errors/")
            },
            "warc_files": files,
        }
