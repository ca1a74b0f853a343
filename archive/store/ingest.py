"""Reading WARC files into the store: ``newsarchive extract``.

Each file is read from where the last run stopped (``warc_files.read_to``), in batches;
files are known by their content (store/files.py), so a moved or renamed file is not read
twice and two files of one name are both read.
A batch's rows and its new offset are committed in one transaction (sqlite-utils'
``atomic``), so a run killed at any moment leaves a consistent store and the next run
carries on from the last whole batch without duplicates.
"""

from __future__ import annotations

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

from archive.extract.article import examine_page
from archive.extract.decode import HTML_TYPES, decode_html
from archive.extract.pagetype import CHALLENGE_BYTES, capture_reason
from archive.extract.sites import SiteRules
from archive.gc_freeze import freeze_start_up, start_up_frozen
from archive.store.boilerplate import record_blocks
from archive.store.db import Store
from archive.store.files import FileTable, KnownFile, files_to_read
from archive.store.metadata import metadata_rows
from archive.store.readonly import DB_NAME, open_readonly
from archive.store.revisit import resolve_revisits
from archive.store.settle import settle
from archive.store.shard import Shard
from archive.warc.body import BodyDecodingError, decode_body
from archive.warc.fields import (
    NEWSARCHIVE_DISCOVERED_HEADER,
    NEWSARCHIVE_SITE_HEADER,
    parse_discovered,
)
from archive.warc.files import OPEN_SUFFIX
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
    digest_mismatches: int = 0  # records stored whose digests match in neither convention
    revisits: int = 0
    bytes_read: int = 0
    seconds: float = 0.0
    errors: list[ReadError] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


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


@dataclass
class PageResult:
    article: dict | None
    warning: str | None
    reason: str | None = None  # why the page is not an article (pagetype's reasons)


def _is_html(record: WarcRecord) -> bool:
    if record.mime:
        return record.mime in HTML_TYPES
    return record.entity().lstrip()[:1] == b"<"


def _is_page(record: WarcRecord) -> bool:
    """A record whose body is a page to extract: an HTML 200 response or HTML resource."""
    if record.type == "response":
        return record.status == 200 and _is_html(record)
    return record.type == "resource" and record.mime in HTML_TYPES


def extract_page(job: PageJob) -> PageResult:
    """Worker: archived bytes to an article row (or None), never raising."""
    try:
        body, warning = decode_body(job.body, job.http_headers or ())
        if not body.strip():
            return PageResult(None, "empty body", "empty")
        html, _ = decode_html(body, job.content_type)
        verdict = examine_page(html, job.url, job.fetched_at, job.rules, job.route)
        return PageResult(verdict.article.row() if verdict.article else None, warning, verdict.reason)
    except BodyDecodingError as exc:
        return PageResult(None, str(exc), "undecodable")
    except Exception as exc:  # a page must never stop the run; say which and why
        return PageResult(None, f"extraction failed: {type(exc).__name__}: {exc}", "extraction_failed")


def _fetched_at(record: WarcRecord) -> str:
    return record.date  # WARC-Date, ISO 8601 UTC


def _head(record: WarcRecord) -> str:
    """The start of an error page's text, for ``capture_reason``; '' when undecodable."""
    try:
        return record.body()[0][:CHALLENGE_BYTES].decode("utf-8", errors="replace")
    except BodyDecodingError:
        return ""


def _capture_row(record: WarcRecord) -> dict:
    discovered = parse_discovered(record.headers.get(NEWSARCHIVE_DISCOVERED_HEADER))
    return {
        "id": record.record_id,
        "url": record.url,
        "status": record.status,
        "mime": record.mime,
        "fetched_at": _fetched_at(record),
        "warc_file": record.file,
        "warc_offset": record.offset,
        "warc_length": record.length,
        "payload_digest": record.headers.get("WARC-Payload-Digest"),
        "site": record.headers.get(NEWSARCHIVE_SITE_HEADER) or None,
        # set for the pages extracted once their verdict is in (_ingest_file)
        "not_article": capture_reason(record.type, record.status, _is_html(record), lambda: _head(record)),
        "discovered_by": discovered[0],
        "discovered_from": discovered[1],
        "record_type": record.type,
        "digest_problem": record.digest_problem,
    }


class _Batch:
    def __init__(self) -> None:
        self.captures: list[dict] = []
        self.fetch_errors: list[dict] = []
        self.crawls: list[dict] = []
        self.jobs: list[tuple[PageJob, WarcRecord]] = []
        self.revisits: list[tuple[dict, WarcRecord]] = []
        self.end_offset = 0
        self.records = 0


