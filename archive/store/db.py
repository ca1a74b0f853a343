"""The SQLite store (``news.db``): schema, writes and the queries other parts need.

Everything here can be rebuilt from the WARC files (DESIGN.md, principle 1): rows are
keyed by WARC record ids and article ids, so reading a record twice changes nothing.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from functools import cache
from pathlib import Path

import sqlite_utils

from archive.document import text_hash
from archive.store.copies import FINGERPRINT_PARAMS, Fingerprint, find_duplicates

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
    # Each text's fingerprint for duplicate detection (archive/duplicates.py), made once.
    "fingerprints": ({"text_hash": str, "params": str, "body_hash": str, "minhash": bytes}, "text_hash"),
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
FINGERPRINT_PAGE = 200  # articles whose texts are read at once to fingerprint them
# sqlite-utils' FTS update trigger re-indexes a row's text on any update; this one only when
# the title or text changes: not when copies are marked, nor for a new capture of the same text.
FTS_UPDATE_TRIGGER = """CREATE TRIGGER [articles_au] AFTER UPDATE OF [title], [text] ON [articles]
WHEN old.[title] IS NOT new.[title] OR old.[text] IS NOT new.[text] BEGIN
  INSERT INTO [articles_fts] ([articles_fts], rowid, [title], [text])
    VALUES('delete', old.rowid, old.[title], old.[text]);
  INSERT INTO [articles_fts] (rowid, [title], [text]) VALUES (new.rowid, new.[title], new.[text]);
END"""


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
        # Whether articles changed since copies and boilerplate were last settled
        # (archive/boilerplate.settle). Set in the same transaction as the article rows, so a
        # run killed before settling leaves it set; a store that lacked it is settled once.
        # Not in SCHEMA: it is this file's own state, nothing to merge or to browse.
        self.db.execute(
            "CREATE TABLE IF NOT EXISTS settle_state (id INTEGER PRIMARY KEY CHECK (id = 1), pending INTEGER)"
        )
        self.db.execute("INSERT OR IGNORE INTO settle_state VALUES (1, 1)")
        trigger = self.db.execute("SELECT sql FROM sqlite_master WHERE name = 'articles_au'").fetchone()
        if trigger != (FTS_UPDATE_TRIGGER,):  # a new store, or one made by an older version
            with self.db.atomic():
                self.db.execute("DROP TRIGGER IF EXISTS [articles_au]")
                self.db.execute(FTS_UPDATE_TRIGGER)

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
        self.db.conn.execute("UPDATE settle_state SET pending = 0")

    def count_duplicates(self) -> int:
        return self.db.execute("SELECT count(*) FROM articles WHERE duplicate_of IS NOT NULL").fetchone()[0]

    def mark_duplicates(self) -> int:
        """Point every exact or near copy at the earliest article of its story
        (archive/duplicates.py), NULL for the others; returns how many are copies.

        Fingerprints are made only for texts that have none yet (new or changed articles)
        and dropped with the last article of their text. Only rows whose value changes are
        written.
        """
        self._add_fingerprints()
        articles = self.db.conn.execute(
            """
            SELECT a.id, f.body_hash, f.minhash
            FROM articles a JOIN fingerprints f ON f.text_hash = a.text_hash
            ORDER BY a.first_seen, a.id
            """
        )
        duplicate_of = find_duplicates((row[0], Fingerprint.stored(row[1], row[2])) for row in articles)
        current = dict(self.db.execute("SELECT id, duplicate_of FROM articles").fetchall())
        changes = [(duplicate_of.get(i), i) for i, was in current.items() if duplicate_of.get(i) != was]
        self.db.conn.executemany("UPDATE articles SET duplicate_of = ? WHERE id = ?", changes)
        self.db.execute(
            "DELETE FROM fingerprints WHERE NOT EXISTS"
            " (SELECT 1 FROM articles a WHERE a.text_hash = fingerprints.text_hash)"
        )
        return len(duplicate_of)

    def _add_fingerprints(self) -> None:
        """Fingerprint the texts that have none (with the current parameters), a page of
        articles at a time so that a first extract does not hold every text at once."""
        last = 0
        while True:
            missing = self.db.execute(
                """
                SELECT rowid, id, text, text_hash FROM articles a WHERE rowid > ? AND NOT EXISTS
                    (SELECT 1 FROM fingerprints f WHERE f.text_hash = a.text_hash AND f.params = ?)
                ORDER BY rowid LIMIT ?
                """,
                [last, FINGERPRINT_PARAMS, FINGERPRINT_PAGE],
            ).fetchall()
            if not missing:
                return
            last = missing[-1][0]
            made = set()
            for _, article_id, text, stored_hash in missing:
                key = text_hash(text)
                if key != stored_hash:  # a row of an older store without (or with a stale) text_hash
                    self.db.execute("UPDATE articles SET text_hash = ? WHERE id = ?", [key, article_id])
                if key in made:  # the same text twice
                    continue
                made.add(key)
                fingerprint = Fingerprint.of(text)
                self.db.execute(
                    "INSERT OR REPLACE INTO fingerprints (text_hash, params, body_hash, minhash)"
                    " VALUES (?, ?, ?, ?)",
                    [key, FINGERPRINT_PARAMS, fingerprint.body_hash, fingerprint.minhash_bytes()],
                )

    def counts(self) -> dict[str, int]:
        return {name: self.db.table(name).count for name in SCHEMA}

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


def open_readonly(path: Path) -> sqlite3.Connection | None:
    """A read-only connection to an existing store, or None when there is none yet."""
    if not path.exists():
        return None
    return sqlite3.connect(f"file:{path}?mode=ro", uri=True)
