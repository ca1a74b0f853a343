"""Reading WARC files into the store: ``newsarchive extract``.

Each file is read from where the last run stopped (``warc_files.read_to``), in batches.
A batch's rows and its new offset are committed in one transaction (sqlite-utils'
``atomic``), so a run killed at any moment leaves a consistent store and the next run
carries on from the last whole batch without duplicates.
"""

from __future__ import annotations

import json
import logging
import multiprocessing
import os
import sys
import time
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from tqdm import tqdm

from archive.extract.article import extract_article
from archive.extract.decode import HTML_TYPES, decode_html
from archive.extract.sites import SiteRules
from archive.gc_freeze import freeze_start_up, start_up_frozen
from archive.store.boilerplate import record_blocks
from archive.store.db import Store
from archive.store.readonly import DB_NAME
from archive.store.settle import settle
from archive.store.shard import Shard
from archive.warc.body import BodyDecodingError, undo_content_encoding
from archive.warc.fields import CRAWL_SUMMARY_URI, NEWSARCHIVE_SITE_HEADER
from archive.warc.files import OPEN_SUFFIX, closed_name, list_warc_files
from archive.warc.reader import ReadError, WarcRecord, iter_records
from archive.warc.recover import recover_orphans

logger = logging.getLogger(__name__)

BATCH_RECORDS = 200
# A page through trafilatura allocates tens of thousands of objects that reference counting
# frees; at Python's default threshold (700) they started ~1.5 collections a page, some
# walking everything the imports loaded: 0.3 ms of ~25 ms CPU a page; 0.08 ms with this
# threshold and the start-up objects frozen. Cycles are still collected.
GC_THRESHOLD = 10_000


@dataclass
class IngestReport:
    files_read: int = 0
    records: int = 0
    captures: int = 0
    articles: int = 0
    crawls: int = 0
    fetch_errors: int = 0
    duplicates: int = 0
    bytes_read: int = 0
    seconds: float = 0.0
    errors: list[ReadError] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


@dataclass
class PageJob:
    """What a worker needs to extract one page (picklable, no open files)."""

    url: str
    fetched_at: str
    body: bytes
    content_type: str | None
    content_encoding: str | None
    rules: SiteRules | None = None  # the site's selectors from sites.toml


@dataclass
class PageResult:
    article: dict | None
    warning: str | None


def _mime(record: WarcRecord) -> str | None:
    content_type = record.http_header("Content-Type")
    return content_type.split(";")[0].strip().lower() if content_type else None


def _is_html(record: WarcRecord) -> bool:
    mime = _mime(record)
    if mime:
        return mime in HTML_TYPES
    return record.payload.lstrip()[:1] == b"<"


def extract_page(job: PageJob) -> PageResult:
    """Worker: archived bytes to an article row (or None), never raising."""
    try:
        body, warning = undo_content_encoding(job.body, job.content_encoding)
        if not body.strip():
            return PageResult(None, "empty body")
        html, _ = decode_html(body, job.content_type)
        article = extract_article(html, job.url, job.fetched_at, job.rules)
        return PageResult(article.row() if article else None, warning)
    except BodyDecodingError as exc:
        return PageResult(None, str(exc))
    except Exception as exc:  # a page must never stop the run; say which and why
        return PageResult(None, f"extraction failed: {type(exc).__name__}: {exc}")


def _fetched_at(record: WarcRecord) -> str:
    return record.date  # WARC-Date, ISO 8601 UTC


def _capture_row(record: WarcRecord) -> dict:
    return {
        "id": record.record_id,
        "url": record.url,
        "status": record.status,
        "mime": _mime(record),
        "fetched_at": _fetched_at(record),
        "warc_file": record.file,
        "warc_offset": record.offset,
        "warc_length": record.length,
        "payload_digest": record.headers.get("WARC-Payload-Digest"),
        "site": record.headers.get(NEWSARCHIVE_SITE_HEADER) or None,
    }


