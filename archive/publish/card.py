"""The dataset card (``README.md``) of a Parquet export: what is in it and where it came from.

A Hugging Face style card: a YAML header (``configs``/``data_files`` so the Hub and
``datasets`` find the files, the languages, the licence), then Markdown a person reads.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import yaml

from archive.publish.selection import Selection
from archive.store.readonly import open_readonly

if TYPE_CHECKING:  # dataset.py imports this module; its types are for the hints only
    import pyarrow as pa

    from archive.publish.dataset import DatasetReport

CRAWLS_SHOWN = 30  # the latest crawl runs listed; an hourly cron makes thousands

LICENCE = """The article texts, headlines, descriptions and images belong to their publishers and
authors; they are here as published, for research (text and data mining as the law where you work
allows it). Publishing or redistributing them may need the publishers' permission. The metadata,
provenance columns and this card were made by newsarchive (MIT licence)."""


def _header(report: DatasetReport) -> str:
    languages = sorted(code for code in report.languages if code != "unknown")
    header = {
        "pretty_name": "newsarchive news articles",
        "license": "other",
        "license_name": "publishers-copyright",
        "language": languages,
        "task_categories": ["text-classification", "text-generation"],
        "tags": ["news", "web-archive", "warc"],
        "configs": [
            {"config_name": "default", "data_files": [{"split": "train", "path": "data/train-*.parquet"}]}
        ],
    }
    return "---\n" + yaml.safe_dump(header, sort_keys=False, allow_unicode=True) + "---\n"


def _table(head: tuple[str, ...], rows: list[tuple]) -> list[str]:
    lines = ["| " + " | ".join(head) + " |", "| " + " | ".join("---" for _ in head) + " |"]
    return lines + ["| " + " | ".join(str(cell).replace("|", "\\|") for cell in row) + " |" for row in rows]


def _counts(title: str, counter: Counter, key_name: str, by_key: bool = False) -> list[str]:
    items = sorted(counter.items()) if by_key else sorted(counter.items(), key=lambda kv: (-kv[1], kv[0]))
    return [f"### {title}", "", *_table((key_name, "articles"), items), ""]


def _type(kind: pa.DataType) -> str:
    """Arrow's name for a type; a list as ``list<string>``, not with its item field's name."""
    return f"list<{kind.value_type}>" if hasattr(kind, "value_type") else str(kind)


def _span(bounds: list[datetime]) -> str:
    return " to ".join(moment.strftime("%Y-%m-%d") for moment in bounds) if bounds else "unknown"


def _site_list(path: Path | None) -> str:
    if path is None:
        return "not given (`export --sites FILE`); the crawls below name the sites they crawled"
    return f"`{path.name}`, SHA-256 `{hashlib.sha256(path.read_bytes()).hexdigest()}`"


def _crawls(db_path: Path) -> tuple[int, list[tuple]]:
    conn = open_readonly(db_path)
    if conn is None:
        return 0, []
    try:
        total = conn.execute("SELECT count(*) FROM crawls").fetchone()[0]
        rows = conn.execute(
            "SELECT id, started, finished, reason, sites, responses, errors FROM crawls "
            "ORDER BY started DESC LIMIT ?",
            (CRAWLS_SHOWN,),
        ).fetchall()
    except sqlite3.OperationalError:  # a store from before the crawls table
        return 0, []
    finally:
        conn.close()
    return total, [(*row[:4], ", ".join(json.loads(row[4] or "[]")), *row[5:]) for row in rows]


def card_text(
    db_path: Path,
    selection: Selection,
    report: DatasetReport,
    columns: list[tuple[str, pa.DataType, str]],
    versions: dict[str, str],
    site_list: Path | None = None,
) -> str:
    """The card's text; ``columns`` and ``versions`` come from the dataset writer."""
    lines = [
        _header(report),
        "# News articles from newsarchive",
        "",
        "News articles crawled by [newsarchive](https://pypi.org/project/newsarchive/): every HTTP "
        "response kept in WARC files, the article text extracted from them. One row per article.",
        "",
        "## What is in it",
        "",
        f"- Selection: {selection.describe()}",
        f"- Query (`--match`): {f'`{selection.match}`' if selection.match else 'none (every article)'}",
        f"- Sites: {', '.join(sorted(report.sites)) or 'none'}",
        f"- Published: {_span(report.published)}; first captured: {_span(report.captured)}",
        f"- {report.rows} articles in {len(report.files)} Parquet file(s) under `data/` "
        "(zstd, row groups of up to 10,000 rows)",
    ]
    if report.unreadable:
        unreadable = ", ".join(f"{name} {count}" for name, count in sorted(report.unreadable.items()))
        lines.append(f"- Values the store held that were not a date or list, left empty: {unreadable}")
    lines += [
        "",
        "## Loading",
        "",
        "```python",
        'import datasets; datasets.load_dataset("parquet", data_dir="THIS_FOLDER")["train"]',
        'import pandas; pandas.read_parquet("THIS_FOLDER/data")',
        "import duckdb; duckdb.sql(\"SELECT site, count(*) FROM 'THIS_FOLDER/data/*.parquet' GROUP BY 1\")",
        "```",
        "",
        "## Counts",
        "",
        *_counts("Per site", report.sites, "site"),
        *_counts("Per language", report.languages, "language"),
        *_counts("Per month published", report.months, "month", by_key=True),
        "## Schema",
        "",
        "Columns in this order, in every file. Times are UTC timestamps (`timestamp[us, tz=UTC]`).",
        "",
        *_table(("column", "type", "meaning"), [(f"`{n}`", f"`{_type(t)}`", m) for n, t, m in columns]),
        "",
        "Provenance: `warc_file` and `warc_offset` locate the WARC record the text came from "
        "(`capture_id` is its WARC-Record-ID, `payload_digest` its WARC-Payload-Digest), so any row "
        "can be checked against the archived response byte for byte.",
        "",
        "## How it was made",
        "",
        f"- Software: newsarchive {versions['newsarchive']}; text extractor trafilatura "
        f"{versions['trafilatura']}; written with pyarrow {versions['pyarrow']}",
        f"- Exported: {datetime.now(UTC).strftime('%Y-%m-%dT%H:%M:%SZ')}",
        f"- Site list: {_site_list(site_list)}",
    ]
    total, crawls = _crawls(db_path)
    shown = f" (the latest {len(crawls)} below)" if crawls else ""
    lines += [f"- Crawl runs in the store: {total}{shown}"]
    if crawls:
        head = ("crawl", "started", "finished", "reason", "sites", "responses", "errors")
        lines += ["", *_table(head, crawls)]
    lines += ["", "## Licence", "", LICENCE, ""]
    return "\n".join(lines)
