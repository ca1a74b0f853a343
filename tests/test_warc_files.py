"""A file is known by what it is, not its name (issue 15): two files of one name, a moved
file, ``extract --rebuild`` of a store fed from paths outside data/warc.

Each test failed before the store kept each file's path and content key.
"""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

from tests.helpers.cli import newsarchive

FOREIGN = Path(__file__).parent / "data" / "warc"


def _count(data: Path, sql: str) -> int:
    with sqlite3.connect(data / "news.db") as conn:
        return conn.execute(sql).fetchone()[0]


def _two_crawls(tmp_path: Path) -> tuple[Path, Path]:
    """Two different files both called crawl.warc.gz, in two folders (as two wget runs leave)."""
    first, second = tmp_path / "monday" / "crawl.warc.gz", tmp_path / "tuesday" / "crawl.warc.gz"
    for source, target in ((FOREIGN / "example.warc.gz", first), (FOREIGN / "IAH-urls-wget.warc.gz", second)):
        target.parent.mkdir(parents=True)
        shutil.copy(source, target)
    return first, second


def test_two_files_of_one_name_are_both_read(tmp_path):
    """Was: the second crawl.warc.gz skipped, or read from the first one's end offset."""
    first, second = _two_crawls(tmp_path)
    data = tmp_path / "data"
    newsarchive("extract", first, data=data)
    newsarchive("extract", second, data=data)
    assert _count(data, "SELECT count(*) FROM captures") == 2 + 16
    assert _count(data, "SELECT count(DISTINCT warc_file) FROM captures") == 2
    assert _count(data, "SELECT count(*) FROM warc_files WHERE read_to = size") == 2


def test_moved_file_is_not_read_twice(tmp_path):
    first, _ = _two_crawls(tmp_path)
    data = tmp_path / "data"
    newsarchive("extract", first, data=data)
    moved = tmp_path / "archive" / "renamed.warc.gz"
    moved.parent.mkdir()
    first.rename(moved)
    again = newsarchive("extract", moved, data=data)
    assert "extract: 0 records from 0 WARC file(s)" in again.stdout
    assert _count(data, "SELECT count(*) FROM warc_files") == 1
    with sqlite3.connect(data / "news.db") as conn:
        assert conn.execute("SELECT path FROM warc_files").fetchone() == (str(moved),)


def test_rebuild_reads_files_from_where_they_were(tmp_path):
    """Was: `extract --rebuild` of a store fed from paths outside data/warc made an empty
    store, exit 0."""
    first, second = _two_crawls(tmp_path)
    data = tmp_path / "data"
    newsarchive("extract", first, second, data=data)
    before = _count(data, "SELECT count(*) FROM captures")
    result = newsarchive("extract", "--rebuild", data=data, check=False)
    assert result.returncode == 0, result.stderr
    assert _count(data, "SELECT count(*) FROM captures") == before == 18


def test_rebuild_refuses_when_a_file_is_gone(tmp_path):
    first, second = _two_crawls(tmp_path)
    data = tmp_path / "data"
    newsarchive("extract", first, second, data=data)
    second.unlink()
    result = newsarchive("extract", "--rebuild", data=data, check=False)
    assert result.returncode == 3
    assert "crawl.warc.gz" in result.stderr and "nothing changed" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert _count(data, "SELECT count(*) FROM captures") == 18  # the old store is untouched


def test_open_file_closed_later_is_not_read_again(tmp_path):
    """A crawl's .open file grows and is renamed: it stays one file, read on from where it was."""
    warc = tmp_path / "data" / "warc"
    warc.mkdir(parents=True)
    whole = (FOREIGN / "IAH-urls-wget.warc.gz").read_bytes()
    part = warc / "NEWSARCHIVE-x.warc.gz.open"
    part.write_bytes(whole[:20000])
    data = tmp_path / "data"
    newsarchive("extract", data=data, check=False)
    read_first = _count(data, "SELECT count(*) FROM captures")
    part.write_bytes(whole)
    part.rename(warc / "NEWSARCHIVE-x.warc.gz")
    newsarchive("extract", data=data)
    assert 0 < read_first < 16
    assert _count(data, "SELECT count(*) FROM captures") == 16
    assert _count(data, "SELECT count(*) FROM warc_files") == 1
