"""The WARC write path: what the middleware records, gzip levels, and the crawl's read-back check."""

from __future__ import annotations

import gzip
import subprocess
import sys
import urllib.error
import urllib.request
import zlib
from dataclasses import replace
from ipaddress import ip_address
from pathlib import Path

import pytest
from scrapy.http import Headers, Request, Response
from scrapy.utils.test import get_crawler

from archive.demo.site import CORPUS_DIR
from archive.warc.reader import iter_records
from archive.warc.verify import verify
from archive.warc.writer import Exchange, WarcWriter
from crawler.middlewares import WarcArchiveMiddleware
from tests.helpers.warc import exchange as plain_exchange

CORPUS = CORPUS_DIR / "pages"


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


def _stored(data: bytes, member: tuple[int, int, bytes]) -> bool:
    """Stored blocks: the record as it is (its start, up to the first block boundary), plus 18
    bytes of gzip header and trailer and 5 bytes per block of at most 64 KB."""
    offset, length, record = member
    overhead = length - len(record) - 18
    return record[:200] in data[offset : offset + length] and 0 < overhead <= 5 * (len(record) // 16384 + 2)


def test_compressed_bodies_and_requests_are_stored_and_text_is_deflated(warc):
    path, encoded, html = warc
    data = path.read_bytes()
    members = _members(data)
    assert members[1][2].startswith(b"WARC/1.1\r\nWARC-Type: response\r\n") and _stored(data, members[1])
    # Request records are stored whatever the response: deflating ~800 bytes costs more.
    assert [_stored(data, members[n]) for n in (2, 4)] == [True, True]
    # An identity HTML body is compressed: well under half its size.
    assert members[3][1] < len(html) / 2 and not _stored(data, members[3])


def test_verify_passes_a_sound_file(warc):
    assert verify(warc[0]) == [] and verify(warc[0], digests=False) == []


def _corrupt(path: Path, change) -> None:
    data = bytearray(path.read_bytes())
    change(data)
    path.write_bytes(bytes(data))


@pytest.mark.parametrize("index", [1, 2], ids=["response", "request"])
def test_verify_catches_a_flipped_byte_in_a_stored_record(warc, index):
    path = warc[0]
    record = list(iter_records(path, with_payload=False))[index]

    def flip(data: bytearray) -> None:
        data[record.offset + record.length // 2] ^= 0x01

    _corrupt(path, flip)
    (error,) = verify(path)
    assert error.offset == record.offset
    assert [e.offset for e in verify(path, digests=False)] == [record.offset]  # the CRC catches it


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


def _fetched(url: str) -> tuple[Request, Response]:
    """A real loopback fetch, made into what Scrapy's downloader hands the middleware."""
    request = Request(url, headers={"Accept-Encoding": "gzip"})
    try:
        reply = urllib.request.urlopen(urllib.request.Request(url, headers={"Accept-Encoding": "gzip"}))
    except urllib.error.HTTPError as error:  # 4xx: archived like any response
        reply = error
    with reply:
        headers, body = Headers(list(reply.headers.items())), reply.read()
    response = Response(
        url, status=reply.status, headers=headers, body=body, request=request, protocol="HTTP/1.1"
    )
    response.ip_address = ip_address("127.0.0.1")
    return request, response


def test_middleware_records_request_target_host_and_reason_phrase(news_site, tmp_path):
    news_site.add("/w/page;v=1?q=2", b"<html>p</html>", "text/html", coding="gzip")  # path params
    news_site.add("/w/odd", b"<html>o</html>", "text/html", status=299)  # no reason phrase known
    crawler = get_crawler(settings_dict={"NEWSARCHIVE_DATA": str(tmp_path), "WARC_MAX_SIZE": 10**9})
    middleware = WarcArchiveMiddleware(crawler)
    for path in ("/w/page;v=1?q=2", "/w/odd", "/w/missing"):
        middleware.process_response(*_fetched(news_site.url(path)))
    (path,) = middleware.writer.close()
    records = list(iter_records(path))[1:]
    responses, requests = records[::2], records[1::2]
    assert [r.type for r in responses] == ["response"] * 3 and [r.type for r in requests] == ["request"] * 3
    assert [r.status for r in responses] == [200, 299, 404]
    assert responses[0].http_header("Content-Encoding") == "gzip"  # as received
    data = path.read_bytes()
    http = [gzip.decompress(data[r.offset : r.offset + r.length]).split(b"\r\n\r\n")[1] for r in records]
    assert [head.split(b"\r\n")[0] for head in http] == [
        b"HTTP/1.1 200 OK",
        b"GET /w/page;v=1?q=2 HTTP/1.1",
        b"HTTP/1.1 299",
        b"GET /w/odd HTTP/1.1",
        b"HTTP/1.1 404 Not Found",
        b"GET /w/missing HTTP/1.1",
    ]
    host = news_site.base.removeprefix("http://")
    ids = [r.record_id for r in responses]
    assert [r.headers["WARC-Concurrent-To"] for r in requests] == ids
    assert all(f"\r\nHost: {host}\r\n".encode() in head for head in http[1::2])
