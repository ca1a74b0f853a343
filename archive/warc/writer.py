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
import zlib
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import NamedTuple

from warcio.recordbuilder import RecordBuilder
from warcio.recordloader import ArcWarcRecord
from warcio.statusandheaders import StatusAndHeaders, StatusAndHeadersParser
from warcio.warcwriter import WARCWriter

from archive.warc.digest import record_digests, sha1_digest
from archive.warc.fields import GZIP_MEMBER
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
RECORD_HEADER_ROOM = 512  # about what WARC headers add to a record's block


def already_compressed(exchange: Exchange) -> bool:
    """Whether the response body is compressed as received (Content-Encoding, or a .gz file)."""
    for name, value in exchange.response_headers:
        if name.lower() == "content-encoding" and value.strip().lower() not in ("", "identity"):
            return True
    return exchange.body.startswith(GZIP_MEMBER)


class GzipMembers:
    """The file object warcio's ``WARCWriter(gzip=False)`` writes to: one gzip member per record.

    warcio's own gzip wrapper always compresses at level 9; it cannot be told the level.
    This one compresses each record as ``start`` says and ends the member when warcio
    flushes, which it does once, at the end of each record. Members are held until
    ``commit`` writes them to the file in one call: a response and its request go to
    disk together, in one system call instead of one per 16 KB that warcio hands over.
    """

    def __init__(self, fh: io.FileIO) -> None:
        self.fh = fh
        self.end = fh.tell()  # where the last whole record ends: a failed write is cut back here
        self._settings = (TEXT_LEVEL, zlib.MAX_WBITS)
        self._compressor: zlib._Compress | None = None
        self._pending: list[bytes] = []

    def start(self, level: int, size: int) -> None:
        """Level and zlib window for the next member, a record of about ``size`` bytes.

        Setting up deflate's default 32 KB window costs more than storing a 25 KB body or
        deflating a 500-byte request record: stored members take the smallest window,
        which they do not use, and small records one just large enough to hold them,
        which gives the same compressed bytes.
        """
        wbits = (
            SMALLEST_WBITS
            if level == STORED_LEVEL
            else min(zlib.MAX_WBITS, max(SMALLEST_WBITS, size.bit_length()))
        )
        self._settings = (level, wbits)

    def write(self, data: bytes) -> None:
        if self._compressor is None:
            level, wbits = self._settings
            self._compressor = zlib.compressobj(level, zlib.DEFLATED, 16 + wbits)
        self._pending.append(self._compressor.compress(data))

    def flush(self) -> None:
        if self._compressor is not None:
            self._pending.append(self._compressor.flush())
            self._compressor = None

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


