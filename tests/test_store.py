"""The store's writes: articles from several captures, fingerprints made once, old stores upgraded."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlite_utils

import archive.store.copies
import archive.store.settle
from archive.demo.site import CORPUS_DIR, load_manifest
from archive.document import text_hash
from archive.store.copies import Fingerprint, find_duplicates
from archive.store.db import Store
from archive.store.schema import SCHEMA
from archive.store.settle import mark_duplicates, settle

CORPUS = CORPUS_DIR
STORIES = [row for row in load_manifest(CORPUS) if len(row["expected"].get("body") or "") > 1500][:4]


def _article(n: int, body: str, seen: str, title: str | None = None) -> dict:
    text = f"{title or f'Headline {n}'}\n\n{body}"
    return {
        "id": f"id{n}",
        "url": f"http://127.0.0.1/{n}",
        "title": text.partition("\n")[0],
        "text": text,
        "first_seen": seen,
        "last_seen": seen,
        "text_hash": text_hash(text),
    }


def _articles() -> list[dict]:
    """Four stories, a copy of the first under another headline, and a copy first seen earliest."""
    bodies = [row["expected"]["body"] for row in STORIES]
    rows = [_article(n, body, f"2026-11-0{n + 1}T00:00:00Z") for n, body in enumerate(bodies)]
    rows.append(_article(4, bodies[0], "2026-11-08T00:00:00Z", "Retitled wire copy"))
    rows.append(_article(5, bodies[1] + "\n\nDistributed by the wire.", "2026-10-30T00:00:00Z"))
    return rows


def _expected(store: Store) -> dict[str, str]:
    """Copies as computed from the documents alone, oldest first: what the store must say."""
    rows = store.db.execute("SELECT id, text FROM articles ORDER BY first_seen, id").fetchall()
    return find_duplicates((i, Fingerprint.of(text)) for i, text in rows)


def _marked(store: Store) -> dict[str, str]:
    return dict(store.db.execute("SELECT id, duplicate_of FROM articles WHERE duplicate_of IS NOT NULL"))


def _found(store: Store, word: str) -> set[str]:
    query = "SELECT a.id FROM articles_fts f JOIN articles a ON a.rowid = f.rowid WHERE articles_fts MATCH ?"
    return {row[0] for row in store.db.execute(query, [word])}


def test_later_capture_replaces_text_earlier_one_moves_first_seen(tmp_path):
    store = Store(tmp_path / "news.db")
    first = _article(0, "Zebras crossed the road today.", "2026-11-02T00:00:00Z")
    later = {**_article(0, "Giraffes crossed the road today.", "2026-11-03T00:00:00Z"), "title": "New"}
    earlier = _article(0, "Okapis crossed the road today.", "2026-11-01T00:00:00Z")
    store.add_articles([first, later, earlier])
    row = store.db.execute("SELECT title, text, first_seen, last_seen FROM articles").fetchall()
    assert row == [("New", later["text"], earlier["first_seen"], later["last_seen"])]
    assert _found(store, "giraffes") == {"id0"} and not _found(store, "zebras") | _found(store, "okapis")


def test_a_new_capture_of_the_same_text_is_not_indexed_again(tmp_path):
    store = Store(tmp_path / "news.db")
    store.add_articles([_article(0, "Zebras crossed the road today.", "2026-11-02T00:00:00Z")])
    again = _article(0, "Zebras crossed the road today.", "2026-11-03T00:00:00Z")
    before = store.db.conn.total_changes
    store.add_articles([again])
    # the row itself, and the flag that says copies need working out again
    assert store.db.conn.total_changes - before == 2, "no full-text index rows are written"
    assert store.db.execute("SELECT last_seen FROM articles").fetchone() == (again["last_seen"],)
    assert _found(store, "zebras") == {"id0"}


def test_fingerprints_are_made_once_per_text_and_dropped_with_it(tmp_path, monkeypatch):
    monkeypatch.setattr(archive.store.settle, "FINGERPRINT_PAGE", 2)  # several pages of texts
    store = Store(tmp_path / "news.db")
    rows = _articles()
    store.add_articles(rows[:3])
    mark_duplicates(store)
    store.add_articles(rows[3:])  # a later run: one of them first seen before all others
    made = []
    monkeypatch.setattr(
        Fingerprint, "of", lambda document, real=Fingerprint.of: made.append(1) or real(document)
    )
    assert mark_duplicates(store) == 2
    assert len(made) == 3, "only the new articles' texts are hashed"
    assert _marked(store) == _expected(store) == {"id4": "id0", "id1": "id5"}

    made.clear()
    changed = rows[4]["text"] + "\n\nA correction appended."
    store.db.execute(
        "UPDATE articles SET text = ?, text_hash = ? WHERE id = 'id4'", [changed, text_hash(changed)]
    )
    mark_duplicates(store)
    assert len(made) == 1
    assert _marked(store) == _expected(store)
    kept = {row[0] for row in store.db.execute("SELECT text_hash FROM fingerprints")}
    assert kept == {row[0] for row in store.db.execute("SELECT text_hash FROM articles")}


def test_fingerprints_of_other_parameters_are_made_again(tmp_path, monkeypatch):
    store = Store(tmp_path / "news.db")
    store.add_articles(_articles())
    mark_duplicates(store)
    for module in (archive.store.copies, archive.store.settle):  # where they are made, and looked for
        monkeypatch.setattr(module, "FINGERPRINT_PARAMS", "other parameters")
    mark_duplicates(store)
    assert {row[0] for row in store.db.execute("SELECT DISTINCT params FROM fingerprints")} == {
        "other parameters"
    }
    assert _marked(store) == _expected(store)


def _rows_written(store: Store, sql: str) -> int:
    """Rows the statement wrote, its triggers' (the full-text index's) included."""
    before = store.db.conn.total_changes
    store.db.execute(sql)
    return store.db.conn.total_changes - before


def test_marking_a_copy_does_not_reindex_its_text(tmp_path):
    store = Store(tmp_path / "news.db")
    store.add_articles(_articles())
    assert _rows_written(store, "UPDATE articles SET duplicate_of = 'id1' WHERE id = 'id0'") == 1
    store.db.execute("UPDATE articles SET text = 'Headline 2\n\nPangolins only.' WHERE id = 'id2'")
    assert _found(store, "pangolins") == {"id2"}


def _old_store(path: Path, rows: list[dict]) -> None:
    """A store as the version before fingerprints made it: sqlite-utils' own FTS triggers,
    sqlite-utils' upsert, and one article without text_hash."""
    db = sqlite_utils.Database(path)
    for name, (columns, pk) in SCHEMA.items():
        if name != "fingerprints":
            db.table(name).create(columns, pk=pk)
    db.table("articles").enable_fts(["title", "text"], create_triggers=True)
    for row in rows:
        db.table("articles").upsert(
            {**row, "text_hash": None if row["id"] == "id4" else row["text_hash"]}, pk="id"
        )
    db.close()


