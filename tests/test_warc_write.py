"""The WARC write path's gzip levels and the crawl's read-back check (``verify``)."""

from __future__ import annotations

import gzip
import subprocess
import sys
import zlib
from dataclasses import replace
from pathlib import Path

import pytest

from archive.warc import Exchange, WarcWriter, iter_records, verify
from tests.test_warc import _exchange as plain_exchange

CORPUS = Path(__file__).parent / "corpus" / "pages"


def _html() -> bytes:
    return gzip.decompress(next(iter(sorted(CORPUS.glob("*.html.gz")))).read_bytes())


def _exchange(n: int, body: bytes, coding: str | None) -> Exchange:
    headers = [("Content-Type", "text/html")] + ([("Content-Encoding", coding)] if coding else [])
    return replace(plain_exchange(n, body), response_headers=headers)


def _members(data: bytes) -> list[tuple[int, int, bytes]]:
    """(offset, length, inflated bytes) of every gzip member, walked with zlib alone."""
    members, offset = [], 0
    while offset < len(data):
        inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
        inflated = inflater.decompress(data[offset:])
        assert inflater.eof
        length = len(data) - offset - len(inflater.unused_data)
        members.append((offset, length, inflated))
        offset += length
    return members


@pytest.fixture
def warc(tmp_path) -> tuple[Path, bytes, bytes]:
    """A file with a gzip-encoded response, an identity one and a metadata record."""
    html = _html()
    encoded = gzip.compress(html, compresslevel=1)
    writer = WarcWriter(tmp_path)
    writer.write_exchange(_exchange(1, encoded, "gzip"))
    writer.write_exchange(_exchange(2, html, None))
    writer.write_metadata("urn:test", {"note": "x"})
    (path,) = writer.close()
    return path, encoded, html


def test_one_member_per_record_and_payloads_byte_identical(warc):
    path, encoded, html = warc
    records = list(iter_records(path))
    members = _members(path.read_bytes())
    assert [r.type for r in records] == ["warcinfo", "response", "request", "response", "request", "metadata"]
    assert [(r.offset, r.length) for r in records] == [(o, n) for o, n, _ in members]
    assert records[1].payload == encoded and records[3].payload == html
    check = subprocess.run(
        [sys.executable, "-m", "warcio.cli", "check", "-v", str(path)], capture_output=True, text=True
    )
    assert check.returncode == 0, check.stdout + check.stderr


def test_compressed_bodies_are_stored_and_text_is_deflated(warc):
    path, encoded, html = warc
    members = _members(path.read_bytes())
    (_, stored, record), (_, deflated, _) = members[1], members[3]
    # Stored blocks: the record verbatim (its headers too), plus 18 bytes of gzip header and
    # trailer and 5 bytes per block of at most 64 KB.
    assert record.startswith(b"WARC/1.1\r\n") and record[:200] in path.read_bytes()
    assert 0 < stored - len(record) - 18 <= 5 * (len(record) // 16384 + 2)
    # An identity HTML body is compressed: well under half its size.
    assert deflated < len(html) / 2


def test_verify_passes_a_sound_file(warc):
    assert verify(warc[0]) == [] and verify(warc[0], digests=False) == []


def _corrupt(path: Path, change) -> None:
    data = bytearray(path.read_bytes())
    change(data)
    path.write_bytes(bytes(data))


def test_verify_catches_a_flipped_byte_in_a_stored_payload(warc):
    path = warc[0]
    response = list(iter_records(path, with_payload=False))[1]

    def flip(data: bytearray) -> None:
        data[response.offset + response.length // 2] ^= 0x01

    _corrupt(path, flip)
    (error,) = verify(path)
    assert error.offset == response.offset
    assert [e.offset for e in verify(path, digests=False)] == [response.offset]  # the CRC catches it


def test_verify_catches_a_wrong_digest_in_a_well_formed_member(warc):
    """A member that inflates fine but whose payload is not what its digest says."""
    path = warc[0]
    response = list(iter_records(path, with_payload=False))[3]
    data = path.read_bytes()
    record = zlib.decompress(data[response.offset : response.offset + response.length], 16 + zlib.MAX_WBITS)
    at = record.rindex(b"</") + 1
    altered = record[:at] + b"X" + record[at + 1 :]
    path.write_bytes(
        data[: response.offset] + gzip.compress(altered) + data[response.offset + response.length :]
    )
    (error,) = verify(path)
    assert error.offset == response.offset and "digest" in error.message
    # The crawl's read-back check trusts the digests the writer took of the bytes it compressed.
    assert verify(path, digests=False) == []


def test_verify_catches_a_cut_off_file_and_trailing_bytes(warc):
    path = warc[0]
    whole = path.read_bytes()
    last = list(iter_records(path, with_payload=False))[-1]
    for digests in (True, False):
        path.write_bytes(whole[: last.offset + 40])
        assert [e.offset for e in verify(path, digests)] == [last.offset]
        path.write_bytes(whole + b"not a record\n")
        assert [e.offset for e in verify(path, digests)] == [len(whole)]
