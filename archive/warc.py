"""WARC I/O: the archive is the source of truth, so this module is small and strict.

Writing follows DESIGN.md's conventions: WARC/1.1, one gzip member per record, a
``warcinfo`` record first in every file, files written as ``.warc.gz.open`` and renamed
when closed, rotation at a size limit. Reading yields whole records with their offsets
and stops cleanly (with a reported error) at a truncated or corrupt spot.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import logging
import os
import re
import socket
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cached_property
from pathlib import Path
from typing import NamedTuple

from warcio.archiveiterator import ArchiveIterator
from warcio.recordbuilder import RecordBuilder
from warcio.recordloader import ArcWarcRecord
from warcio.statusandheaders import StatusAndHeaders, StatusAndHeadersParser
from warcio.warcwriter import WARCWriter

logger = logging.getLogger(__name__)

OPEN_SUFFIX = ".open"
WARC_SUFFIX = ".warc.gz"
NEWSARCHIVE_SITE_HEADER = "NewsArchive-Site"  # WARC extension field: which site list entry
NEWSARCHIVE_CRAWL_HEADER = "NewsArchive-Crawl"  # WARC extension field: which crawl run
CRAWL_SUMMARY_URI = "urn:newsarchive:crawl-summary"
GZIP_MEMBER = b"\x1f\x8b\x08"
WARC_DATE = "%Y-%m-%dT%H:%M:%S.%fZ"  # as warcio writes WARC/1.1 dates: with microseconds


def sha1_digest(*parts: bytes) -> str:
    """``sha1:<base32>`` of ``parts`` one after the other, as warcio writes WARC digests."""
    sha1 = hashlib.sha1()
    for part in parts:
        sha1.update(part)
    return "sha1:" + base64.b32encode(sha1.digest()).decode("ascii")


def record_digests(http_headers: StatusAndHeaders, body: bytes, payload: str) -> dict[str, str]:
    """``WARC-Block-Digest`` and ``WARC-Payload-Digest`` (``payload``) of an HTTP record.

    Given to warcio, which computes the same values when they are missing by streaming the
    record through its Python ``Digester`` 16 KB at a time, once for each digest: a third
    of the WARC middleware's time. hashlib over the bytes in hand gives them at C speed.
    """
    http_headers.compute_headers_buffer()  # the bytes warcio writes (no header filter)
    return {"WARC-Payload-Digest": payload, "WARC-Block-Digest": sha1_digest(http_headers.headers_buff, body)}


def _safe_host(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9.]+", "_", name).strip("._") or "host"


def warc_file_name(serial: int, when: datetime | None = None) -> str:
    """``NEWSARCHIVE-<UTC yyyymmddHHMMSS>-<serial>-<host>-<pid>.warc.gz``.

    The pid after the host keeps names unique across processes on one host.
    """
    when = when or datetime.now(UTC)
    return (
        f"NEWSARCHIVE-{when:%Y%m%d%H%M%S}-{serial:05d}-"
        f"{_safe_host(socket.gethostname())}-{os.getpid()}{WARC_SUFFIX}"
    )


def closed_name(path: Path) -> str:
    """The name a WARC file has (or will have) once closed: the store's key for it."""
    name = path.name
    return name[: -len(OPEN_SUFFIX)] if name.endswith(OPEN_SUFFIX) else name


NAME_PATTERN = re.compile(r"^NEWSARCHIVE-\d{14}-\d{5}-(?P<host>[A-Za-z0-9._]+)-(?P<pid>\d+)\.warc\.gz")


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, owned by someone else
        return True
    return True


@dataclass
class Recovered:
    path: Path  # the closed file
    dropped: int  # bytes of a last record cut short by the crash


