"""Writing WARC files: DESIGN.md's conventions, strictly.

WARC/1.1, one gzip member per record, a ``warcinfo`` record first in every file, files
written as ``.warc.gz.open`` and renamed when closed, rotation at a size limit. A write
that fails (a full disk) leaves the file as it was before it: cut back to the end of its
last whole record at once, so the file reads to its end at any time, not only after
``recover.py`` has closed it at the next start.
"""

from __future__ import annotations

import io
import json
import os
import socket
import uuid
import zlib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cached_property
from pathlib import Path
from typing import NamedTuple

from warcio.statusandheaders import StatusAndHeaders

from archive.warc.digest import sha1_digest
from archive.warc.fields import GZIP_MEMBER, WARC_DATE
from archive.warc.files import OPEN_SUFFIX, closed_name, warc_file_name


@dataclass
class Exchange:
    """One HTTP request and the response to it, as they went over the wire."""

    url: str
    method: str
    request_target: str  # path and query, as on the request line
    request_headers: list[tuple[str, str]]
    protocol: str  # "HTTP/1.1"
    status: int
    reason: str
    response_headers: list[tuple[str, str]]
    body: bytes  # as received: Content-Encoding intact, transfer coding removed
    ip_address: str | None = None
    request_body: bytes = b""
    extra_headers: dict[str, str] = field(default_factory=dict)

    @cached_property
    def payload_digest(self) -> str:
        """The body's ``WARC-Payload-Digest``: worked out once, for dedup and for the record."""
        return sha1_digest(self.body)


class Written(NamedTuple):
    record_id: str
    date: str  # WARC-Date


# gzip levels of the record members. Level 9 (warcio's fixed choice) costs 1.7x the CPU of
# level 6 on HTML for 1% smaller output. A body the server already compressed does not
# shrink again at any level, and deflate spends as much CPU on it at level 1 as at 9
# (1.5 vs 1.6 ms for 88 KB), while stored blocks (level 0) cost 0.04 ms and add 5 bytes
# per 64 KB: such responses go stored, their few hundred bytes of headers with them.
# Request records (~800 bytes) go stored too: in a crawl, whose other work has pushed
# deflate out of the CPU caches by then, deflating one takes ~33 us against ~10 us stored,
# for ~350 bytes more on disk (1.5% of a 23 KB gzipped page).
TEXT_LEVEL = 6
STORED_LEVEL = 0
REQUEST_LEVEL = STORED_LEVEL
SMALLEST_WBITS = 9  # zlib's smallest deflate window, 512 bytes
EMPTY_PAYLOAD_DIGEST = sha1_digest(b"")  # a GET's request body
REVISIT_PROFILE = "http://netpreserve.org/warc/1.1/revisit/identical-payload-digest"
HTTP_RESPONSE = "application/http; msgtype=response"
HTTP_REQUEST = "application/http; msgtype=request"
RECORD_END = b"\r\n\r\n"


def warc_date() -> str:
    """Now, as a ``WARC-Date``: UTC with microseconds, the form the store compares as text."""
    return datetime.now(UTC).strftime(WARC_DATE)


def already_compressed(exchange: Exchange) -> bool:
    """Whether the response body is compressed as received (Content-Encoding, or a .gz file)."""
    for name, value in exchange.response_headers:
        if name.lower() == "content-encoding" and value.strip().lower() not in ("", "identity"):
            return True
    return exchange.body.startswith(GZIP_MEMBER)


def http_head(first_line: str, headers: list[tuple[str, str]]) -> bytes:
    """An HTTP message's start line and headers as the record holds them: ASCII, as warcio wrote them.

    A header value with other characters goes through warcio's ``StatusAndHeaders``, which
    percent-encodes it (RFC 8187), so such rare headers come out as they always did.
    """
    text = first_line + "\r\n" + "".join(f"{name}: {value}\r\n" for name, value in headers) + "\r\n"
    try:
        return text.encode("ascii")
    except UnicodeEncodeError:
        return StatusAndHeaders(first_line, list(headers)).to_ascii_bytes()


class Record(NamedTuple):
    record_id: str  # its WARC-Record-ID, ``<urn:uuid:...>``
    parts: tuple[bytes, ...]  # the record's bytes, in order: header lines, the block's parts, CRLF CRLF


