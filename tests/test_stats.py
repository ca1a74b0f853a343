"""Progress and summaries: ``newsarchive stats`` and the progress bar of ``extract``."""

from __future__ import annotations

import fcntl
import os
import pty
import re
import shutil
import sqlite3
import struct
import subprocess
import termios

import pytest

from tests.helpers.cli import command, newsarchive


@pytest.fixture(scope="module")
def crawled(routes_crawl):
    """The session's crawl of every route and the bad pages, extracted (conftest.py)."""
    return routes_crawl.data


def test_stats_summarises_the_archive(crawled):
    out = newsarchive("stats", data=crawled).stdout
    db = sqlite3.connect(crawled / "news.db")
    warc_files = sorted((crawled / "warc").glob("*.warc.gz"))
    megabytes = sum(p.stat().st_size for p in warc_files) / 1e6
    assert (
        f"WARC files    {len(warc_files)} ({megabytes:,.1f} MB), {len(warc_files)} read into news.db" in out
    )
    for status, count in db.execute("SELECT status, count(*) FROM captures GROUP BY 1"):
        assert f"{status}: {count}" in out
    articles, duplicates = db.execute("SELECT count(*), count(duplicate_of) FROM articles").fetchone()
    assert f"articles      {articles}, of which {duplicates} duplicates" in out
    # Per site, articles and copies of earlier ones (the bad site's /bad/landed is a copy of
    # the routes site's article: its canonical names another site, so it cannot replace it).
    per_site = "SELECT site, count(*), count(duplicate_of) FROM articles GROUP BY 1"
    for site, count, copies in db.execute(per_site):
        assert re.search(rf"^{site}\s+{count}\s+{copies}$", out, re.M), site
    assert re.search(r"^language\s+articles$", out, re.M)
    [crawl_id] = [row[0] for row in db.execute("SELECT id FROM crawls")]
    assert re.search(rf"^{crawl_id}\s+\S+\s+\S+\s+\d+\s+[\d.]+\s+\d+$", out, re.M)


def test_stats_without_a_store_says_so(tmp_path):
    result = newsarchive("stats", data=tmp_path, check=False)
    assert (
        result.returncode == 3 and "no store at" in result.stderr and "newsarchive extract" in result.stderr
    )


def test_stats_on_a_file_that_is_not_a_store_says_so(tmp_path):
    (tmp_path / "news.db").write_bytes(b"this is not an SQLite file\n" * 100)
    result = newsarchive("stats", data=tmp_path, check=False)
    assert result.returncode == 3 and "cannot be read as a newsarchive store" in result.stderr
    assert "Traceback" not in result.stderr


def _extract_copy(crawled, tmp_path, stderr) -> subprocess.CompletedProcess:
    """A real process: whether its stderr is a terminal is what these tests are about."""
    shutil.copytree(crawled / "warc", tmp_path / "warc")
    argv = command("extract", data=tmp_path)
    return subprocess.run(argv, stdout=subprocess.PIPE, stderr=stderr, timeout=300)


def test_extract_shows_progress_on_a_terminal(crawled, tmp_path):
    controller, terminal = pty.openpty()
    fcntl.ioctl(terminal, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 120, 0, 0))  # as a terminal window
    try:
        result = _extract_copy(crawled, tmp_path, terminal)
        os.close(terminal)
        shown = b""
        while chunk := _read(controller):
            shown += chunk
    finally:
        os.close(controller)
    assert result.returncode == 0
    last = [line for line in re.split(r"[\r\n]", shown.decode()) if "100%" in line][-1]
    assert last.startswith("extract: file 1/1: 100%"), last
    assert re.search(r"[\d.]+[kM]?B/s", last) and re.search(r"[\d,]+ records", last), last


def _read(fd: int) -> bytes:
    try:
        return os.read(fd, 65536)
    except OSError:  # the terminal's other end is closed: all is read
        return b""


def test_extract_is_quiet_without_a_terminal(crawled, tmp_path):
    result = _extract_copy(crawled, tmp_path, subprocess.PIPE)
    assert result.returncode == 0
    assert b"\r" not in result.stderr and b"records" not in result.stderr and b"B/s" not in result.stderr
