"""The research dataset: Parquet files and a ``README.md`` dataset card (Hugging Face style).

``OUT/data/train-NNNNN.parquet`` (zstd, row groups of ROW_GROUP rows so a reader can stream,
one column order and type set: COLUMNS) and ``OUT/README.md``, whose YAML header names the
files, so ``datasets.load_dataset("parquet", data_dir=OUT)``, pandas, polars and DuckDB read
the folder as it is. Every row carries the provenance of the capture its text came from.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from archive.publish.card import card_text
from archive.publish.selection import Selection, iter_articles

DATA_DIR = "data"
ROW_GROUP = 10_000  # rows per row group: a streaming reader holds one group (~30 MB of text) at a time
ROWS_PER_FILE = 100_000  # a multiple of ROW_GROUP: shards of a few hundred MB, as the Hub advises
TIMESTAMP = pa.timestamp("us", tz="UTC")
STRINGS = pa.list_(pa.string())

# (name, type, meaning): the files' column order, and the card's schema section.
COLUMNS: list[tuple[str, pa.DataType, str]] = [
    ("id", pa.string(), "first 16 hex digits of the SHA-256 of canonical_url; the seed files' id"),
    ("url", pa.string(), "the URL the article was fetched from"),
    ("canonical_url", pa.string(), "the page's own canonical URL when usable, else url"),
    ("site", pa.string(), "the site's name in the crawl's site list"),
    ("sitename", pa.string(), "the publisher's name as the page gives it"),
    ("title", pa.string(), "the headline"),
    ("text", pa.string(), "the article: headline, empty line, one paragraph per block (FORMAT.md)"),
    ("description", pa.string(), "the page's summary (meta description)"),
    ("author", STRINGS, "the authors as the page names them"),
    ("published", TIMESTAMP, "when the page says it was published, in UTC (a date alone: its 00:00 UTC)"),
    ("published_raw", pa.string(), "the same as the page states it: a date alone, or a time with its offset"),
    ("language", pa.string(), "ISO 639-1 code of the text's language, as detected"),
    ("categories", STRINGS, "the publisher's sections or categories"),
    ("tags", STRINGS, "the publisher's tags or keywords"),
    ("image", pa.string(), "URL of the article's lead image"),
    ("word_count", pa.int32(), "words in text"),
    ("first_seen", TIMESTAMP, "when the archive first captured the article"),
    ("last_seen", TIMESTAMP, "when the archive last captured it (or saw it unchanged)"),
    ("duplicate_of", pa.string(), "id of the earlier article this one copies (null: not a copy)"),
    ("capture_id", pa.string(), "WARC-Record-ID of the response record the text was extracted from"),
    ("warc_file", pa.string(), "the WARC file holding that record"),
    ("warc_offset", pa.int64(), "byte offset of the record in warc_file"),
    ("warc_length", pa.int64(), "length in bytes of the record as stored (compressed)"),
    ("payload_digest", pa.string(), "WARC-Payload-Digest of the HTTP body (sha1, base32)"),
    ("captured_at", TIMESTAMP, "WARC-Date: when that response was received"),
    ("record_type", pa.string(), "response, resource or revisit"),
    ("discovered_by", pa.string(), "how the crawl found the URL: start, feed, sitemap, link or revisit"),
    ("discovered_from", pa.string(), "the page, feed or sitemap the URL was found on"),
]
SCHEMA = pa.schema([pa.field(name, kind) for name, kind, _ in COLUMNS])
_LISTS = {name for name, kind, _ in COLUMNS if kind == STRINGS}
_TIMES = {name for name, kind, _ in COLUMNS if kind == TIMESTAMP}


@dataclass
class DatasetReport:
    files: list[Path]
    rows: int = 0
    unreadable: Counter = field(default_factory=Counter)  # column -> values that were no date/list
    sites: Counter = field(default_factory=Counter)
    languages: Counter = field(default_factory=Counter)
    months: Counter = field(default_factory=Counter)  # YYYY-MM of published, "unknown"
    published: list[datetime] = field(default_factory=list)  # earliest and latest
    captured: list[datetime] = field(default_factory=list)


def _timestamp(value: str) -> datetime:
    """An ISO date or time from the store as an aware UTC datetime; a value with no offset is UTC."""
    moment = datetime.fromisoformat(value)  # raises ValueError for what is no date
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _convert(row: sqlite3.Row, report: DatasetReport) -> dict:
    record = {name: row[name] for name, _, _ in COLUMNS if name != "published_raw"}
    record["published_raw"] = row["published"]
    for name in _LISTS:
        try:
            items = json.loads(record[name]) if record[name] else []
            record[name] = [str(item) for item in items] if isinstance(items, list) else [str(items)]
        except ValueError:
            report.unreadable[name] += 1
            record[name] = []
    for name in _TIMES:
        try:
            record[name] = _timestamp(record[name]) if record[name] else None
        except ValueError:
            report.unreadable[name] += 1
            record[name] = None
    return record


def _tally(record: dict, report: DatasetReport) -> None:
    report.rows += 1
    report.sites[record["site"]] += 1
    report.languages[record["language"] or "unknown"] += 1
    published = record["published"]
    report.months[published.strftime("%Y-%m") if published else "unknown"] += 1
    for bounds, moment in ((report.published, published), (report.captured, record["first_seen"])):
        if moment:
            bounds[:] = [min(bounds[0], moment), max(bounds[1], moment)] if bounds else [moment, moment]


def write_dataset(
    db_path: Path, out_dir: Path, selection: Selection | None = None, site_list: Path | None = None
) -> DatasetReport:
    """Write ``OUT/data/*.parquet`` and ``OUT/README.md`` for the selected articles; the card
    names ``site_list`` (the crawl's site list file) by its digest.

    The files are written into a fresh folder that then replaces ``OUT/data``, so a reader
    never sees half a dataset and files of an earlier, larger export do not linger.
    """
    selection = selection or Selection()
    out_dir.mkdir(parents=True, exist_ok=True)
    staging = out_dir / f".{DATA_DIR}.tmp"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir()
    report = DatasetReport([])
    writer: pq.ParquetWriter | None = None
    try:
        for rows in iter_articles(db_path, selection, batch=ROW_GROUP):  # one batch, one row group
            records = [_convert(row, report) for row in rows]
            if writer is None or report.rows % ROWS_PER_FILE == 0:
                if writer is not None:
                    writer.close()
                path = staging / f"train-{len(report.files):05d}.parquet"
                report.files.append(path)
                writer = pq.ParquetWriter(path, SCHEMA, compression="zstd")
            writer.write_table(pa.Table.from_pylist(records, schema=SCHEMA), row_group_size=ROW_GROUP)
            for record in records:
                _tally(record, report)
        if writer is None:  # nothing selected: one empty file, so every reader still sees the schema
            path = staging / "train-00000.parquet"
            report.files.append(path)
            pq.write_table(SCHEMA.empty_table(), path, compression="zstd")
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    finally:
        if writer is not None:
            writer.close()
    target = out_dir / DATA_DIR
    shutil.rmtree(target, ignore_errors=True)
    staging.rename(target)
    report.files = [target / path.name for path in report.files]
    card = card_text(db_path, selection, report, COLUMNS, versions(), site_list)
    (out_dir / "README.md").write_text(card, encoding="utf-8")
    return report


def versions() -> dict[str, str]:
    """The software that made the dataset: ours, the extractor's and the Parquet writer's."""
    return {name: version(name) for name in ("newsarchive", "trafilatura", "pyarrow")}