def _batches(records: Iterable[WarcRecord], site_rules: dict[str, SiteRules]) -> Iterator[_Batch]:
    batch = _Batch()
    for record in records:
        batch.records += 1
        batch.end_offset = record.offset + record.length
        if record.type in ("response", "revisit") or (record.type == "resource" and _is_page(record)):
            row = _capture_row(record)
            batch.captures.append(row)
            if record.type == "revisit":  # its body is its original's: resolved as it is stored
                batch.revisits.append((row, record))
            elif _is_page(record):
                job = PageJob(
                    record.url,
                    _fetched_at(record),
                    record.payload,
                    record.headers.get("Content-Type")
                    if record.type == "resource"
                    else record.http_header("Content-Type"),
                    record.http_headers,
                    site_rules.get(record.headers.get(NEWSARCHIVE_SITE_HEADER) or ""),
                    row["discovered_by"],
                )
                batch.jobs.append((job, record))
        elif record.type == "metadata":
            crawl, fetch_error = metadata_rows(record)
            batch.crawls += [crawl] if crawl else []
            batch.fetch_errors += [fetch_error] if fetch_error else []
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
    known: KnownFile,
    extractor: _Extractor,
    report: IngestReport,
    progress: tqdm,
    site_rules: dict[str, SiteRules],
) -> None:
    path, name = known.path, known.name
    size = path.stat().st_size
    start = known.read_to
    if start >= size:  # read already; it may have moved since
        with store.db.atomic():
            store.db.table("warc_files").upsert(known.row(), pk="name")
        return
    report.files_read += 1
    read_errors: list[ReadError] = []
    records_done = known.records
    offset = start
    records = iter_records(path, start, read_errors)
    for batch, results in extractor.run(_batches(_named(records, name), site_rules)):
        articles = []
        captures = {row["id"]: row for row in batch.captures}
        for (job, record), result in zip(batch.jobs, results, strict=True):
            if result.warning:
                report.warnings.append(f"{name}:{record.offset} {job.url}: {result.warning}")
            captures[record.record_id]["not_article"] = None if result.article else result.reason
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
            resolve_revisits(store, batch.revisits)
            store.record_progress(name, size, records_done, batch.end_offset, _now(), None)
            store.db.table("warc_files").upsert(known.row(), pk="name")
        mismatched = [row for row in batch.captures if row["digest_problem"]]
        for row in mismatched:
            report.warnings.append(f"{name}:{row['warc_offset']} {row['url']}: {row['digest_problem']}")
        report.digest_mismatches += len(mismatched)
        report.revisits += len(batch.revisits)
        report.records += batch.records
        report.captures += len(batch.captures)
        report.articles += len(articles)
        report.crawls += len(batch.crawls)
        report.fetch_errors += len(batch.fetch_errors)
        progress.set_postfix_str(f"{report.records:,} records", refresh=False)
        progress.update(batch.end_offset - offset)
        offset = batch.end_offset
    report.bytes_read += offset - start
    still_open = path.name.endswith(OPEN_SUFFIX)
    if still_open and read_errors and read_errors[-1].offset >= offset:
        # a crawl may still be writing: its last record is not whole yet
        error = read_errors.pop()
        logger.info("%s: stopped at offset %d (file still open: %s)", name, error.offset, error.message)
    if not read_errors and not still_open:
        offset = size  # read to its end (an uncompressed file's last CRLF CRLF, a WACZ's index)
    if read_errors:
        report.errors.extend(read_errors)
        for error in read_errors:
            logger.error("%s: unreadable spot at offset %d: %s", name, error.offset, error.message)
    with store.db.atomic():
        errors = "; ".join(f"offset {e.offset}: {e.message}" for e in read_errors)
        store.record_progress(name, size, records_done, offset, _now(), errors or None)
        store.db.table("warc_files").upsert(known.row(), pk="name")


def _named(records: Iterable[WarcRecord], name: str) -> Iterator[WarcRecord]:
    """Records as the store names their file (two files of one name have two store names)."""
    for record in records:
        record.file = name
        yield record


def ingest(
    data_dir: Path,
    paths: list[Path] | None = None,
    workers: int = 1,
    rebuild: bool = False,
    show_progress: bool | None = None,
    shard: Shard | None = None,
    site_rules: dict[str, SiteRules] | None = None,
) -> IngestReport:
    """Read new WARC records (of ``paths``, files or directories; default all of
    ``data/warc``) into ``news.db``.

    With ``shard``, only the files of that share are read (``archive/merge.py`` folds
    the shards' stores into one).

    With ``rebuild``, the store is made anew from the WARCs alone in a side file that
    replaces ``news.db`` only when complete, so readers never see a half-built store; it
    reads every file the old store had read, from where it was read, and raises
    ``RebuildError`` before anything is written if one of them is gone.
    ``site_rules`` are the sites' own selectors (sites.toml), by site name.
    """
    started = time.monotonic()
    db_path = data_dir / DB_NAME
    target = db_path.with_name(DB_NAME + ".rebuild") if rebuild else db_path
    recover_orphans(data_dir / "warc")
    if rebuild:
        old = open_readonly(db_path)
        table = FileTable.of(old) if old is not None else FileTable([])
        if old is not None:
            old.close()
        for row in table.rows.values():  # same names as before, read from the start
            row.update(read_to=0, records=0)
        files, problems = files_to_read(data_dir, paths, table, rebuild, shard)
        for leftover in (target, Path(f"{target}-wal"), Path(f"{target}-shm")):
            leftover.unlink(missing_ok=True)
    store = Store(target)
    if not rebuild:
        try:
            files, problems = files_to_read(data_dir, paths, FileTable.of(store.db.conn), rebuild, shard)
        except BaseException:
            store.close()
            raise
    report = IngestReport(errors=problems)
    extractor = _Extractor(max(1, workers))
    total = sum(max(0, f.path.stat().st_size - f.read_to) for f in files)
    if show_progress is None:
        show_progress = sys.stderr.isatty()
    # Bytes of WARC read, shown in MB and MB/s; the record count and file number ride along.
    progress = tqdm(
        total=total, unit="B", unit_scale=True, unit_divisor=1000, desc="extract", disable=not show_progress
    )
    try:
        with start_up_frozen(GC_THRESHOLD):
            for done, known in enumerate(files):
                progress.set_description(f"extract: file {done + 1}/{len(files)}", refresh=False)
                _ingest_file(store, known, extractor, report, progress, site_rules or {})
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
