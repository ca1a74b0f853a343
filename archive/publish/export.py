"""Writing the seed-format files (``NNN_<id>.txt``) and ``articles.jsonl``.

The order is stable (first fetch time, then id), files are only rewritten when their
bytes change, and files of an earlier export that no longer belong are removed, so an
export directory always mirrors the store exactly.
"""

from __future__ import annotations

import json
import os
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from archive.document import FILE_NAME, export_file_name
from archive.store.readonly import open_readonly

JSON_LIST_COLUMNS = ("author", "categories", "tags")
JSONL_NAME = "articles.jsonl"


class ExportError(ValueError):
    """The export cannot run as asked (no store, a bad --match query)."""


@dataclass
class ExportReport:
    directory: Path
    written: int  # files whose bytes changed
    unchanged: int
    removed: int
    articles: int


def select_articles(
    conn: sqlite3.Connection, match: str | None, include_duplicates: bool
) -> list[sqlite3.Row]:
    where = [] if include_duplicates else ["a.duplicate_of IS NULL"]
    params: list[str] = []
    join = ""
    if match:
        join = "JOIN articles_fts f ON f.rowid = a.rowid"
        where.append("articles_fts MATCH ?")
        params.append(match)
    sql = (
        "SELECT a.*, c.warc_file, c.warc_offset FROM articles a "
        f"LEFT JOIN captures c ON c.id = a.capture_id {join} "
        f"{'WHERE ' + ' AND '.join(where) if where else ''} ORDER BY a.first_seen, a.id"
    )
    conn.row_factory = sqlite3.Row
    try:
        return conn.execute(sql, params).fetchall()
    except sqlite3.OperationalError as exc:
        if match:
            raise ExportError(f"bad --match query {match!r}: {exc}") from None
        raise


def _write_if_changed(path: Path, data: bytes) -> bool:
    if path.exists() and path.read_bytes() == data:
        return False
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)
    return True


def _json_row(row: sqlite3.Row, file_name: str) -> dict:
    record = {key: row[key] for key in row.keys() if key not in ("text_hash",)}
    for key in JSON_LIST_COLUMNS:
        record[key] = json.loads(record[key]) if record[key] else []
    record["file"] = file_name
    return record


def export(
    db_path: Path, out_dir: Path, match: str | None = None, include_duplicates: bool = False
) -> ExportReport:
    """Write one file per article and ``articles.jsonl`` into ``out_dir``."""
    conn = open_readonly(db_path)
    if conn is None:
        raise ExportError(f"no store at {db_path}: run `newsarchive extract` first")
    try:
        rows = select_articles(conn, match, include_duplicates)
    finally:
        conn.close()
    out_dir.mkdir(parents=True, exist_ok=True)
    keep: set[str] = set()
    written = unchanged = 0
    lines = []
    for position, row in enumerate(rows):
        name = export_file_name(position, row["id"])
        keep.add(name)
        if _write_if_changed(out_dir / name, row["text"].encode("utf-8")):
            written += 1
        else:
            unchanged += 1
        lines.append(json.dumps(_json_row(row, name), ensure_ascii=False))
    _write_if_changed(out_dir / JSONL_NAME, "".join(line + "\n" for line in lines).encode("utf-8"))
    removed = 0
    for stale in out_dir.iterdir():
        if FILE_NAME.match(stale.name) and stale.name not in keep:
            stale.unlink()
            removed += 1
    return ExportReport(out_dir, written, unchanged, removed, len(rows))