def warc_record(
    record_type: str, date: str, fields: list[tuple[str, str]], content_type: str, *block: bytes
) -> Record:
    """A WARC/1.1 record, its ``WARC-Block-Digest`` taken with hashlib over the block's parts.

    By hand rather than with a library's record writer, measured on bench/crawl.py's pages
    (24 KB gzipped; CPU per exchange, best of 20-30 alternating rounds, a loaded machine):
    warcio's ``create_warc_record``/``write_record``, mostly Python header handling and 16 KB
    copies, took 174 us where this takes 125 us; FastWARC's ``WarcRecord`` took 199 us where
    warcio took 176 (~28 us to build a record, ~23 us to write it through a Python stream).
    What is left is mostly the two sha1 digests and the gzip CRC-32. Header lines are UTF-8,
    in warcio's order; ``http_head`` gives the HTTP part.
    """
    record_id = f"<urn:uuid:{uuid.uuid4()}>"
    head = (
        f"WARC/1.1\r\nWARC-Type: {record_type}\r\nWARC-Record-ID: {record_id}\r\nWARC-Date: {date}\r\n"
        + "".join(f"{name}: {value}\r\n" for name, value in fields)
        + f"WARC-Block-Digest: {sha1_digest(*block)}\r\nContent-Type: {content_type}\r\n"
        + f"Content-Length: {sum(map(len, block))}\r\n\r\n"
    )
    return Record(record_id, (head.encode("utf-8"), *block, RECORD_END))


class GzipMembers:
    """Where records go: one gzip member per record, held until ``commit`` writes them to the file.

    zlib compresses, each record at the level ``add`` is given. FastWARC's ``GzipWriter``
    was tried: stored members cost the same CPU, its level 6 deflates HTML with 0.6x zlib's
    CPU, but the crawl's peak RSS rose by ~10 MB (105 -> 115 MB at 573 pages, flat to 4,000),
    so zlib it is. A response and its request go to disk together, in one system call.
    """

    def __init__(self, fh: io.FileIO) -> None:
        self.fh = fh
        self.end = fh.tell()  # where the last whole record ends: a failed write is cut back here
        self._pending: list[bytes] = []

    def add(self, record: Record, level: int) -> None:
        """Add ``record`` as one member, deflated at ``level`` (TEXT_LEVEL or STORED_LEVEL).

        Setting up deflate's default 32 KB window costs more than storing a 25 KB body or
        deflating a 500-byte request record: stored members take the smallest window,
        which they do not use, and small records one just large enough to hold them,
        which gives the same compressed bytes.
        """
        size = sum(map(len, record.parts))
        wbits = (
            SMALLEST_WBITS
            if level == STORED_LEVEL
            else min(zlib.MAX_WBITS, max(SMALLEST_WBITS, size.bit_length()))
        )
        compressor = zlib.compressobj(level, zlib.DEFLATED, 16 + wbits)
        self._pending.extend(compressor.compress(part) for part in record.parts)
        self._pending.append(compressor.flush())

    def commit(self) -> None:
        """Write the members ended so far to the file, all of them or none.

        The file is unbuffered, so what a write leaves on disk is known: when it fails
        part way (``ENOSPC``, ``EFBIG``, ``EIO``), the bytes it did write are truncated
        away and the error raised; nothing of it is left in a buffer to be written later.
        """
        data = memoryview(b"".join(self._pending))
        self._pending.clear()
        try:
            while data:  # a raw write may take only part of the bytes
                data = data[self.fh.write(data) :]
        except OSError:
            self.fh.truncate(self.end)
            self.fh.seek(self.end)
            raise
        self.end = self.fh.tell()


