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
import os
import sqlite3
import sys
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from tqdm import tqdm

from archive.extract.decode import HTML_TYPES
from archive.extract.pagetype import CHALLENGE_BYTES, capture_reason
from archive.extract.sites import SiteRules
from archive.gc_freeze import start_up_frozen
from archive.store.boilerplate import record_blocks
from archive.store.canonical import mark_foreign_copies
from archive.store.copies import fingerprint_articles
from archive.store.db import Store
from archive.store.files import FileTable, KnownFile, files_to_read
from archive.store.metadata import metadata_rows
from archive.store.pages import TOO_LARGE, PageJob
from archive.store.readonly import DB_NAME, open_readonly
from archive.store.revisit import resolve_revisits, seen_unchanged
from archive.store.shard import Shard
from archive.store.timings import TIMINGS
from archive.store.versions import record_captures, settle_all
from archive.store.workers import GC_THRESHOLD, Extractor
from archive.warc.body import BodyDecodingError
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
TRUNCATED = "truncated"  # a capture's not_article reason: the body was cut short (WARC-Truncated)


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
    retried: int = 0  # pages whose worker process died: extracted again in the main process
    too_large: int = 0  # pages whose body inflates beyond the cap (body.MAX_BODY): not extracted
    truncated: int = 0  # pages archived cut short (WARC-Truncated): kept as captures, no article
    bytes_read: int = 0
    seconds: float = 0.0
    errors: list[ReadError] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def _is_html(record: WarcRecord) -> bool:
    if record.mime:
        return record.mime in HTML_TYPES
    return record.entity().lstrip()[:1] == b"<"


def _is_page(record: WarcRecord) -> bool:
    """A record whose body is a page to extract: an HTML 200 response or HTML resource."""
    if record.type == "response":
        return record.status == 200 and _is_html(record)
    return record.type == "resource" and record.mime in HTML_TYPES


def _fetched_at(record: WarcRecord) -> str:
    return record.date  # WARC-Date, ISO 8601 UTC


def _head(record: WarcRecord) -> str:
    """The start of an error page's text, for ``capture_reason``; '' when undecodable."""
    try:
        return record.body()[0][:CHALLENGE_BYTES].decode("utf-8", errors="replace")
    except BodyDecodingError:
        return ""


def _truncated(record: WarcRecord) -> bool:
    """A record whose body was cut short (WARC-Truncated: disconnect, length, time, ...): what
    it holds is part of a page, so it is kept but never made an article."""
    return bool(record.headers.get("WARC-Truncated"))


def _capture_row(record: WarcRecord) -> dict:
    discovered = parse_discovered(record.headers.get(NEWSARCHIVE_DISCOVERED_HEADER))
    reason = capture_reason(record.type, record.status, _is_html(record), lambda: _head(record))
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
        "not_article": TRUNCATED if reason is None and _truncated(record) else reason,
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


