"""Reading WARC files: whole records with their offsets, every broken spot reported.

Reading stops cleanly (with a reported error) at a truncated or corrupt spot and resumes at
the next gzip member that starts a record, so one bad record does not hide the rest.
"""

from __future__ import annotations

import os
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from warcio.archiveiterator import ArchiveIterator

from archive.warc.fields import GZIP_MEMBER
from archive.warc.files import closed_name


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


def read_record_at(path: Path, offset: int) -> WarcRecord:
    """The single record at ``offset`` of ``path`` (raises ``ValueError`` if none is there)."""
    errors: list[ReadError] = []
    for record in iter_records(path, offset, errors):
        return record
    raise ValueError(f"no WARC record at {path}:{offset}: {errors[0].message if errors else 'end of file'}")