class WarcWriter:
    """Appends records to rotating WARC files in one directory.

    Every record is in the file when its write method returns (an exchange's response and
    request records in one write), so a killed process leaves an ``.open`` file that is
    readable up to its last whole record.
    """

    def __init__(
        self,
        directory: Path,
        *,
        max_size: int = 1_000_000_000,
        warcinfo: dict[str, str] | None = None,
    ) -> None:
        self.directory = Path(directory)
        self.max_size = max_size
        self.warcinfo = dict(warcinfo or {})
        self.closed_files: list[Path] = []
        self.bytes_written = 0
        self._serial = 0
        self._fh: io.FileIO | None = None
        self._path: Path | None = None
        self._members: GzipMembers | None = None

    # -- file lifecycle -------------------------------------------------------------

    def _open_new_file(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        name = warc_file_name(self._serial)
        self._serial += 1
        self._path = self.directory / (name + OPEN_SUFFIX)
        self._fh = open(self._path, "xb", buffering=0)  # unbuffered: see GzipMembers.commit
        self._members = GzipMembers(self._fh)
        info = {
            "software": "newsarchive",
            "format": "WARC File Format 1.1",
            "conformsTo": "https://iipc.github.io/warc-specifications/specifications/warc-format/warc-1.1/",
            "hostname": socket.gethostname(),
            "pid": str(os.getpid()),
        }
        info.update(self.warcinfo)
        block = "".join(f"{key}: {value}\r\n" for key, value in info.items()).encode("utf-8")
        record = warc_record(
            "warcinfo", warc_date(), [("WARC-Filename", name)], "application/warc-fields", block
        )
        try:
            self._write(record)
        except OSError:  # not even the warcinfo fits: no file (the next write tries a new one)
            self.close()
            raise

    def _write(self, record: Record, level: int = TEXT_LEVEL, commit: bool = True) -> None:
        """Write ``record`` as one gzip member; to disk now, or with the next ``commit``."""
        assert self._members is not None
        self._members.add(record, level)
        if commit:
            self._members.commit()

    def ensure_open(self) -> Path:
        """Open a file if none is open; returns the current file's path."""
        if self._fh is None:
            self._open_new_file()
        assert self._path is not None
        return self._path

    def _ensure_room(self) -> None:
        if self._fh is None:
            self._open_new_file()
        elif self._fh.tell() >= self.max_size:
            self.close()
            self._open_new_file()

    @property
    def current_path(self) -> Path | None:
        return self._path

    def close(self) -> list[Path]:
        """Close the current file, renaming it from ``.open``; returns all closed files.

        A file that holds no whole record (its ``warcinfo`` could not be written) is
        removed instead: an empty file is no WARC."""
        if self._fh is not None:
            assert self._path is not None
            self.bytes_written += self._fh.tell()
            self._fh.close()
            if self._holds_no_record():
                self._path.unlink()
            else:
                final = self._path.with_name(closed_name(self._path))
                os.replace(self._path, final)
                self.closed_files.append(final)
            self._fh = self._path = self._members = None
        return self.closed_files

    def _holds_no_record(self) -> bool:
        return self._members is None or self._members.end == 0

    # -- records --------------------------------------------------------------------

    def write_exchange(self, exchange: Exchange, revisit_of: tuple[str, str] | None = None) -> Written:
        """Write a ``response`` record and its ``request`` record; returns the response's id and date.

        With ``revisit_of`` (target URI, WARC-Date of a record with the same payload), the
        response is a ``revisit`` record of the identical-payload-digest profile: status
        line and headers only, the body being the one already archived.
        """
        self._ensure_room()
        date = warc_date()
        fields = [("WARC-Target-URI", exchange.url), *exchange.extra_headers.items()]
        if exchange.ip_address:
            fields.append(("WARC-IP-Address", exchange.ip_address))
        head = http_head(
            f"{exchange.protocol} {exchange.status} {exchange.reason}".rstrip(), exchange.response_headers
        )
        if revisit_of is None:
            fields.append(("WARC-Payload-Digest", exchange.payload_digest))
            response = warc_record("response", date, fields, HTTP_RESPONSE, head, exchange.body)
        else:
            refers_to_uri, refers_to_date = revisit_of
            fields += [
                ("WARC-Profile", REVISIT_PROFILE),
                ("WARC-Refers-To-Target-URI", refers_to_uri),
                ("WARC-Refers-To-Date", refers_to_date),
                ("WARC-Payload-Digest", exchange.payload_digest),
            ]
            response = warc_record("revisit", date, fields, HTTP_RESPONSE, head)
        response_id = response.record_id
        body = exchange.request_body
        request_line = f"{exchange.method} {exchange.request_target} {exchange.protocol}"
        request = warc_record(
            "request",
            date,
            [
                ("WARC-Target-URI", exchange.url),
                ("WARC-Concurrent-To", response_id),
                ("WARC-Payload-Digest", sha1_digest(body) if body else EMPTY_PAYLOAD_DIGEST),
            ],
            HTTP_REQUEST,
            http_head(request_line, exchange.request_headers),
            body,
        )
        self._write(response, STORED_LEVEL if already_compressed(exchange) else TEXT_LEVEL, commit=False)
        self._write(request, REQUEST_LEVEL)
        return Written(response_id, date)

    def write_metadata(
        self, uri: str, fields: dict, extra_headers: dict[str, str] | None = None, rotate: bool = True
    ) -> str:
        """Write a ``metadata`` record holding ``fields`` as JSON (fetch errors, crawl summaries).

        With ``rotate=False`` it goes into the current file even past the size limit: a
        crawl's summary lists the files written, its own among them. The record carries a
        block digest and no payload digest: its JSON block is no HTTP message, so WARC 1.1
        defines no payload for it (and FastWARC's ``check -p`` fails such a digest).
        """
        if rotate:
            self._ensure_room()
        else:
            self.ensure_open()
        payload = json.dumps(fields, ensure_ascii=False, sort_keys=True).encode("utf-8")
        record = warc_record(
            "metadata",
            warc_date(),
            [("WARC-Target-URI", uri), *(extra_headers or {}).items()],
            "application/json",
            payload,
        )
        self._write(record)
        return record.record_id
