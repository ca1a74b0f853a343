"""Sharded extraction + merge gives the store one extract gives (no Redis needed)."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path
from types import SimpleNamespace

import pytest

from archive.store.ingest import Shard
from archive.store.schema import SCHEMA
from archive.warc.files import list_warc_files
from tests.helpers.cli import newsarchive

SHARDS = 3


def _select(table: str) -> str:
    """Every row of a store table as a plain extract writes it (``read_at`` is when a file was read)."""
    columns = [c for c in SCHEMA[table][0] if not (table == "warc_files" and c == "read_at")]
    names = ", ".join(f"[{c}]" for c in columns)
    return f"SELECT {names} FROM [{table}] ORDER BY {names}"


def _rows(db: Path) -> dict[str, list[tuple]]:
    conn = sqlite3.connect(db)
    try:
        rows = {table: conn.execute(_select(table)).fetchall() for table in SCHEMA}
        rows["fts"] = conn.execute(  # rowids differ with insertion order; what is found must not
            "SELECT a.id FROM articles_fts f JOIN articles a ON a.rowid = f.rowid"
            " WHERE articles_fts MATCH 'the' ORDER BY a.id"
        ).fetchall()
        return rows
    finally:
        conn.close()


@pytest.fixture(scope="module")
def sharded(rotated_crawl, tmp_path_factory):
    """One crawl cut into many small WARC files (conftest.py), extracted plainly and in 3 shards."""
    root = tmp_path_factory.mktemp("shards")
    warcs = list_warc_files(rotated_crawl.data / "warc")
    plain = root / "plain"
    newsarchive("extract", *warcs, data=plain)
    shard_dirs = []
    for k in range(1, SHARDS + 1):
        shard_dir = root / f"shard{k}"
        newsarchive("extract", "--shard", f"{k}/{SHARDS}", *warcs, data=shard_dir)
        shard_dirs.append(shard_dir)
    merged = root / "merged"
    result = newsarchive("merge", *(d / "news.db" for d in shard_dirs), data=merged)
    return SimpleNamespace(
        root=root, warcs=warcs, plain=plain, shards=shard_dirs, merged=merged, merge_result=result
    )


def test_every_file_is_in_exactly_one_shard(sharded):
    # ~900 kB of records at 100 kB a file: about 9 files. Where the cuts fall depends on the
    # order responses arrive in, so only "clearly more files than shards" is asserted.
    assert len(sharded.warcs) > SHARDS, "the crawl should have rotated into several files"
    names = [
        {row[0] for row in sqlite3.connect(d / "news.db").execute("SELECT name FROM warc_files")}
        for d in sharded.shards
    ]
    assert sum(map(len, names)) == len(sharded.warcs)
    assert set().union(*names) == {p.name for p in sharded.warcs}


def test_shard_is_stable_and_by_closed_name():
    shard = Shard(2, 3)
    name = Path("NEWSARCHIVE-20260101000000-00001-host-42.warc.gz")
    open_name = Path(f"{name}.open")
    assert shard.holds(name) == shard.holds(open_name)
    assert [Shard(k, 3).holds(name) for k in (1, 2, 3)].count(True) == 1


def test_merged_shards_equal_a_plain_extract(sharded):
    plain, merged = _rows(sharded.plain / "news.db"), _rows(sharded.merged / "news.db")
    assert plain["articles"] and plain["fts"], "the crawl should have given searchable articles"
    for table in plain:
        assert merged[table] == plain[table], table
    assert "merge: 3 store(s)" in sharded.merge_result.stdout


def test_merging_a_shard_again_changes_nothing(sharded):
    before = _rows(sharded.merged / "news.db")
    newsarchive("merge", sharded.shards[0] / "news.db", sharded.shards[2] / "news.db", data=sharded.merged)
    assert _rows(sharded.merged / "news.db") == before


def _not_a_store(root: Path) -> list[tuple[Path, str]]:
    text = root / "notes.db"
    text.write_text("not a database at all, just words " * 100)
    empty = root / "empty.db"
    sqlite3.connect(empty).execute("CREATE TABLE other (x)").connection.close()
    return [
        (root / "missing.db", "no such file"),
        (text, "not an SQLite database"),
        (empty, "not a newsarchive store (no table warc_files, captures, articles)"),
    ]


def test_a_bad_store_is_named_and_nothing_is_merged(sharded, tmp_path):
    target = tmp_path / "target"
    shutil.copytree(sharded.shards[0], target)
    before = _rows(target / "news.db")
    for bad, message in _not_a_store(tmp_path):
        # the good store first: it must not be merged either
        result = newsarchive("merge", sharded.shards[1] / "news.db", bad, data=target, check=False)
        assert result.returncode == 2, result.stderr
        assert message in result.stderr and "nothing merged" in result.stderr
        assert _rows(target / "news.db") == before


def test_merging_the_target_into_itself_is_refused(sharded, tmp_path):
    target = tmp_path / "target"
    shutil.copytree(sharded.shards[0], target)
    result = newsarchive("merge", target / "news.db", data=target, check=False)
    assert result.returncode == 2 and "is the target store itself" in result.stderr


@pytest.mark.parametrize("bad", ["0/3", "4/3", "two/3", "3", "1/0"])
def test_a_bad_shard_is_a_usage_error(bad, tmp_path):
    result = newsarchive("extract", "--shard", bad, data=tmp_path, check=False)
    assert result.returncode == 2
    assert "K/N" in result.stderr
    assert not (tmp_path / "news.db").exists()
