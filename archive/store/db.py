"""The SQLite store (``news.db``) opened for writing: the rows extract and merge write.

Its tables and migrations are in schema.py; what is worked out from the articles after
they change (copies, site boilerplate) in settle.py.

Everything here can be rebuilt from the WARC files (DESIGN.md, principle 1): rows are
keyed by WARC record ids and article ids, so reading a record twice changes nothing.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path

from archive.store.timings import TIMINGS


@contextmanager
def _hidden(*modules: str) -> Iterator[None]:
    """Imports of ``modules`` fail in the block (those not loaded yet), then work again."""
    hidden = [name for name in modules if name not in sys.modules]
    sys.modules.update(dict.fromkeys(hidden))  # None: "import name" raises ImportError
    try:
        yield
    finally:
        for name in hidden:
            if sys.modules.get(name, False) is None:
                del sys.modules[name]


# sqlite-utils imports pandas and numpy when they are installed (the dataset export's
# dependencies bring them), only to map their types in insert_all: ~0.5 s of CPU at every
# start of extract, most of a second extract that finds nothing new. The store inserts
# plain Python values only, so sqlite-utils is loaded without them (when it loads here
# first); they import normally afterwards.
with _hidden("pandas", "numpy"):
    import sqlite_utils

from archive.store.schema import MIGRATIONS  # noqa: E402 (after sqlite-utils, on purpose)


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
        with TIMINGS.stage("store: captures"):
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
        with TIMINGS.stage("store: article upserts (FTS included)"):
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
    # Newer than the capture the held text came from: last_seen may have moved past it (a 304,
    # a revisit record), and a capture between the two still brings a newer text (issue 18).
    held = (
        "coalesce((SELECT c.fetched_at FROM captures c WHERE c.id = articles.capture_id), articles.last_seen)"
    )
    newer = f"excluded.last_seen >= {held}"
    updates = [
        f"[{c}] = CASE WHEN {newer} THEN excluded.[{c}] ELSE articles.[{c}] END"
        for c in columns
        if c not in ("id", "first_seen", "last_seen")
    ]
    updates.append("first_seen = min(articles.first_seen, excluded.first_seen)")
    updates.append("last_seen = max(articles.last_seen, excluded.last_seen)")
    names = ", ".join(f"[{c}]" for c in columns)
    return (
        f"INSERT INTO articles ({names}) VALUES ({', '.join('?' * len(columns))})"
        f" ON CONFLICT(id) DO UPDATE SET {', '.join(updates)}"
    )
