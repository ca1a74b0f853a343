"""A WARC written until the disk filled reads to its end at once (issue 17), not only once
the next start has closed it: the failed write is cut back to the last whole record, said
once, and the crawl stops with exit code 5."""

from __future__ import annotations

import errno
import io
import os
import resource
import subprocess
from pathlib import Path

import pytest
from warcio.archiveiterator import ArchiveIterator

from archive.demo.site import NewsSite
from archive.warc import writer as writer_module
from archive.warc.reader import iter_records
from archive.warc.verify import verify
from archive.warc.writer import WarcWriter
from tests.helpers.cli import FAST, command
from tests.helpers.warc import exchange

REPO = Path(__file__).resolve().parent.parent
PYWB_INDEXER = REPO / ".venv-pywb" / "bin" / "cdx-indexer"


class FillingDisk(io.FileIO):
    """A file on a disk with ``room`` bytes left: as Linux does when it fills, a write takes
    what fits (a short write) and the next one fails with ENOSPC. ``room = None``: no limit."""

    room: int | None = None

    def write(self, data) -> int:
        if FillingDisk.room is None:
            return super().write(data)
        if FillingDisk.room == 0:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        written = super().write(bytes(data[: FillingDisk.room]))
        FillingDisk.room -= written
        return written


@pytest.fixture
def filling_disk(monkeypatch):
    """WarcWriter opens its files on the filling disk."""

    def opener(path, mode="r", buffering=-1):
        raw = FillingDisk(path, mode.replace("b", ""))
        return raw if buffering == 0 else io.BufferedWriter(raw)

    monkeypatch.setattr(writer_module, "open", opener, raising=False)
    FillingDisk.room = None
    yield FillingDisk
    FillingDisk.room = None


def warcio_records(path: Path) -> list[str]:
    """Every record's type as warcio reads the file, to its end (raises on a torn record)."""
    with open(path, "rb") as fh:
        return [record.rec_type for record in ArchiveIterator(fh, check_digests="raise")]


def whole_records_end(path: Path) -> int:
    errors: list = []
    end = 0
    for record in iter_records(path, errors=errors):
        end = record.offset + record.length
    assert errors == []
    return end


def test_a_write_that_fills_the_disk_is_cut_back_to_the_last_whole_record(tmp_path, filling_disk):
    body = os.urandom(30_000)  # does not compress: each exchange adds ~30 KB
    writer = WarcWriter(tmp_path)
    writer.write_exchange(exchange(1, body))
    writer.write_exchange(exchange(2, body))
    path = writer.current_path
    whole = path.stat().st_size
    filling_disk.room = 20_000  # the next exchange fits part way
    with pytest.raises(OSError) as raised:
        writer.write_exchange(exchange(3, body))
    assert raised.value.errno == errno.ENOSPC
    # right after the failure, the process still running, the file not closed nor recovered:
    assert path.name.endswith(".open") and path.stat().st_size == whole
    assert warcio_records(path) == ["warcinfo", "response", "request", "response", "request"]
    assert whole_records_end(path) == whole
    filling_disk.room = None  # space freed: writing goes on in the same file
    writer.write_exchange(exchange(4, body))
    (closed,) = writer.close()
    assert warcio_records(closed).count("response") == 3
    assert verify(closed) == []


def test_a_file_whose_warcinfo_does_not_fit_is_not_left_behind(tmp_path, filling_disk):
    filling_disk.room = 100  # part of the warcinfo record
    writer = WarcWriter(tmp_path)
    with pytest.raises(OSError):
        writer.write_exchange(exchange(1))
    assert list(tmp_path.iterdir()) == []
    filling_disk.room = None
    writer.write_exchange(exchange(2))
    (closed,) = writer.close()
    assert warcio_records(closed) == ["warcinfo", "response", "request"]


FILE_SIZE_LIMIT = 300_000  # bytes any file of the crawl may have: the WARC reaches it, the log does not


def _limited() -> None:
    """The crawl's files cannot grow past FILE_SIZE_LIMIT: the kernel gives a short write,
    then EFBIG, as a full disk gives ENOSPC (Python ignores SIGXFSZ, so no signal kills it)."""
    resource.setrlimit(resource.RLIMIT_FSIZE, (FILE_SIZE_LIMIT, FILE_SIZE_LIMIT))


@pytest.mark.skipif(not PYWB_INDEXER.exists(), reason="pywb's venv (.venv-pywb) is not set up")
def test_a_crawl_that_fills_the_disk_stops_with_one_line_and_a_readable_warc(tmp_path):
    articles = 40
    with NewsSite() as site:
        links = []
        for n in range(articles):
            path = f"/full/2026/01/article-{n}"
            text = os.urandom(20_000).hex()  # ~20 KB a page in the WARC, gzipped
            site.add(path, f"<html><body><p>{text}</p></body></html>".encode(), "text/html")
            links.append(f'<a href="{site.url(path)}">article {n}</a>')
        site.add("/full/", f"<html><body>{''.join(links)}</body></html>".encode(), "text/html")
        sites = tmp_path / "sites.toml"
        sites.write_text(
            f'[[sites]]\nname = "full"\nstart_urls = ["{site.url("/full/")}"]\nobey_robots = false\n'
            'allow = ["/full/2026/"]\n'
        )
        data = tmp_path / "data"
        argv = command("crawl", "--sites", sites, *FAST, "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=2", data=data)
        result = subprocess.run(argv, capture_output=True, text=True, timeout=120, preexec_fn=_limited)
        fetched = [r for r in site.served() if r.path.startswith("/full/2026/")]
    assert result.returncode == 5, result.stderr
    assert "Traceback" not in result.stderr
    [line] = [line for line in result.stderr.splitlines() if line.startswith("crawl: error:")]
    assert "cannot write the WARC file" in line and "File too large" in line and "the crawl stopped" in line
    (log,) = (data / "logs").glob("*-crawl.log")
    said = [row for row in log.read_text().splitlines() if "ERROR" in row and "cannot write" in row]
    assert len(said) == 1, said  # once, however many responses came after
    assert "Traceback" not in log.read_text()
    assert "Spider closed (warc_write_failed)" in log.read_text()  # it stopped
    assert fetched  # the site was crawled
    # read at once, before any later newsarchive command could recover anything:
    assert list((data / "warc").glob("*.open")) == []
    (warc,) = (data / "warc").glob("*.warc.gz")
    assert warc.stat().st_size < FILE_SIZE_LIMIT
    types = warcio_records(warc)
    assert types[0] == "warcinfo" and types.count("response") >= 5
    assert whole_records_end(warc) == warc.stat().st_size
    indexed = subprocess.run([PYWB_INDEXER, str(warc)], capture_output=True, text=True, timeout=60)
    assert indexed.returncode == 0 and indexed.stderr == "", indexed.stderr
    assert len([row for row in indexed.stdout.splitlines() if " 200 " in row]) == types.count("response")
