"""The SQLite store (``news.db``): schema, writes and the queries other parts need.

Everything here can be rebuilt from the WARC files (DESIGN.md, principle 1): rows are
keyed by WARC record ids and article ids, so reading a record twice changes nothing.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from pathlib import Path

import sqlite_utils

from archive.duplicates import find_duplicates

DB_NAME = "news.db"

SCHEMA: dict[str, tuple[dict, str]] = {
    "warc_files": (
        {"name": str, "size": int, "records": int, "read_to": int, "read_at": str, "errors": str},
        "name",
    ),
    "captures": (
        {
            "id": str,
            "url": str,
            "status": int,
            "mime": str,
            "fetched_at": str,
            "warc_file": str,
            "warc_offset": int,
            "warc_length": int,
            "payload_digest": str,
            "site": str,
        },
        "id",
    ),
    "fetch_errors": (
        {
            "id": str,
            "url": str,
            "site": str,
            "error": str,
            "fetched_at": str,
            "warc_file": str,
            "warc_offset": int,
        },
        "id",
    ),
    "articles": (
        {
            "id": str,
            "url": str,
            "canonical_url": str,
            "site": str,
            "title": str,
            "text": str,
            "author": str,
            "published": str,
            "sitename": str,
            "language": str,
            "description": str,
            "categories": str,
            "tags": str,
            "image": str,
            "word_count": int,
            "first_seen": str,
            "last_seen": str,
            "capture_id": str,
            "text_hash": str,
            "duplicate_of": str,
        },
        "id",
    ),
    # The paragraphs each article had as extracted, per site: archive/boilerplate.py's model.
    "site_blocks": ({"site": str, "block": str, "article_id": str}, ("site", "block", "article_id")),
    "crawls": (
        {
            "id": str,
            "started": str,
            "finished": str,
            "reason": str,
            "sites": str,
            "requests": int,
            "responses": int,
            "bytes": int,
            "errors": int,
            "known_skipped": int,
            "warc_files": str,
            "site_responses": str,
            "site_errors": str,
            "site_bytes": str,
            "source_errors": str,
        },
        "id",
    ),
}
INDEXES = {
    "captures": [["url"], ["warc_file"], ["site", "fetched_at"]],
    # published and language: the Datasette table page sorts by the one and facets by the other
    "articles": [
        ["text_hash"],
        ["site", "published"],
        ["first_seen"],
        ["canonical_url"],
        ["published"],
        ["language"],
    ],
    "site_blocks": [["article_id"]],
}


class Store:
    """``news.db``, opened for writing (WAL, so Datasette can read while we write)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite_utils.Database(self.path)
        self.db.enable_wal()
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.ensure_schema()

    def ensure_schema(self) -> None:
        for name, (columns, pk) in SCHEMA.items():
            table = self.db.table(name)
            if not table.exists():
                table.create(columns, pk=pk)
            else:  # a store made by an older version gains the new columns
                missing = {c: t for c, t in columns.items() if c not in table.columns_dict}
                for column, col_type in missing.items():
                    table.add_column(column, col_type)
        for name, indexes in INDEXES.items():
            for columns in indexes:
                self.db.table(name).create_index(columns, if_not_exists=True)
        if not self.db.table("articles_fts").exists():
            self.db.table("articles").enable_fts(
                ["title", "text"], create_triggers=True, tokenize="unicode61 remove_diacritics 2"
            )

    # -- progress through the WARC files ------------------------------------------------

    def read_to(self, warc_name: str) -> int:
        row = self.db.execute("SELECT read_to FROM warc_files WHERE name = ?", [warc_name]).fetchone()
        return row[0] if row else 0

    def record_progress(
        self, warc_name: str, size: int, records: int, read_to: int, read_at: str, errors: str | None
    ) -> None:
        self.db.table("warc_files").upsert(
            {
                "name": warc_name,
                "size": size,
                "records": records,
                "read_to": read_to,
                "read_at": read_at,
                "errors": errors,
            },
            pk="name",
        )

    # -- rows -----------------------------------------------------------------------

    def add_captures(self, rows: Iterable[dict]) -> None:
        self.db.table("captures").insert_all(rows, pk="id", ignore=True)

    def add_fetch_errors(self, rows: Iterable[dict]) -> None:
        self.db.table("fetch_errors").insert_all(rows, pk="id", ignore=True)

    def add_crawl(self, row: dict) -> None:
        self.db.table("crawls").upsert(row, pk="id")

    def add_article(self, row: dict) -> None:
        """Insert an article, or update it from a later capture (keeping ``first_seen``)."""
        existing = self.db.execute(
            "SELECT first_seen, last_seen FROM articles WHERE id = ?", [row["id"]]
        ).fetchone()
        if existing:
            first_seen, last_seen = existing
            if row["first_seen"] < first_seen:  # an older capture read late: keep its date
                self.db.execute(
                    "UPDATE articles SET first_seen = ? WHERE id = ?", [row["first_seen"], row["id"]]
                )
            if row["last_seen"] < last_seen:
                return  # what we hold is newer
            row = {**row, "first_seen": min(first_seen, row["first_seen"])}
        self.db.table("articles").upsert(row, pk="id")

    def mark_duplicates(self) -> int:
        """Point every exact or near copy at the earliest article of its story
        (archive/duplicates.py), NULL for the others; returns how many are copies.

        Only rows whose value changes are written, so the full-text index is not rebuilt.
        """
        articles = self.db.execute("SELECT id, text FROM articles ORDER BY first_seen, id")
        duplicate_of = find_duplicates((row[0], row[1]) for row in articles)
        current = dict(self.db.execute("SELECT id, duplicate_of FROM articles").fetchall())
        changes = [(duplicate_of.get(i), i) for i, was in current.items() if duplicate_of.get(i) != was]
        self.db.conn.executemany("UPDATE articles SET duplicate_of = ? WHERE id = ?", changes)
        return len(duplicate_of)

    def counts(self) -> dict[str, int]:
        return {name: self.db.table(name).count for name in SCHEMA}

    def close(self) -> None:
        self.db.close()


def open_readonly(path: Path) -> sqlite3.Connection | None:
    """A read-only connection to an existing store, or None when there is none yet."""
    if not path.exists():
        return None
    return sqlite3.connect(f"file:{path}?mode=ro", uri=True)