def recover_orphans(directory: Path) -> list[Recovered]:
    """Close the ``.open`` files of writers that died (SIGKILL, power loss) on this host.

    A file whose writing process no longer runs is cut after its last whole record and
    renamed, so every tool reads it; files of live writers and of other hosts are left.
    """
    recovered = []
    host = _safe_host(socket.gethostname())
    for path in sorted(Path(directory).glob(f"*{WARC_SUFFIX}{OPEN_SUFFIX}")):
        match = NAME_PATTERN.match(path.name)
        if not match or match["host"] != host or _process_alive(int(match["pid"])):
            continue
        end = 0
        for record in iter_records(path, with_payload=False):
            end = record.offset + record.length
        size = path.stat().st_size
        if end < size:
            os.truncate(path, end)
        final = path.with_name(closed_name(path))
        os.replace(path, final)
        recovered.append(Recovered(final, size - end))
        logger.warning(
            "closed %s, left open by a writer that died (%d bytes of a cut-off record dropped)",
            final.name,
            size - end,
        )
    return recovered


def list_warc_files(directory: Path) -> list[Path]:
    """Closed and still-open WARC files in ``directory``, oldest name first."""
    if not directory.is_dir():
        return []
    found = [
        p
        for p in directory.iterdir()
        if p.is_file() and (p.name.endswith(WARC_SUFFIX) or p.name.endswith(WARC_SUFFIX + OPEN_SUFFIX))
    ]
    return sorted(found, key=lambda p: closed_name(p))


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

    def __init__(self, fh: io.BufferedWriter) -> None:
        self.fh = fh
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
        """Write the members ended so far to the file and flush it."""
        self.fh.write(b"".join(self._pending))
        self._pending.clear()
        self.fh.flush()


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
        self._fh: io.BufferedWriter | None = None
        self._path: Path | None = None
        self._writer: WARCWriter | None = None
        self._members: GzipMembers | None = None

    # -- file lifecycle -------------------------------------------------------------

    def _open_new_file(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        name = warc_file_name(self._serial)
        self._serial += 1
        self._path = self.directory / (name + OPEN_SUFFIX)
        self._fh = open(self._path, "xb")
        self._members = GzipMembers(self._fh)
        self._writer = WARCWriter(self._members, gzip=False, warc_version="1.1")
        info = {
            "software": "newsarchive",
            "format": "WARC File Format 1.1",
            "conformsTo": "https://iipc.github.io/warc-specifications/specifications/warc-format/warc-1.1/",
            "hostname": socket.gethostname(),
            "pid": str(os.getpid()),
        }
        info.update(self.warcinfo)
        self._write(self._writer.create_warcinfo_record(name, info))

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
        """Close the current file, renaming it from ``.open``; returns all closed files."""
        if self._fh is not None:
            assert self._path is not None
            self.bytes_written += self._fh.tell()
            self._fh.close()
            final = self._path.with_name(closed_name(self._path))
            os.replace(self._path, final)
            self.closed_files.append(final)
            self._fh = self._path = self._writer = self._members = None
        return self.closed_files

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
        crawl's summary lists the files written, its own among them.
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


# -- reading --------------------------------------------------------------------------


@dataclass
class WarcRecord:
    """A record read back, with where it lies in its file."""

    file: str  # closed name of the file
    offset: int
    length: int
    type: str
    record_id: str
    url: str
    date: str
    headers: dict[str, str]  # WARC headers
    status: int | None
    http_headers: list[tuple[str, str]]
    payload: bytes  # for responses: the HTTP body as archived (Content-Encoding intact)

    def http_header(self, name: str) -> str | None:
        name = name.lower()
        for key, value in self.http_headers:
            if key.lower() == name:
                return value
        return None


@dataclass
class ReadError:
    """A spot in a WARC file that could not be read (truncated or corrupt)."""

    file: str
    offset: int
    message: str


def iter_records(
    path: Path,
    start_offset: int = 0,
    errors: list[ReadError] | None = None,
    with_payload: bool = True,
) -> Iterator[WarcRecord]:
    """Yield the whole records of ``path`` from ``start_offset`` on.

    A truncated or corrupt spot is appended to ``errors`` (when given) with its offset,
    and reading resumes at the next gzip member that starts a valid WARC record, so one
    bad record does not hide the rest of a file.
    """
    name = closed_name(Path(path))
    with open(path, "rb") as fh:
        size = os.fstat(fh.fileno()).st_size
        position = start_offset
        while position < size:
            problem, position = yield from _read_run(fh, name, position, with_payload)
            if problem is None:
                break
            resume = _next_member(fh, position + 1)
            if errors is not None:
                errors.append(ReadError(name, position, problem))
            if resume is None:
                break
            position = resume
        else:
            return
        fh.seek(position)
        # warcio's lengths leave out an uncompressed record's closing CRLF CRLF: not a leftover.
        if problem is None and fh.read(5) not in (b"", b"\r\n\r\n") and errors is not None:
            errors.append(
                ReadError(name, position, f"{size - position} bytes at the end are not a whole WARC record")
            )


def _read_run(fh, name: str, position: int, with_payload: bool):
    """Read records from ``position`` until the end or a broken spot: (problem or None, offset)."""
    fh.seek(position)
    iterator = ArchiveIterator(fh, check_digests=True)
    offset = position
    try:
        for record in iterator:
            if record.format != "warc":  # warcio also reads ARC, and takes text lines for ARC headers
                raise ValueError(f"not a WARC record ({record.format})")
            payload = record.raw_stream.read() if with_payload else b""
            iterator.read_to_end(record)
            offset, length = iterator.get_record_offset(), iterator.get_record_length()
            if length <= 0:  # warcio's offsets count gzip members: several records share this one
                raise ValueError(
                    "several records in one gzip member, so they have no offsets of their own"
                    " (rewrite the file one member per record: `warcio recompress IN OUT`)"
                )
            if getattr(record.raw_stream, "limit", 0) > 0:
                raise ValueError("record truncated: fewer bytes than its Content-Length")
            if record.digest_checker.passed is False:
                raise ValueError("; ".join(record.digest_checker.problems))
            yield _warc_record(name, record, offset, length, payload)
            offset += length
    except Exception as exc:  # warcio raises several types for a broken member
        return f"{type(exc).__name__}: {exc}", offset
    return None, offset


def _next_member(fh, start: int) -> int | None:
    """Offset of the next gzip member at or after ``start`` that begins a WARC record."""
    chunk_size = 1 << 20
    position = start
    while True:
        fh.seek(position)
        chunk = fh.read(chunk_size + 2)
        if len(chunk) < 3:
            return None
        found = chunk.find(GZIP_MEMBER)
        while found != -1 and found < chunk_size:
            if _starts_warc_record(fh, position + found):
                return position + found
            found = chunk.find(GZIP_MEMBER, found + 1)
        position += chunk_size


def _starts_warc_record(fh, offset: int) -> bool:
    fh.seek(offset)
    try:
        head = zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(fh.read(512), 16)
    except zlib.error:
        return False
    return head.startswith(b"WARC/")


def _warc_record(name: str, record, offset: int, length: int, payload: bytes) -> WarcRecord:
    status = None
    http_headers: list[tuple[str, str]] = []
    if record.http_headers is not None and record.rec_type in ("response", "revisit"):
        code = record.http_headers.get_statuscode()
        status = int(code) if code and code.isdigit() else None
        http_headers = list(record.http_headers.headers)
    return WarcRecord(
        file=name,
        offset=offset,
        length=length,
        type=record.rec_type,
        record_id=record.rec_headers.get_header("WARC-Record-ID") or "",
        url=record.rec_headers.get_header("WARC-Target-URI") or "",
        date=record.rec_headers.get_header("WARC-Date") or "",
        headers=dict(record.rec_headers.headers),
        status=status,
        http_headers=http_headers,
        payload=payload,
    )


def verify(path: Path, digests: bool = True) -> list[ReadError]:
    """Read every record of ``path`` back, with its digests checked as `warcio check` does.

    A crawl checks every file it wrote, so the common case, a sound file, takes the cheap
    walk of ``_first_doubtful_member``. From the first member that walk doubts on,
    ``iter_records`` (warcio, as extract reads) has the last word and says what is wrong.

    ``digests=False`` is the crawl's read-back check of files it has just written: each
    member must inflate with the right CRC-32 and length and hold one whole record. The
    writer took the digests with hashlib from the very bytes it compressed, and the CRC
    proves the file holds those bytes; hashing them again (twice per response, a third of
    the check) would only test the writer's code, which the tests do.
    """
    start = _first_doubtful_member(path, digests)
    if start is None:
        return []
    errors: list[ReadError] = []
    for _ in iter_records(path, start, errors, with_payload=False):
        pass
    return errors


_CHUNK = 1 << 20  # read from the file at a time
_PIECE = 1 << 16  # handed to zlib at a time


def _first_doubtful_member(path: Path, digests: bool) -> int | None:
    """Offset of the first gzip member that is not one sound WARC record as this module writes them.

    By hand because warcio has no cheaper check than reading every record, which parses
    each WARC and HTTP header line through its buffered readers: several times the CPU of
    this walk. zlib checks each member's CRC-32 and length; the member must hold exactly
    one record, ``Content-Length`` bytes of block then CRLF CRLF, and (with ``digests``)
    the block and payload digests must be the sha1 of what is there.
    """
    offset = 0
    with open(path, "rb") as fh:
        chunk, position = memoryview(fh.read(_CHUNK)), 0
        while position < len(chunk):
            inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
            parts, length = [], 0
            while not inflater.eof:
                if position == len(chunk):
                    chunk, position = memoryview(fh.read(_CHUNK)), 0
                    if not chunk:
                        return offset  # cut short
                # Small pieces: at a member's end zlib copies what is left of the piece.
                piece = chunk[position : position + _PIECE]
                try:
                    parts.append(inflater.decompress(piece))
                except zlib.error:
                    return offset
                used = len(piece) - len(inflater.unused_data)
                position += used
                length += used
            if not _sound_record(b"".join(parts), digests):
                return offset
            offset += length
            if position == len(chunk):
                chunk, position = memoryview(fh.read(_CHUNK)), 0
    return None


def _sound_record(data: bytes, digests: bool) -> bool:
    end = data.find(b"\r\n\r\n")
    lines = data[:end].split(b"\r\n")
    if end < 0 or not lines[0].startswith(b"WARC/1."):
        return False
    fields = {}
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        fields[name.strip().lower()] = value.strip().decode("latin-1")
    size = fields.get(b"content-length", "")
    start = end + 4
    if not size.isdigit() or len(data) - start != int(size) + 4 or not data.endswith(b"\r\n\r\n"):
        return False
    if not digests:
        return True
    block = data[start : start + int(size)]
    if b"warc-block-digest" in fields and fields[b"warc-block-digest"] != sha1_digest(block):
        return False
    if b"warc-payload-digest" not in fields or fields.get(b"warc-type") == "revisit":
        return True  # a revisit's payload digest is that of the record it refers to
    if fields.get(b"content-type", "").startswith("application/http"):
        block = block.partition(b"\r\n\r\n")[2]  # the HTTP body, after the HTTP headers
    return fields[b"warc-payload-digest"] == sha1_digest(block)


def read_record_at(path: Path, offset: int) -> WarcRecord:
    """The single record at ``offset`` of ``path`` (raises ``ValueError`` if none is there)."""
    errors: list[ReadError] = []
    for record in iter_records(path, offset, errors):
        return record
    raise ValueError(f"no WARC record at {path}:{offset}: {errors[0].message if errors else 'end of file'}")