class _RecordWriter(WARCWriter):
    """warcio's writer, less the ``WARC-Payload-Digest`` it gives ``metadata`` records.

    warcio digests the "payload" of every record but ``warcinfo`` and ``revisit``, each time
    ``create_warc_record`` and ``write_record`` run (``ensure_digest``; removing the field
    after the one only has the other put it back). A metadata record's JSON block is no HTTP
    message, so WARC 1.1 defines no payload for it, and FastWARC's ``check -p`` fails every
    such digest. Its ``WARC-Block-Digest`` stays.
    """

    NO_PAYLOAD_DIGEST_TYPES = (*WARCWriter.NO_PAYLOAD_DIGEST_TYPES, "metadata")


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
        self._writer: WARCWriter | None = None
        self._members: GzipMembers | None = None

    # -- file lifecycle -------------------------------------------------------------

    def _open_new_file(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        name = warc_file_name(self._serial)
        self._serial += 1
        self._path = self.directory / (name + OPEN_SUFFIX)
        self._fh = open(self._path, "xb", buffering=0)  # unbuffered: see GzipMembers.commit
        self._members = GzipMembers(self._fh)
        self._writer = _RecordWriter(self._members, gzip=False, warc_version="1.1")
        info = {
            "software": "newsarchive",
            "format": "WARC File Format 1.1",
            "conformsTo": "https://iipc.github.io/warc-specifications/specifications/warc-format/warc-1.1/",
            "hostname": socket.gethostname(),
            "pid": str(os.getpid()),
        }
        info.update(self.warcinfo)
        try:
            self._write(self._writer.create_warcinfo_record(name, info))
        except OSError:  # not even the warcinfo fits: no file (the next write tries a new one)
            self.close()
            raise

    def _write(self, record, level: int = TEXT_LEVEL, commit: bool = True) -> None:
        """Write ``record`` as one gzip member; to disk now, or with the next ``commit``."""
        assert self._writer is not None and self._members is not None
        self._members.start(level, RECORD_HEADER_ROOM + (record.length or 0))
        self._writer.write_record(record)  # warcio flushes once, at the record's end: one member
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
            self._fh = self._path = self._writer = self._members = None
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
        assert self._writer is not None
        date = self._writer.curr_warc_date()
        fields = list(exchange.extra_headers.items())
        if exchange.ip_address:
            fields.append(("WARC-IP-Address", exchange.ip_address))
        http_headers = StatusAndHeaders(
            f"{exchange.status} {exchange.reason}".strip(),
            exchange.response_headers,
            protocol=exchange.protocol,
        )
        if revisit_of is None:
            response = self._http_record(
                "response", exchange.url, date, fields, http_headers, exchange.body, exchange.payload_digest
            )
        else:
            response = self._writer.create_revisit_record(
                exchange.url,
                exchange.payload_digest,
                *revisit_of,
                http_headers=http_headers,
                warc_headers_dict={"WARC-Date": date, **dict(fields)},
            )
        response_id = response.rec_headers.get_header("WARC-Record-ID")
        request_line = f"{exchange.method} {exchange.request_target} {exchange.protocol}"
        request = self._http_record(
            "request",
            exchange.url,
            date,
            [("WARC-Concurrent-To", response_id)],
            StatusAndHeaders(request_line, exchange.request_headers, is_http_request=True),
            exchange.request_body,
            sha1_digest(exchange.request_body),
        )
        self._write(response, STORED_LEVEL if already_compressed(exchange) else TEXT_LEVEL, commit=False)
        self._write(request, REQUEST_LEVEL)
        return Written(response_id, date)

    def _http_record(
        self,
        record_type: str,
        url: str,
        date: str,
        fields: list[tuple[str, str]],
        http_headers: StatusAndHeaders,
        body: bytes,
        payload_digest: str,
    ) -> ArcWarcRecord:
        """A ``response`` or ``request`` record, its WARC headers handed to warcio complete.

        Given only some, warcio's ``create_warc_record`` adds the rest one by one with
        ``replace_header`` and ``get_header``, each lowercasing every header name: ~5% of
        the time of writing an exchange.
        """
        assert self._writer is not None
        warc_headers = [
            ("WARC-Type", record_type),
            ("WARC-Record-ID", StatusAndHeadersParser.make_warc_id()),
            ("WARC-Date", date),
            ("WARC-Target-URI", url),
            *fields,
            *record_digests(http_headers, body, payload_digest).items(),
        ]
        return self._writer.create_warc_record(
            url,
            record_type,
            payload=io.BytesIO(body),
            length=len(body),
            warc_content_type=RecordBuilder.WARC_RECORDS[record_type],
            warc_headers=StatusAndHeaders("", warc_headers, protocol=self._writer.warc_version),
            http_headers=http_headers,
        )

    def write_metadata(
        self, uri: str, fields: dict, extra_headers: dict[str, str] | None = None, rotate: bool = True
    ) -> str:
        """Write a ``metadata`` record holding ``fields`` as JSON (fetch errors, crawl summaries).

        With ``rotate=False`` it goes into the current file even past the size limit: a
        crawl's summary lists the files written, its own among them. The record carries a
        block digest and no payload digest (``_RecordWriter``).
        """
        if rotate:
            self._ensure_room()
        else:
            self.ensure_open()
        assert self._writer is not None
        payload = json.dumps(fields, ensure_ascii=False, sort_keys=True).encode("utf-8")
        record = self._writer.create_warc_record(
            uri,
            "metadata",
            payload=io.BytesIO(payload),
            length=len(payload),
            warc_content_type="application/json",
            warc_headers_dict=dict(extra_headers or {}),
        )
        self._write(record)
        return record.rec_headers.get_header("WARC-Record-ID")
