"""Folding stores into one: ``newsarchive merge DB...``.

Extraction shards by WARC file (``extract --shard K/N``), each shard into its own
SQLite file; merging them gives the store a single ``extract`` of all the files would
give. Rows are keyed as in ``archive/store/db.py`` (WARC record ids, article ids), so the
same rules apply: captures and fetch errors are kept once, an article keeps its earliest
``first_seen`` and the text of its latest capture (``Store.add_articles``), its versions
are derived again from the captures of all stores (versions.py), duplicates
are marked and site boilerplate removed anew over the whole store (a shard sees too
few of a site's pages to learn all of it), and the full-text index is rebuilt. Merging the
same store twice changes nothing.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from archive.document import text_hash
from archive.store.canonical import mark_foreign_copies
from archive.store.db import Store
from archive.store.schema import SCHEMA
from archive.store.versions import Text, derive, settle_all

# The tables a file must have to be a newsarchive store; the others may be missing in a
# store made by an older version.
REQUIRED_TABLES = ("warc_files", "captures", "articles")
SOURCE_ALIAS = "source"


class MergeError(Exception):
    """A file given to merge is not a store that can be merged; nothing was merged."""


@dataclass
class MergeReport:
    stores: int = 0
    added: dict[str, int] = field(default_factory=dict)  # table -> rows new to the target
    articles: int = 0  # articles read (new or updated)
    duplicates: int = 0
    skipped: list[str] = field(default_factory=list)  # tables a store lacks


def _source_columns(path: Path) -> dict[str, list[str]]:
    """Each table of the store at ``path`` -> its columns; raises MergeError if it is not a store."""
    if not path.is_file():
        raise MergeError(f"{path}: no such file")
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            tables = {
                name: [row[1] for row in conn.execute(f"PRAGMA table_info([{name}])")]
                for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
            }
        finally:
            conn.close()
    except sqlite3.DatabaseError as exc:
        raise MergeError(f"{path}: not an SQLite database ({exc})") from None
    missing = [t for t in REQUIRED_TABLES if t not in tables]
    if missing:
        raise MergeError(f"{path}: not a newsarchive store (no table {', '.join(missing)})")
    return tables


def _insert_select(store: Store, table: str, columns: list[str], conflict: str) -> int:
    names = ", ".join(f"[{c}]" for c in columns)
    before = store.db.execute(f"SELECT count(*) FROM [{table}]").fetchone()[0]
    store.db.execute(
        f"INSERT INTO main.[{table}] ({names}) SELECT {names} FROM {SOURCE_ALIAS}.[{table}] WHERE true "
        + conflict
    )
    return store.db.execute(f"SELECT count(*) FROM [{table}]").fetchone()[0] - before


def _pages(store: Store, columns: list[str], size: int = 500) -> Iterator[list[dict]]:
    """The source's articles in pages by id: a cursor left open across writes would lock them."""
    names = ", ".join(f"[{c}]" for c in columns)
    last = ""
    while True:
        rows = store.db.execute(
            f"SELECT {names} FROM {SOURCE_ALIAS}.articles WHERE id > ? ORDER BY id LIMIT {size}", [last]
        ).fetchall()
        if not rows:
            return
        yield [dict(zip(columns, row, strict=True)) for row in rows]
        last = rows[-1][columns.index("id")]


def _merge_one(store: Store, path: Path, tables: dict[str, list[str]], report: MergeReport) -> None:
    def shared(table: str) -> list[str]:
        return [c for c in SCHEMA[table][0] if c in tables[table]]

    store.db.execute(f"ATTACH DATABASE ? AS {SOURCE_ALIAS}", [str(path)])  # read from, never written
    try:
        with store.db.atomic():  # one store is merged whole or not at all
            # Rows keyed by what they are (record ids, crawl ids, ...): kept once, as an extract does.
            for table in SCHEMA:
                if table in ("articles", "warc_files", "article_versions"):
                    continue
                if table not in tables:
                    report.skipped.append(f"{path.name}: {table}")
                    continue
                added = _insert_select(store, table, shared(table), "ON CONFLICT DO NOTHING")
                report.added[table] = report.added.get(table, 0) + added
            # A file read further in one store than in another: keep the further progress.
            columns = shared("warc_files")
            updates = ", ".join(f"[{c}] = excluded.[{c}]" for c in columns if c != "name")
            _insert_select(
                store,
                "warc_files",
                columns,
                f"ON CONFLICT(name) DO UPDATE SET {updates} WHERE excluded.read_to > warc_files.read_to",
            )
            # duplicate_of is marked anew below, versions counted anew (_merge_versions)
            article_columns = [c for c in shared("articles") if c not in ("duplicate_of", "versions")]
            for page in _pages(store, article_columns):
                store.add_articles(page)
                _merge_versions(store, page, "article_versions" in tables)
                report.articles += len(page)
    finally:
        store.db.execute(f"DETACH DATABASE {SOURCE_ALIAS}")
    report.stores += 1


def _merge_versions(store: Store, page: list[dict], has_versions: bool) -> None:
    """The versions of a page of the source's articles derived again from the captures both
    stores hold (captures.article_id and text_hash came with the captures), their texts from
    the source's versions and articles. A store of an older release, whose captures say
    nothing of articles, gives each article the one version of its capture."""
    texts: dict[str, dict[str, Text]] = {}
    marks = []
    for row in page:
        digest = row.get("text_hash") or text_hash(row["text"])
        texts[row["id"]] = {digest: (row["title"], row["text"])}
        marks.append((row["id"], digest, row["capture_id"]))
    store.db.conn.executemany(
        "UPDATE captures SET article_id = ?, text_hash = ? WHERE id = ? AND article_id IS NULL", marks
    )
    if has_versions:
        ids = list(texts)
        for article_id, digest, title, text in store.db.execute(
            f"SELECT article_id, text_hash, title, text FROM {SOURCE_ALIAS}.article_versions"
            f" WHERE article_id IN ({','.join('?' * len(ids))})",
            ids,
        ):
            texts[article_id].setdefault(digest, (title, text))
    derive(store, texts)


def merge(target: Path, sources: list[Path]) -> MergeReport:
    """Fold the stores at ``sources`` into the store at ``target`` (made if missing).

    Every source is checked before anything is written, so a bad file merges nothing.
    """
    checked = []
    for path in sources:
        tables = _source_columns(path)
        if target.exists() and path.resolve() == target.resolve():
            raise MergeError(f"{path}: is the target store itself")
        checked.append((path, tables))
    report = MergeReport()
    store = Store(target)
    try:
        for path, tables in checked:
            _merge_one(store, path, tables, report)
        with store.db.atomic():
            report.duplicates = settle_all(store)  # over the whole store, as one extract would
            mark_foreign_copies(store)  # copies by a canonical of another site, as extract marks them
        store.db.table("articles").rebuild_fts()
    finally:
        store.close()
    return report
