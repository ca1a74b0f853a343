"""A damaged WARC record is an error in the capture view, never a page (issue 17, last case).

A flipped byte in a stored record used to come out as ``200`` with an empty body: the
damaged gzip header of the HTTP body decoded to nothing, "truncated", and was served.
The view now checks the record's digests (as extract did when it read it) and answers
``502`` with one line naming the file and offset. Real WARC files from a loopback crawl,
copied and damaged on disk in the test.
"""

from __future__ import annotations

import gzip
import shutil
import sqlite3
import zlib
from collections.abc import Callable

import pytest

from tests.helpers.search import copy_store
from tests.helpers.serve import KNOWN_PAGE, fetch, running_server

GZIP_FLAGS, FEXTRA = (
    3,
    0x04,
)  # the FLG byte of a gzip header; this bit announces an extra field that is not there


@pytest.fixture
def damaged(news_site, serve_store, tmp_path):
    """A copy of the store and its WARCs, and a function that damages the known article's record."""
    data = copy_store(serve_store, tmp_path / "data")
    shutil.copytree(serve_store / "warc", data / "warc")
    db = sqlite3.connect(data / "news.db")
    warc_file, offset, length = db.execute(
        "SELECT warc_file, warc_offset, warc_length FROM captures WHERE url = ? AND status = 200",
        [news_site.url(KNOWN_PAGE)],
    ).fetchone()
    db.close()
    path = data / "warc" / warc_file

    def damage(change: Callable[[bytearray, int], None]) -> str:
        """Rewrite the record (one gzip member) with ``change(record, start of the HTTP body)``
        applied to its uncompressed bytes; returns the capture view's path."""
        whole = path.read_bytes()
        record = bytearray(zlib.decompress(whole[offset : offset + length], 16 + zlib.MAX_WBITS))
        body_start = record.index(b"\r\n\r\n", record.index(b"\r\n\r\n") + 4) + 4
        change(record, body_start)
        path.write_bytes(whole[:offset] + gzip.compress(bytes(record)) + whole[offset + length :])
        return f"/-/capture/{warc_file}/{offset}"

    def flip_in_place(position: int) -> str:
        """Flip one bit of the stored (compressed) file at ``offset + position``."""
        whole = bytearray(path.read_bytes())
        whole[offset + position] ^= 0x01
        path.write_bytes(bytes(whole))
        return f"/-/capture/{warc_file}/{offset}"

    return data, damage, flip_in_place, f"{warc_file}:{offset}"


def _flip(index: Callable[[int], int], bit: int) -> Callable[[bytearray, int], None]:
    def change(record: bytearray, body_start: int) -> None:
        record[index(body_start)] ^= bit

    return change


@pytest.mark.parametrize(
    ("where", "bit"),
    [
        # before: 200 with an empty body (the gzip decoder waits for the extra field: "truncated")
        pytest.param(lambda start: start + GZIP_FLAGS, FEXTRA, id="gzip-flags-of-the-body"),
        # before: 200 with the compressed bytes ("the body is not gzip: taken as it is")
        pytest.param(lambda start: start, 0x01, id="first-byte-of-the-body"),
        # before: 500 "the archived body cannot be decoded" (true, but not why)
        pytest.param(lambda start: start + 4000, 0x01, id="inside-the-body"),
    ],
)
def test_a_flipped_byte_in_the_record_is_a_clear_error(damaged, where, bit):
    data, damage, _, spot = damaged
    path = damage(_flip(where, bit))
    with running_server(data) as base:
        status, headers, body = fetch(base + path)
    assert status == 502, body[:200]
    assert body.startswith(f"the record at {spot} is damaged: ".encode()) and body.count(b"\n") == 1
    assert b"digest" in body and "Content-Security-Policy" not in headers


def test_a_flipped_byte_in_the_compressed_file_is_a_clear_error(damaged):
    data, _, flip_in_place, spot = damaged
    path = flip_in_place(2000)
    with running_server(data) as base:
        status, _, body = fetch(base + path)
    assert status == 502 and body.startswith(f"the record at {spot} is damaged: ".encode())
    assert body.count(b"\n") == 1


def test_an_intact_record_is_still_served(damaged, news_site):
    data, _, _, spot = damaged
    with running_server(data) as base:
        status, headers, body = fetch(f"{base}/-/capture/{spot.replace(':', '/')}")
    assert status == 200 and body == news_site.pages[KNOWN_PAGE].body
    assert headers["Content-Security-Policy"].startswith("sandbox")