def _crawl_row(summary: dict) -> dict:
    row = {
        k: summary.get(k)
        for k in (
            "started",
            "finished",
            "reason",
            "requests",
            "responses",
            "bytes",
            "errors",
            "known_skipped",
        )
    }
    row["id"] = summary["crawl_id"]
    for key in ("sites", "warc_files", "site_responses", "site_errors", "site_bytes", "source_errors"):
        row[key] = json.dumps(summary.get(key, []), ensure_ascii=False)
    return row


class _Batch:
    def __init__(self) -> None:
        self.captures: list[dict] = []
        self.fetch_errors: list[dict] = []
        self.crawls: list[dict] = []
        self.jobs: list[tuple[PageJob, WarcRecord]] = []
        self.end_offset = 0
        self.records = 0


def _batches(records: Iterable[WarcRecord], site_rules: dict[str, SiteRules]) -> Iterator[_Batch]:
    batch = _Batch()
    for record in records:
        batch.records += 1
        batch.end_offset = record.offset + record.length
        if record.type in ("response", "revisit"):  # a revisit's body is its original's
            batch.captures.append(_capture_row(record))
            if record.type == "response" and record.status == 200 and _is_html(record):
                job = PageJob(
                    record.url,
                    _fetched_at(record),
                    record.payload,
                    record.http_header("Content-Type"),
                    record.http_header("Content-Encoding"),
                    site_rules.get(record.headers.get(NEWSARCHIVE_SITE_HEADER) or ""),
                )
                batch.jobs.append((job, record))
        elif record.type == "metadata":
            try:
                fields = json.loads(record.payload)
            except ValueError:
                fields = {}
            if record.url == CRAWL_SUMMARY_URI and "crawl_id" in fields:
                batch.crawls.append(_crawl_row(fields))
            elif "fetch_error" in fields:
                batch.fetch_errors.append(
                    {
                        "id": record.record_id,
                        "url": record.url,
                        "site": fields.get("site") or None,
                        "error": fields["fetch_error"],
                        "fetched_at": record.date,
                        "warc_file": record.file,
                        "warc_offset": record.offset,
                    }
                )
        if batch.records >= BATCH_RECORDS:
            yield batch
            batch = _Batch()
    if batch.records:
        yield batch


class _Extractor:
    """Runs page extraction in this process or in a pool of worker processes.

    With a pool, the next batch is already being extracted while this process writes the
    current one to the store, so the workers do not wait for the writes.
    """

    LOOKAHEAD = 2  # batches handed to the pool ahead of the one being written

    def __init__(self, workers: int) -> None:
        self.pool = (
            multiprocessing.get_context("spawn").Pool(
                workers, initializer=freeze_start_up, initargs=(GC_THRESHOLD,)
            )
            if workers > 1
            else None
        )

    def run(self, batches: Iterator[_Batch]) -> Iterator[tuple[_Batch, list[PageResult]]]:
        """Each batch with the results of its page jobs, in order."""
        if self.pool is None:
            for batch in batches:
                yield batch, [extract_page(job) for job, _ in batch.jobs]
            return
        pending: deque = deque()
        for batch in batches:
            pending.append(
                (batch, self.pool.map_async(extract_page, [job for job, _ in batch.jobs], chunksize=8))
            )
            if len(pending) > self.LOOKAHEAD:
                done, result = pending.popleft()
                yield done, result.get()
        while pending:
            done, result = pending.popleft()
            yield done, result.get()

    def close(self) -> None:
        if self.pool is not None:
            self.pool.close()
            self.pool.join()


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _ingest_file(
    store: Store,
    path: Path,
    extractor: _Extractor,
    report: IngestReport,
    progress: tqdm,
    site_rules: dict[str, SiteRules],
) -> None:
    name = closed_name(path)
    size = path.stat().st_size
    start = store.read_to(name)
    if start >= size:
        return
    report.files_read += 1
    read_errors: list[ReadError] = []
    records_done = store.db.execute(
        "SELECT coalesce(records, 0) FROM warc_files WHERE name = ?", [name]
    ).fetchone()
    records_done = records_done[0] if records_done else 0
    offset = start
    for batch, results in extractor.run(_batches(iter_records(path, start, read_errors), site_rules)):
        articles = []
        for (job, record), result in zip(batch.jobs, results, strict=True):
            if result.warning:
                report.warnings.append(f"{name}:{record.offset} {job.url}: {result.warning}")
            if result.article:
                site = record.headers.get(NEWSARCHIVE_SITE_HEADER) or None
                articles.append(
                    {
                        **result.article,
                        "site": site,
                        "first_seen": job.fetched_at,
                        "last_seen": job.fetched_at,
                        "capture_id": record.record_id,
                    }
                )
        records_done += batch.records
        with store.db.atomic():  # rows and the offset that says they are in, together
            store.add_captures(batch.captures)
            store.add_fetch_errors(batch.fetch_errors)
            for crawl in batch.crawls:
                store.add_crawl(crawl)
            store.add_articles(articles)
            record_blocks(store, articles)
            store.record_progress(name, size, records_done, batch.end_offset, _now(), None)
        report.records += batch.records
        report.captures += len(batch.captures)
        report.articles += len(articles)
        report.crawls += len(batch.crawls)
        report.fetch_errors += len(batch.fetch_errors)
        progress.set_postfix_str(f"{report.records:,} records", refresh=False)
        progress.update(batch.end_offset - offset)
        offset = batch.end_offset
    report.bytes_read += offset - start
    if read_errors:
        error = read_errors[0]
        still_open = path.name.endswith(OPEN_SUFFIX)
        if still_open:  # a crawl may still be writing: its last record is not whole yet
            logger.info("%s: stopped at offset %d (file still open: %s)", name, error.offset, error.message)
        else:
            report.errors.append(error)
            logger.error("%s: unreadable from offset %d on: %s", name, error.offset, error.message)
            with store.db.atomic():
                store.record_progress(
                    name, size, records_done, offset, _now(), f"offset {error.offset}: {error.message}"
                )


