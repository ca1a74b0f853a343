"""A store made by the previous release opens with today's code: its schema brought up to
date by the migrations, its rows and full-text index kept, and nothing done twice."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest
import sqlite_utils

from archive.store.db import Store
from archive.store.merge import merge
from archive.store.schema import FTS_UPDATE_TRIGGER, INDEXES, MIGRATIONS, SCHEMA
from archive.store.settle import settle
from tests.helpers.cli import newsarchive

# Made by commit 72e44a2's ``newsarchive demo``, trimmed to 6 articles (tests/data/README.md).
PREVIOUS_RELEASE = Path(__file__).parent / "data" / "news-72e44a2.db"
KOBE = "fe67b69e046120c2"  # the only article with the word "kobe"


@pytest.fixture
def old_store(tmp_path: Path) -> Path:
    path = tmp_path / "news.db"
    shutil.copyfile(PREVIOUS_RELEASE, path)
    return path


def _rows(path: Path) -> dict[str, list[tuple]]:
    """Every row of the store's tables, the full-text index's included, in a set order."""
    conn = sqlite3.connect(path)
    try:
        tables = {*SCHEMA, "settle_state"} & {t for (t,) in conn.execute("SELECT name FROM sqlite_master")}
        rows = {t: sorted(conn.execute(f"SELECT * FROM [{t}]"), key=repr) for t in tables}
        rows["fts"] = conn.execute("SELECT rowid, title, text FROM articles_fts ORDER BY rowid").fetchall()
        return rows
    finally:
        conn.close()


def _schema(db: sqlite_utils.Database) -> set[tuple]:
    """Tables with their columns (name, type, key) and indexes, and the triggers' SQL.

    Not the tables' CREATE text: a column added to an old store by ALTER TABLE stands in it
    differently than in a new store's CREATE TABLE, for the same table.
    """
    found: set[tuple] = set()
    for kind, name, table, sql in db.execute("SELECT type, name, tbl_name, sql FROM sqlite_master"):
        if kind == "table":
            columns = db.execute(f"PRAGMA table_info([{name}])").fetchall()
            found.add((kind, name, frozenset((c[1], c[2], c[5]) for c in columns)))
        elif kind == "index":
            columns = tuple(row[2] for row in db.execute(f"PRAGMA index_info([{name}])"))
            found.add((kind, name, table, columns))
        else:
            found.add((kind, name, table, sql))
    return found


def _found(store: Store, word: str) -> set[str]:
    query = "SELECT a.id FROM articles_fts f JOIN articles a ON a.rowid = f.rowid WHERE articles_fts MATCH ?"
    return {row[0] for row in store.db.execute(query, [word])}


def _assert_todays_schema(db: sqlite_utils.Database) -> None:
    for name, (columns, pk) in SCHEMA.items():
        table = db.table(name)
        assert table.exists(), name
        assert {c: table.columns_dict.get(c) for c in columns} == columns, name
        assert table.pks == ([pk] if isinstance(pk, str) else list(pk)), name
    for name, indexes in INDEXES.items():
        assert {tuple(c) for c in indexes} <= {tuple(i.columns) for i in db.table(name).indexes}, name
    assert db.table("articles_fts").exists()
    triggers = dict(db.execute("SELECT name, sql FROM sqlite_master WHERE type = 'trigger'").fetchall())
    assert set(triggers) == {"articles_ai", "articles_ad", "articles_au"}
    assert triggers["articles_au"] == FTS_UPDATE_TRIGGER
    assert db.table("settle_state").exists()


def _all_migrations() -> list[str]:
    return [m.name for m in MIGRATIONS.pending(sqlite_utils.Database(memory=True))]


def test_a_store_of_the_previous_release_opens_with_its_rows_and_todays_schema(old_store, tmp_path):
    before = _rows(old_store)
    assert len(before["articles"]) == 6 and before["settle_state"] == [(1, 0)]
    store = Store(old_store)
    _assert_todays_schema(store.db)
    new = Store(tmp_path / "new.db")
    assert _schema(store.db) == _schema(new.db), "as a new store is made"
    new.close()
    assert [m.name for m in MIGRATIONS.applied(store.db)] == _all_migrations()
    assert not MIGRATIONS.pending(store.db)
    store.close()
    after = _rows(old_store)
    # Columns added by the migrations come after the old ones: the old ones are unchanged.
    kept = dict(after)
    for table in before:
        if before[table] and table in SCHEMA:
            kept[table] = sorted((row[: len(before[table][0])] for row in after[table]), key=repr)
    versions = kept.pop("article_versions")
    assert kept == before, "every row kept; settled stays settled"
    # each article starts with one version: the text it has
    assert sorted((v[0], v[1], v[5]) for v in versions) == sorted((a[0], 1, a[5]) for a in before["articles"])


def test_its_full_text_index_still_finds_and_follows_updates(old_store):
    store = Store(old_store)
    assert _found(store, "kobe") == {KOBE}
    before = store.db.conn.total_changes
    store.db.execute("UPDATE articles SET duplicate_of = 'x' WHERE id = ?", [KOBE])
    assert store.db.conn.total_changes - before == 1, "marking a copy does not re-index its text"
    text = "Masks found\n\nPangolins returned them."
    store.db.execute("UPDATE articles SET title = 'Masks found', text = ? WHERE id = ?", [text, KOBE])
    assert _found(store, "pangolins") == {KOBE} and not _found(store, "kobe")
    store.close()


def test_opening_it_again_applies_nothing(old_store):
    Store(old_store).close()
    with sqlite3.connect(old_store) as conn:
        applied = conn.execute("SELECT * FROM _sqlite_migrations").fetchall()
    store = Store(old_store)
    assert store.db.conn.total_changes == 0, "nothing written on opening"
    assert store.db.execute("SELECT * FROM _sqlite_migrations").fetchall() == applied
    store.close()


def test_it_keeps_working_after_an_extract_and_merges(old_store, tmp_path):
    store = Store(old_store)
    article = {
        "id": "new",
        "url": "http://127.0.0.1/new",
        "title": "Okapis",
        "text": "Okapis\n\nOkapis crossed the road today.",
        "first_seen": "2026-12-01T00:00:00Z",
        "last_seen": "2026-12-01T00:00:00Z",
    }
    with store.db.atomic():
        store.add_articles([article])
        assert settle(store) == 0
    assert _found(store, "okapis") == {"new"}
    store.close()
    source = tmp_path / "source.db"
    shutil.copyfile(PREVIOUS_RELEASE, source)
    report = merge(tmp_path / "merged.db", [source])  # an old store, read as it is
    assert report.articles == 6 and not report.skipped


@pytest.mark.parametrize(
    "lacks",
    [
        "ALTER TABLE articles DROP COLUMN duplicate_of",
        "DROP INDEX idx_articles_language",
        "DROP TABLE crawls",
        "DROP TABLE settle_state",
    ],
)
def test_what_an_older_store_lacks_is_added(old_store, lacks):
    with sqlite3.connect(old_store) as conn:
        conn.execute(lacks)
        conn.execute("DROP TRIGGER articles_au")  # as sqlite-utils made it: on any update
        conn.execute(
            "CREATE TRIGGER articles_au AFTER UPDATE ON articles BEGIN"
            " INSERT INTO articles_fts (articles_fts, rowid, title, text)"
            " VALUES('delete', old.rowid, old.title, old.text);"
            " INSERT INTO articles_fts (rowid, title, text) VALUES (new.rowid, new.title, new.text); END"
        )
    store = Store(old_store)
    _assert_todays_schema(store.db)
    pending = store.db.execute("SELECT pending FROM settle_state").fetchall()
    assert pending == [(1,)] if "settle_state" in lacks else [(0,)], "a store that never settled settles once"
    assert len(store.db.execute("SELECT id FROM articles").fetchall()) == 6
    store.close()


def test_stats_on_a_store_not_yet_upgraded_says_how_and_extract_upgrades_it(old_store):
    """``stats`` only reads (it may run on a read-only copy): it names the fix, extract applies it."""
    data = old_store.parent
    (data / "warc").mkdir(exist_ok=True)
    result = newsarchive("stats", data=data, check=False)
    assert result.returncode == 3
    assert "made by an older release" in result.stderr and "newsarchive extract" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    newsarchive("extract", data=data)
    assert "articles      6" in newsarchive("stats", data=data).stdout
