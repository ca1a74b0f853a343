"""One page's extraction as a job a worker process can take: archived bytes in, a row out.

Picklable on purpose (no open files, no store): ``extract --workers N`` sends these to
worker processes (``workers``), and the benchmarks call ``extract_page`` directly.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from archive.extract.decode import decode_html
from archive.extract.sites import SiteRules
from archive.warc.body import BodyDecodingError, BodyTooLarge, decode_body

TOO_LARGE = "too_large"  # a capture's not_article reason: its body inflates beyond the cap


@dataclass
class PageJob:
    """What a worker needs to extract one page (picklable, no open files)."""

    url: str
    fetched_at: str
    body: bytes  # the payload as archived
    content_type: str | None
    http_headers: list[tuple[str, str]] | None  # how to decode it (decode_body)
    rules: SiteRules | None = None  # the site's selectors from sites.toml
    route: str | None = None  # how the crawl found the URL (NewsArchive-Discovered), a page-type sign
    domains: tuple[str, ...] = ()  # the site's allowed_domains: where its canonical URLs may be


@dataclass
class PageResult:
    article: dict | None
    warning: str | None
    reason: str | None = None  # why the page is not an article (pagetype's reasons)
    seconds: tuple[float, float] = (0.0, 0.0)  # decoding and extracting it (store/timings.py)


def extract_page(job: PageJob) -> PageResult:
    """Worker: archived bytes to an article row (or None), never raising."""
    started = time.perf_counter()
    result = _extract_page(job)
    result.seconds = (result.seconds[0], time.perf_counter() - started - result.seconds[0])
    return result


def _extract_page(job: PageJob) -> PageResult:
    # imported on the first page: an extract that finds nothing new never loads trafilatura
    from archive.extract.article import examine_page

    started = time.perf_counter()
    try:
        body, warning = decode_body(job.body, job.http_headers or ())
        if not body.strip():
            return PageResult(None, "empty body", "empty", (time.perf_counter() - started, 0.0))
        html, _ = decode_html(body, job.content_type)
        decoded = time.perf_counter() - started
        verdict = examine_page(html, job.url, job.fetched_at, job.rules, job.route, job.domains)
        row = verdict.article.row() if verdict.article else None
        return PageResult(row, warning, verdict.reason, (decoded, 0.0))
    except BodyTooLarge as exc:
        return PageResult(None, str(exc), TOO_LARGE)
    except BodyDecodingError as exc:
        return PageResult(None, str(exc), "undecodable")
    except Exception as exc:  # a page must never stop the run; say which and why
        return PageResult(None, f"extraction failed: {type(exc).__name__}: {exc}", "extraction_failed")


def extract_pages(jobs: list[PageJob]) -> list[PageResult]:
    """Worker: ``extract_page`` on a slice of a batch (one task, fewer round trips)."""
    return [extract_page(job) for job in jobs]