def _batches(
    records: Iterable[WarcRecord], site_rules: dict[str, SiteRules], site_domains: dict[str, tuple[str, ...]]
) -> Iterator[_Batch]:
    batch = _Batch()
    for record in records:
        batch.records += 1
        batch.end_offset = record.offset + record.length
        if record.type in ("response", "revisit") or (record.type == "resource" and _is_page(record)):
            row = _capture_row(record)
            batch.captures.append(row)
            if record.type == "revisit":  # its body is its original's: resolved as it is stored
                batch.revisits.append((row, record))
            elif _is_page(record) and not _truncated(record):
                site = record.headers.get(NEWSARCHIVE_SITE_HEADER) or ""
                job = PageJob(
                    record.url,
                    _fetched_at(record),
                    record.payload,
                    record.headers.get("Content-Type")
                    if record.type == "resource"
                    else record.http_header("Content-Type"),
                    record.http_headers,
                    site_rules.get(site),
                    row["discovered_by"],
                    site_domains.get(site, ()),
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


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _ingest_file(
    store: Store,
    known: KnownFile,
    extractor: Extractor,
    report: IngestReport,
    progress: tqdm,
    site_rules: dict[str, SiteRules],
    site_domains: dict[str, tuple[str, ...]],
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
    for batch, results in extractor.run(_batches(_named(records, name), site_rules, site_domains)):
        articles = []
        captures = {row["id"]: row for row in batch.captures}
        for (job, record), result in zip(batch.jobs, results, strict=True):
            if result.warning:
                report.warnings.append(f"{name}:{record.offset} {job.url}: {result.warning}")
            captures[record.record_id]["not_article"] = None if result.article else result.reason
            report.too_large += result.reason == TOO_LARGE
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
            with TIMINGS.stage("store: fingerprints (MinHash)"):
                fingerprint_articles(store.db.conn, [row["id"] for row in articles])
            record_blocks(store, articles)
            record_captures(store, articles)
            resolve_revisits(store, batch.revisits)
            seen_unchanged(store, batch.captures)
            store.record_progress(name, size, records_done, batch.end_offset, _now(), None)
            store.db.table("warc_files").upsert(known.row(), pk="name")
        mismatched = [row for row in batch.captures if row["digest_problem"]]
        for row in mismatched:
            report.warnings.append(f"{name}:{row['warc_offset']} {row['url']}: {row['digest_problem']}")
        report.digest_mismatches += len(mismatched)
        report.revisits += len(batch.revisits)
        report.truncated += sum(row["not_article"] == TRUNCATED for row in batch.captures)
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


def _files_read_before(db_path: Path) -> FileTable:
    """What the old store had read, for ``--rebuild``; nothing when it is unreadable (every
    WARC is then read from the start: rebuilding is how a corrupt store is repaired)."""
    old = open_readonly(db_path)
    if old is None:
        return FileTable([])
    try:
        return FileTable.of(old)
    except sqlite3.DatabaseError as exc:
        logger.warning("%s is unreadable (%s): rebuilding from every WARC file", db_path, exc)
        return FileTable([])
    finally:
        old.close()


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
    site_domains: dict[str, tuple[str, ...]] | None = None,
) -> IngestReport:
    """Read new WARC records (of ``paths``, files or directories; default all of
    ``data/warc``) into ``news.db``.

    With ``shard``, only the files of that share are read (``archive/merge.py`` folds
    the shards' stores into one).

    With ``rebuild``, the store is made anew from the WARCs alone in a side file that
    replaces ``news.db`` only when complete, so readers never see a half-built store; it
    reads every file the old store had read, from where it was read, and raises
    ``RebuildError`` before anything is written if one of them is gone.
    ``site_rules`` are the sites' own selectors (sites.toml), by site name;
    ``site_domains`` their ``allowed_domains``, where a page's canonical URL is trusted.
    """
    started = time.monotonic()
    db_path = data_dir / DB_NAME
    target = db_path.with_name(DB_NAME + ".rebuild") if rebuild else db_path
    recover_orphans(data_dir / "warc")
    if rebuild:
        table = _files_read_before(db_path)
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
    extractor = Extractor(max(1, workers))
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
                try:
                    rules, domains = site_rules or {}, site_domains or {}
                    _ingest_file(store, known, extractor, report, progress, rules, domains)
                except OSError as exc:  # this file only: what was read of it stays, the others are read
                    problem = f"cannot be read: {exc.strerror or type(exc).__name__}"
                    report.errors.append(ReadError(known.path.name, known.read_to, problem))
            with store.db.atomic():
                settle_all(store)
                mark_foreign_copies(store)
                report.duplicates = store.db.execute(
                    "SELECT count(*) FROM articles WHERE duplicate_of IS NOT NULL"
                ).fetchone()[0]
    finally:
        progress.close()
        extractor.close()
        report.retried = extractor.retried
        store.close()
    if rebuild:
        os.replace(target, db_path)
        for suffix in ("-wal", "-shm"):
            Path(f"{db_path}{suffix}").unlink(missing_ok=True)
    report.seconds = time.monotonic() - started
    return report