@pytest.mark.parametrize("reopen", [False, True])
def test_a_store_of_the_previous_version_keeps_working(tmp_path, reopen):
    path = tmp_path / "news.db"
    rows = _articles()
    _old_store(path, rows)
    store = Store(path)
    if reopen:  # opening twice changes nothing more
        store.close()
        store = Store(path)
    assert mark_duplicates(store) == 2
    assert _marked(store) == _expected(store)
    assert store.db.execute("SELECT text_hash FROM articles WHERE id = 'id4'").fetchone() == (
        rows[4]["text_hash"],
    )
    triggers = store.db.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'").fetchall()
    assert sorted(triggers) == [("articles_ad",), ("articles_ai",), ("articles_au",)]
    assert _rows_written(store, "UPDATE articles SET duplicate_of = NULL WHERE id = 'id4'") == 1
    store.db.execute("UPDATE articles SET text = 'Headline 3\n\nAardvarks only.' WHERE id = 'id3'")
    assert _found(store, "aardvarks") == {"id3"}
    store.close()


def test_settling_is_skipped_until_articles_change_and_survives_a_kill(tmp_path, monkeypatch):
    store = Store(tmp_path / "news.db")
    with store.db.atomic():  # as extract commits a batch: rows and the flag together
        store.add_articles(_articles())
    store.close()  # killed before settling: the next run must still settle
    store = Store(tmp_path / "news.db")
    assert store.settle_pending
    with store.db.atomic():
        assert settle(store) == 2
    assert not store.settle_pending

    def must_not_run(store):
        raise AssertionError("nothing changed: copies need no working out")

    monkeypatch.setattr(archive.store.settle, "mark_duplicates", must_not_run)
    assert settle(store) == 2  # the count, read from the store
    monkeypatch.undo()
    store.add_articles([_article(9, "A new story of a few words.", "2026-11-09T00:00:00Z")])
    assert store.settle_pending
    store.close()
