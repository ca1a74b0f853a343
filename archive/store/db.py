"""The SQLite store (``news.db``) opened for writing: the rows extract and merge write.

Its tables and migrations are in schema.py; what is worked out from the articles after
they change (copies, site boilerplate) in settle.py.

Everything here can be rebuilt from the WARC files (DESIGN.md, principle 1): rows are
keyed by WARC record ids and article ids, so reading a record twice changes nothing.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache
from pathlib import Path

import sqlite_utils

from archive.store.schema import MIGRATIONS


class Store:
    """``news.db``, opened for writing (WAL, so Datasette can read while we write)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite_utils.Database(self.path)
        self.db.enable_wal()
        self.db.execute("PRAGMA synchronous=NORMAL")
        MIGRATIONS.apply(self.db)

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

    def add_articles(self, rows: Iterable[dict]) -> None:
        """Insert articles, or update them from a later capture (keeping the earliest ``first_seen``).

        Plain SQL rather than sqlite-utils' upsert, whose per-call table introspection and
        row conversion cost more than the write itself.
        """
        rows = list(rows)
        if rows:
            self.db.conn.execute("UPDATE settle_state SET pending = 1")
        for row in rows:
            columns = tuple(row)
            self.db.conn.execute(_upsert_article(columns), [row[c] for c in columns])

    @property
    def settle_pending(self) -> bool:
        """Articles were added or changed since the last ``mark_settled``."""
        return bool(self.db.execute("SELECT pending FROM settle_state").fetchone()[0])

    def mark_settled(self) -> None:
        """Copies and boilerplate are worked out for the articles held (settle.py)."""
        self.db.conn.execute("UPDATE settle_state SET pending = 0")

    def close(self) -> None:
        self.db.close()


@cache
def _upsert_article(columns: tuple[str, ...]) -> str:
    """The INSERT of an article with these columns that, for an article we hold, takes the
    new values only from a capture at least as recent, and the earliest first_seen always
    (a capture older than the text we hold, read late, still moves it back)."""
    newer = "excluded.last_seen >= articles.last_seen"
    updates = [
        f"[{c}] = CASE WHEN {newer} THEN excluded.[{c}] ELSE articles.[{c}] END"
        for c in columns
        if c not in ("id", "first_seen")
    ]
    updates.append("first_seen = min(articles.first_seen, excluded.first_seen)")
    names = ", ".join(f"[{c}]" for c in columns)
    return (
        f"INSERT INTO articles ({names}) VALUES ({', '.join('?' * len(columns))})"
        f" ON CONFLICT(id) DO UPDATE SET {', '.join(updates)}"
    )
