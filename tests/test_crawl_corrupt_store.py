"""``crawl`` with a ``news.db`` it cannot read (issue 17): it still archives, from the WARC
files alone, says in one line that the store is unusable and how to rebuild it, and ends
with the storage-fault exit code (5)."""

from __future__ import annotations

import os
import shutil
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import closing
from pathlib import Path
from types import SimpleNamespace

import pytest
from warcio.archiveiterator import ArchiveIterator

from archive.demo.site import NewsSite
from tests.helpers.cli import FAST, newsarchive


def _garbage(db: Path) -> None:
    db.write_bytes(os.urandom(64 * 1024))
    for suffix in ("-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)


def _truncated(db: Path) -> None:
    with closing(sqlite3.connect(db)) as conn:  # everything in the main file, then cut it short
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    os.truncate(db, db.stat().st_size // 3)


def _directory(db: Path) -> None:
    db.unlink()
    db.mkdir()


@pytest.fixture(scope="module")
def archived(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SimpleNamespace]:
    """A feed's articles crawled and extracted once; the site keeps serving."""
    data = tmp_path_factory.mktemp("corrupt-store")
    with NewsSite() as site:
        (data / "sites.toml").write_text(
            f'[[sites]]\nname = "rss"\nfeeds = ["{site.url("/feeds/rss.xml")}"]\n'
        )
        newsarchive("crawl", "--sites", data / "sites.toml", *FAST, data=data)
        newsarchive("extract", data=data)
        yield SimpleNamespace(data=data, site=site)


@pytest.mark.parametrize("spoil", [_garbage, _truncated, _directory], ids=lambda f: f.__name__.strip("_"))
def test_crawl_archives_without_a_usable_store_and_says_how_to_rebuild(
    archived: SimpleNamespace, tmp_path: Path, spoil: Callable[[Path], None]
) -> None:
    data = tmp_path / "data"
    shutil.copytree(archived.data, data)
    spoil(data / "news.db")
    before = set((data / "warc").glob("*.warc.gz"))
    mark = len(archived.site.served())

    result = newsarchive("crawl", "--sites", data / "sites.toml", *FAST, data=data, check=False)

    assert result.returncode == 5, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    said = [line for line in result.stderr.splitlines() if line.startswith("crawl: error:")]
    assert len(said) == 1 and "unusable" in said[0], result.stderr
    assert "news.db" in said[0] and "newsarchive extract --rebuild" in said[0]
    # Archived all the same, with what the WARC files know: the feed asked conditionally
    # (answered 304), the articles already archived not fetched again.
    served = archived.site.served()[mark:]
    assert [r.status for r in served if r.path == "/feeds/rss.xml"] == [304]
    assert not [r.path for r in served if r.path.startswith("/news/")]
    written = sorted(set((data / "warc").glob("*.warc.gz")) - before)
    assert written
    statuses = []
    for path in written:
        with open(path, "rb") as fh:
            statuses += [
                int(r.http_headers.get_statuscode()) for r in ArchiveIterator(fh) if r.rec_type == "response"
            ]
    assert 304 in statuses


def test_the_rebuild_the_crawl_names_repairs_the_store(archived: SimpleNamespace, tmp_path: Path) -> None:
    data = tmp_path / "data"
    shutil.copytree(archived.data, data)
    count = "SELECT count(*) FROM articles"
    with closing(sqlite3.connect(data / "news.db")) as conn:
        articles = conn.execute(count).fetchone()
    _garbage(data / "news.db")
    newsarchive("crawl", "--sites", data / "sites.toml", *FAST, data=data, check=False)
    newsarchive("extract", "--rebuild", data=data)
    with closing(sqlite3.connect(data / "news.db")) as conn:
        assert conn.execute(count).fetchone() == articles


def test_replay_without_a_usable_store_says_so(archived: SimpleNamespace, tmp_path: Path) -> None:
    data = tmp_path / "data"
    shutil.copytree(archived.data, data)
    _garbage(data / "news.db")
    result = newsarchive("replay", "--sites", data / "sites.toml", data=data, check=False)
    assert result.returncode == 5 and "Traceback" not in result.stderr
    said = [line for line in result.stderr.splitlines() if line.startswith("replay: error:")]
    assert len(said) == 1 and "newsarchive extract --rebuild" in said[0]
    assert "0 misses" in result.stdout  # answered from the WARC files all the same