def ingest(
    data_dir: Path,
    paths: list[Path] | None = None,
    workers: int = 1,
    rebuild: bool = False,
    show_progress: bool | None = None,
    shard: Shard | None = None,
    site_rules: dict[str, SiteRules] | None = None,
) -> IngestReport:
    """Read new WARC records (of ``paths``, default all of ``data/warc``) into ``news.db``.

    With ``shard``, only the files of that share are read (``archive/merge.py`` folds
    the shards' stores into one).

    With ``rebuild``, the store is made anew from the WARCs alone in a side file that
    replaces ``news.db`` only when complete, so readers never see a half-built store.
    ``site_rules`` are the sites' own selectors (sites.toml), by site name.
    """
    started = time.monotonic()
    db_path = data_dir / DB_NAME
    target = db_path.with_name(DB_NAME + ".rebuild") if rebuild else db_path
    if rebuild:
        for leftover in (target, Path(f"{target}-wal"), Path(f"{target}-shm")):
            leftover.unlink(missing_ok=True)
    recover_orphans(data_dir / "warc")
    files = paths if paths else list_warc_files(data_dir / "warc")
    not_warc = [p for p in files if not p.is_file()]
    files = [p for p in files if p.is_file() and (shard is None or shard.holds(p))]
    report = IngestReport()
    for missing in not_warc:
        report.errors.append(ReadError(missing.name, 0, "no such file"))
    store = Store(target)
    extractor = _Extractor(max(1, workers))
    total = sum(max(0, p.stat().st_size - store.read_to(closed_name(p))) for p in files)
    if show_progress is None:
        show_progress = sys.stderr.isatty()
    # Bytes of WARC read, shown in MB and MB/s; the record count and file number ride along.
    progress = tqdm(
        total=total, unit="B", unit_scale=True, unit_divisor=1000, desc="extract", disable=not show_progress
    )
    try:
        with start_up_frozen(GC_THRESHOLD):
            for done, path in enumerate(files):
                progress.set_description(f"extract: file {done + 1}/{len(files)}", refresh=False)
                _ingest_file(store, path, extractor, report, progress, site_rules or {})
            with store.db.atomic():
                report.duplicates = settle(store)
    finally:
        progress.close()
        extractor.close()
        store.close()
    if rebuild:
        os.replace(target, db_path)
        for suffix in ("-wal", "-shm"):
            Path(f"{db_path}{suffix}").unlink(missing_ok=True)
    report.seconds = time.monotonic() - started
    return report
