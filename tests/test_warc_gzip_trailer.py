"""A .warc.gz cut inside its last gzip member's trailer (the 8 bytes of CRC and size after
the data): warcio reads every record of it and never looks for the trailer, while its own
indexer, pywb and wacz fail on the file. Found when a test cut a crawl's WARC at a byte
that happened to fall there and `wacz create` failed on it."""

from __future__ import annotations

import gzip
import os
import zlib

import pytest
from warcio.archiveiterator import ArchiveIterator

from archive.warc.files import OPEN_SUFFIX
from archive.warc.reader import iter_records
from archive.warc.recover import recover_orphans
from archive.warc.verify import verify
from archive.warc.writer import WarcWriter
from tests.helpers.cli import newsarchive
from tests.helpers.warc import exchange


@pytest.fixture
def warc(tmp_path):
    writer = WarcWriter(tmp_path / "warc")
    for n in range(3):
        writer.write_exchange(exchange(n, b"<html><p>" + b"words " * 400 + b"</p></html>"))
    (path,) = writer.close()
    return path


@pytest.mark.parametrize("cut", [1, 4, 8])
def test_a_last_member_without_its_trailer_is_a_cut_off_record(warc, cut):
    whole = warc.read_bytes()
    last = list(iter_records(warc, with_payload=False))[-1]
    warc.write_bytes(whole[:-cut])
    with pytest.raises((EOFError, zlib.error, OSError)):
        gzip.decompress(warc.read_bytes())  # what other readers see: the file is cut
    errors = []
    records = list(iter_records(warc, 0, errors))
    assert [r.offset for r in records] == [r.offset for r in list(iter_records(warc))]
    assert last.offset not in [r.offset for r in records]
    assert [(e.offset, "gzip trailer" in e.message) for e in errors] == [(last.offset, True)]
    assert [e.offset for e in verify(warc)] == [last.offset]  # the crawl's read-back check sees it


def test_extract_says_so_and_exits_1(warc, tmp_path):
    warc.write_bytes(warc.read_bytes()[:-4])
    result = newsarchive("extract", data=tmp_path, check=False)
    assert result.returncode == 1
    assert f"extract: error: {warc.name} at offset" in result.stderr and "gzip trailer" in result.stderr


def test_recovery_after_a_kill_cuts_it_back_to_a_file_every_reader_reads(warc):
    """A writer killed while writing a member's trailer: the .open file is cut back to the
    last whole member, which warcio's own iterator then reads to the end."""
    whole = warc.read_bytes()
    with open(warc, "rb") as fh:
        records = len(list(ArchiveIterator(fh)))
    orphan = warc.with_name(warc.name.replace(f"-{os.getpid()}.", "-999999.") + OPEN_SUFFIX)
    if orphan.name == warc.name + OPEN_SUFFIX:
        pytest.fail(f"unexpected file name {warc.name}: the test names the writer's pid in it")
    orphan.write_bytes(whole[:-3])
    warc.unlink()
    (recovered,) = recover_orphans(warc.parent)
    with open(recovered.path, "rb") as fh:
        assert len(list(ArchiveIterator(fh))) == records - 1  # all but the one cut
    gzip.decompress(recovered.path.read_bytes())  # every member whole
