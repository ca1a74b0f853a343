"""The records the writer formats itself (issue 20: warcio's writer cost most of archiving's
CPU): every kind it writes reads back with both digests checked by warcio and FastWARC, the
digests are ``sha1:<base32>`` of the right bytes, and the HTTP part is what warcio wrote."""

from __future__ import annotations

import base64
import gzip
import hashlib
import re
import subprocess
import sys
import zlib
from dataclasses import replace
from pathlib import Path

import pytest
from warcio.archiveiterator import ArchiveIterator
from warcio.statusandheaders import StatusAndHeaders

from archive.warc.verify import verify
from archive.warc.writer import WarcWriter, http_head
from tests.helpers.warc import exchange

BIN = Path(sys.executable).parent
SHA1_BASE32 = re.compile(r"sha1:[A-Z2-7]{32}")


def sha1(data: bytes) -> str:
    return "sha1:" + base64.b32encode(hashlib.sha1(data).digest()).decode()


@pytest.fixture
def warc(tmp_path) -> Path:
    """One record of every kind the crawl writes."""
    html = b"<html><body><p>" + b"words " * 2000 + b"</p></body></html>"
    writer = WarcWriter(tmp_path, warcinfo={"operator": "Zoë <ops@example.org>"})
    writer.write_exchange(exchange(1, html))  # identity: deflated
    encoded = replace(exchange(2, gzip.compress(html)), response_headers=[("Content-Encoding", "gzip")])
    writer.write_exchange(encoded)  # stored
    written = writer.write_exchange(replace(exchange(3), method="POST", request_body=b"q=news"))
    writer.write_exchange(exchange(4), revisit_of=("http://127.0.0.1:1/page?n=3", written.date))
    truncated = replace(exchange(5), extra_headers={"WARC-Truncated": "disconnect", "NewsArchive-Site": "s"})
    writer.write_exchange(truncated)
    writer.write_metadata("urn:test", {"fetch_error": "é"}, extra_headers={"NewsArchive-Site": "s"})
    (path,) = writer.close()
    return path


def records(path: Path) -> list[tuple[dict[str, str], bytes]]:
    """(WARC headers, block) of every record, one gzip member each, after warcio has read
    the file with both digests checked."""
    with open(path, "rb") as fh:
        for record in ArchiveIterator(fh, check_digests="raise"):
            record.raw_stream.read()  # the digests are checked as the record is read
    found, data = [], path.read_bytes()
    while data:
        inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
        member = inflater.decompress(data)
        assert inflater.eof and member.endswith(b"\r\n\r\n")
        data = inflater.unused_data
        head, _, block = member[:-4].partition(b"\r\n\r\n")
        lines = head.decode("utf-8").split("\r\n")
        assert lines[0] == "WARC/1.1"
        found.append((dict(line.split(": ", 1) for line in lines[1:]), block))
    return found


def test_every_kind_reads_back_with_its_digests(warc):
    found = records(warc)
    assert [h["WARC-Type"] for h, _ in found] == ["warcinfo"] + ["response", "request"] * 3 + [
        "revisit",
        "request",
        "response",
        "request",
        "metadata",
    ]
    for headers, block in found:
        assert headers["WARC-Block-Digest"] == sha1(block)
        assert int(headers["Content-Length"]) == len(block)
        assert re.fullmatch(r"<urn:uuid:[0-9a-f-]{36}>", headers["WARC-Record-ID"])
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z", headers["WARC-Date"])
    assert len({h["WARC-Record-ID"] for h, _ in found}) == len(found)
    assert verify(warc) == [] and verify(warc, digests=False) == []
    # Not --verify-payloads: FastWARC checks a revisit's payload digest against its empty
    # payload, not the record it refers to (it fails warcio's revisits alike); the crawl's
    # files without revisits pass it (tests/test_wacz.py).
    for command in ([BIN / "warcio", "check", "-v", warc], [BIN / "fastwarc", "check", warc]):
        result = subprocess.run(command, capture_output=True, text=True, timeout=60)
        assert result.returncode == 0, result.stdout + result.stderr


def test_payload_digests_and_the_fields_of_each_kind(warc):
    found = records(warc)
    info, block = found[0]
    assert info["Content-Type"] == "application/warc-fields" and info["WARC-Filename"] == warc.name
    assert "operator: Zoë <ops@example.org>\r\n".encode() in block
    responses = [(h, b) for h, b in found if h["WARC-Type"] in ("response", "revisit")]
    requests = [(h, b) for h, b in found if h["WARC-Type"] == "request"]
    for (response, block), (request, request_block) in zip(responses, requests, strict=True):
        assert response["Content-Type"] == "application/http; msgtype=response"
        assert request["Content-Type"] == "application/http; msgtype=request"
        assert request["WARC-Concurrent-To"] == response["WARC-Record-ID"]
        assert request["WARC-Date"] == response["WARC-Date"]
        assert request["WARC-Target-URI"] == response["WARC-Target-URI"]
        assert request["WARC-Payload-Digest"] == sha1(request_block.partition(b"\r\n\r\n")[2])
        assert SHA1_BASE32.fullmatch(response["WARC-Payload-Digest"])
        if response["WARC-Type"] == "response":
            assert response["WARC-Payload-Digest"] == sha1(block.partition(b"\r\n\r\n")[2])
    post = requests[2][1]
    assert post.startswith(b"POST /page?n=3 HTTP/1.1\r\n") and post.endswith(b"\r\n\r\nq=news")
    revisit = responses[3][0]
    assert revisit["WARC-Profile"] == "http://netpreserve.org/warc/1.1/revisit/identical-payload-digest"
    assert revisit["WARC-Refers-To-Target-URI"] == "http://127.0.0.1:1/page?n=3"
    assert revisit["WARC-Refers-To-Date"] == responses[2][0]["WARC-Date"]
    assert revisit["WARC-Payload-Digest"] == responses[2][0]["WARC-Payload-Digest"]  # the body it stands for
    assert responses[3][1].endswith(b"\r\n\r\n")  # status line and headers only
    assert responses[4][0]["WARC-Truncated"] == "disconnect" and responses[4][0]["NewsArchive-Site"] == "s"
    metadata, block = found[-1]
    assert metadata["Content-Type"] == "application/json" and "WARC-Payload-Digest" not in metadata
    assert metadata["WARC-Target-URI"] == "urn:test" and block == '{"fetch_error": "é"}'.encode()


def test_fastwarc_verifies_the_payloads(tmp_path):
    writer = WarcWriter(tmp_path)
    writer.write_exchange(exchange(1, b"<html>" + b"x" * 70_000 + b"</html>"))  # two stored-size blocks
    writer.write_exchange(replace(exchange(2), method="POST", request_body=b"q=news"))
    writer.write_metadata("urn:test", {"note": "x"})
    (path,) = writer.close()
    result = subprocess.run(
        [BIN / "fastwarc", "check", "--verify-payloads", path], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(
    "headers",
    [
        [("Content-Type", "text/html"), ("Set-Cookie", "a=1"), ("Set-Cookie", "b=2")],
        [("Content-Disposition", "attachment; filename=Zoë.pdf"), ("Location", "/Zoë")],  # not ASCII
        [],
    ],
)
def test_http_part_is_what_warcio_wrote(headers):
    """The same bytes as warcio's StatusAndHeaders, its RFC 8187 escaping of non-ASCII included."""
    expected = StatusAndHeaders("200 OK", list(headers), protocol="HTTP/1.1").to_ascii_bytes()
    assert http_head("HTTP/1.1 200 OK", headers) == expected
