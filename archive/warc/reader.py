"""Reading WARC, ARC and WACZ files: whole records with their offsets, every broken spot reported.

warcio reads the records (WARC/0.18 to 1.1, ARC as WARC through ``arc2warc``), gzip per
record or uncompressed; a WACZ's ``archive/`` members are stored uncompressed in the zip,
so they are read in place and their offsets are offsets in the ``.wacz`` file itself.

A spot that cannot be parsed is reported with its offset and reading resumes at the next
record (the next gzip member that starts one, or the next header line in an uncompressed
file), so one bad record does not hide the rest. A digest that does not match is a fact
about a record (``WarcRecord.digest_problem``), never a reason to skip it.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import io
import re
import struct
import uuid
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from warcio.archiveiterator import ArchiveIterator
from warcio.statusandheaders import StatusAndHeadersParser

from archive.warc.body import decode_body, header, undo_transfer_encoding
from archive.warc.fields import GZIP_MEMBER
from archive.warc.files import closed_name, file_kind

HTTP_TYPES = ("response", "revisit", "request")
# Where a record starts in an uncompressed file: a WARC version line, or an ARC v1 header line.
WARC_LINE, ARC_LINE = rb"WARC/(?:0\.1[78]|1\.[01])\r?\n", rb"[a-z]+:\S+ \S+ \d{14} \S+ \d+\r?\n"
PLAIN_RECORD_START = re.compile(WARC_LINE + rb"|(?<=\n)" + ARC_LINE)
RECORD_HEAD = re.compile(WARC_LINE + rb"|" + ARC_LINE)


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
    payload: bytes  # the HTTP body as archived (chunked framing and Content-Encoding intact)
    digest_problem: str | None = None  # a digest that matches the record in no convention

    def http_header(self, name: str) -> str | None:
        return header(self.http_headers, name)

    @property
    def mime(self) -> str | None:
        """The payload's media type: the HTTP one, or a ``resource`` record's own."""
        value = self.http_header("Content-Type") if self.http_headers else None
        if value is None and self.type == "resource":
            value = self.headers.get("Content-Type")
        return value.split(";")[0].strip().lower() or None if value else None

    def entity(self) -> bytes:
        """The payload with chunked framing undone (Content-Encoding intact), as a server sends it."""
        return undo_transfer_encoding(self.payload, self.http_header("Transfer-Encoding"))[0]

    def body(self) -> tuple[bytes, str | None]:
        """The page's bytes (``decode_body``): (bytes, warning or None)."""
        return decode_body(self.payload, self.http_headers)


@dataclass
class ReadError:
    """A spot in a WARC file that could not be read (truncated or corrupt)."""

    file: str
    offset: int
    message: str


def one_line(text: str, limit: int = 200) -> str:
    """A message as one line of printable text: raw bytes escaped, long ones cut."""
    text = " ".join(text.split())
    text = text.encode("ascii", "backslashreplace").decode("ascii")
    text = "".join(c if c.isprintable() else f"\\x{ord(c):02x}" for c in text)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def iter_records(
    path: Path,
    start_offset: int = 0,
    errors: list[ReadError] | None = None,
    with_payload: bool = True,
    digests: bool = True,
) -> Iterator[WarcRecord]:
    """Yield the whole records of ``path`` from ``start_offset`` on.

    A spot that cannot be read is appended to ``errors`` (when given) with its offset, and
    reading resumes at the next record. ``digests`` checks each record's digests, which
    needs its bytes whether or not ``with_payload`` keeps them.
    """
    errors = errors if errors is not None else []
    path = Path(path)
    name = closed_name(path)
    kind = file_kind(path)
    with open(path, "rb") as fh:
        size = fh.seek(0, io.SEEK_END)
        if kind == "unknown":
            fh.seek(0)
            errors.append(ReadError(name, 0, f"not a WARC, ARC or WACZ file: it starts {fh.read(24)!r}"))
            return
        if kind == "wacz":
            regions = _wacz_regions(path, name, errors)
        else:
            regions = [(0, size, kind.endswith(".gz"), kind.startswith("arc"))]
        for start, end, gzipped, arc in regions:
            if end <= start_offset:
                continue
            run = _Run(fh, name, end, gzipped, arc, with_payload, digests)
            yield from run.records(max(start, start_offset), errors)


def _wacz_regions(path: Path, name: str, errors: list[ReadError]) -> list[tuple[int, int, bool, bool]]:
    """(start, end, gzipped, ARC) of each WARC/ARC member under ``archive/`` of a WACZ."""
    regions = []
    try:
        with zipfile.ZipFile(path) as wacz, open(path, "rb") as fh:
            for info in wacz.infolist():
                if not info.filename.startswith("archive/") or info.is_dir():
                    continue
                if info.compress_type != zipfile.ZIP_STORED:
                    errors.append(
                        ReadError(
                            name,
                            info.header_offset,
                            f"{info.filename} is compressed in the zip"
                            " (a WACZ stores its WARCs uncompressed): not readable in place",
                        )
                    )
                    continue
                fh.seek(info.header_offset + 26)
                name_length, extra_length = struct.unpack("<HH", fh.read(4))
                start = info.header_offset + 30 + name_length + extra_length
                fh.seek(start)
                gzipped, arc = fh.read(2) == GZIP_MEMBER[:2], ".arc" in info.filename
                regions.append((start, start + info.compress_size, gzipped, arc))
    except (zipfile.BadZipFile, OSError, struct.error) as exc:
        errors.append(ReadError(name, 0, one_line(f"not a readable WACZ (zip): {exc}")))
    return sorted(regions)


class _QuietIterator(ArchiveIterator):
    """warcio's iterator without its multi-line stderr warning (raw bytes in it) about a
    record not followed by CRLF CRLF: ``_Run`` reports that spot as one line instead."""

    INC_RECORD = ""


class _Run:
    """The records of one stretch of a file (the whole file, or one WARC inside a WACZ)."""

    def __init__(
        self, fh, name: str, end: int, gzipped: bool, arc: bool, with_payload: bool, digests: bool
    ) -> None:
        self.fh, self.name, self.end, self.gzipped, self.arc = fh, name, end, gzipped, arc
        self.with_payload, self.digests = with_payload, digests

    def records(self, position: int, errors: list[ReadError]) -> Iterator[WarcRecord]:
        while position < self.end:
            problem, position = yield from self._read(position, errors)
            if problem is None:
                break
            errors.append(ReadError(self.name, position, problem))
            resume = self._resync(position + 1)
            if resume is None:
                return
            position = resume
        else:
            return
        self.fh.seek(position)
        # warcio's lengths leave out an uncompressed record's closing CRLF CRLF: not a leftover.
        if self.fh.read(min(5, self.end - position)) not in (b"", b"\r\n\r\n", b"\r\n", b"\n"):
            errors.append(
                ReadError(
                    self.name, position, f"{self.end - position} bytes at the end are not a whole record"
                )
            )

    def _read(self, position: int, errors: list[ReadError]):
        """Records from ``position`` until the end or a broken spot: (problem or None, offset)."""
        self.fh.seek(position)
        iterator = _QuietIterator(self.fh, no_record_parse=True, arc2warc=self.arc)
        offset = position
        try:
            for record in iterator:
                if record.format != "warc" and not self.arc:  # warcio takes text lines for ARC headers
                    raise ValueError(f"not a WARC record ({record.format})")
                block = record.raw_stream.read()
                iterator.read_to_end(record)
                offset, length = iterator.get_record_offset(), iterator.get_record_length()
                if length <= 0:  # warcio's offsets count gzip members: several records share this one
                    raise ValueError(
                        "several records in one gzip member, so they have no offsets of their own"
                        " (rewrite the file one member per record: `warcio recompress IN OUT`)"
                    )
                if getattr(record.raw_stream, "limit", 0) > 0:
                    raise ValueError("record truncated: fewer bytes than its Content-Length")
                if self.gzipped and offset + length >= self.end and not self._whole_member(offset, length):
                    raise ValueError("record truncated: its gzip member ends before the gzip trailer")
                if iterator.err_count:  # bytes where its closing CRLF CRLF should be
                    iterator.err_count = 0
                    errors.append(
                        ReadError(
                            self.name,
                            offset,
                            "the record before is longer than its"
                            " Content-Length says (its end was read as what follows it)",
                        )
                    )
                yield self._record(record, block, offset, length)
                offset += length
                if offset >= self.end:
                    break
        except Exception as exc:  # warcio raises several types for a broken member
            self.fh.seek(offset)
            if not self.gzipped and self.fh.read(4) == b"\r\n\r\n":
                offset += 4  # the last good record's closing CRLF CRLF, which warcio's lengths leave out
            return one_line(f"{type(exc).__name__}: {exc}"), offset
        return None, offset

    def _whole_member(self, offset: int, length: int) -> bool:
        """Whether the gzip member at ``offset`` ends as gzip says one ends (its trailer).

        warcio stops reading a member once its data is out and never looks for the trailer,
        so a file cut a few bytes short reads as whole; other readers (warcio's own indexer,
        pywb, wacz) then fail on it. Checked for a file's last member only: an earlier one
        cut short is caught by the member after it not starting where it should.
        """
        position = self.fh.tell()
        self.fh.seek(offset)
        inflate = zlib.decompressobj(16 + zlib.MAX_WBITS)
        left = length
        try:
            while left > 0 and not inflate.eof:
                chunk = self.fh.read(min(left, 1 << 20))
                if not chunk:
                    break
                left -= len(chunk)
                inflate.decompress(chunk, 1 << 16)  # the data is not wanted: only where it ends
                while inflate.unconsumed_tail and not inflate.eof:
                    inflate.decompress(inflate.unconsumed_tail, 1 << 16)
        except zlib.error:
            return False
        finally:
            self.fh.seek(position)
        return inflate.eof

    def _resync(self, start: int) -> int | None:
        """Offset of the next spot at or after ``start`` where a record begins."""
        chunk_size = 1 << 20
        position = start
        while position < self.end:
            self.fh.seek(position)
            chunk = self.fh.read(min(chunk_size + 512, self.end - position))
            if self.gzipped:
                found = chunk.find(GZIP_MEMBER)
                while found != -1 and found < chunk_size:
                    if self._starts_record(position + found):
                        return position + found
                    found = chunk.find(GZIP_MEMBER, found + 1)
            else:
                match = PLAIN_RECORD_START.search(chunk)
                if match and match.start() < chunk_size:
                    return position + match.start()
            position += chunk_size
        return None

    def _starts_record(self, offset: int) -> bool:
        self.fh.seek(offset)
        try:
            head = zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(self.fh.read(512), 256)
        except zlib.error:
            return False
        return RECORD_HEAD.match(head) is not None

    def _record(self, record, block: bytes, offset: int, length: int) -> WarcRecord:
        headers = record.rec_headers
        url = headers.get_header("WARC-Target-URI") or ""
        status, http_headers, payload = None, [], block
        is_arc = self.arc
        if (
            record.rec_type in HTTP_TYPES
            and block
            and (is_arc or "application/http" in (headers.get_header("Content-Type") or ""))
        ):
            stream = io.BytesIO(block)
            try:
                parsed = StatusAndHeadersParser([], verify=False).parse(stream)
            except EOFError:
                parsed = None
            if parsed is not None:
                code = parsed.get_statuscode()
                status = int(code) if code and code.isdigit() else None
                http_headers = list(parsed.headers)
                payload = block[stream.tell() :]
        record_id = headers.get_header("WARC-Record-ID") or ""
        if is_arc:  # warcio gives a converted ARC record a random id: make one that stays the same
            record_id = (
                f"<urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, f'{url} {offset} {length} {len(block)}')}>"
            )
        return WarcRecord(
            file=self.name,
            offset=offset,
            length=length,
            type=record.rec_type,
            record_id=record_id,
            url=url,
            date=headers.get_header("WARC-Date") or "",
            headers=dict(headers.headers),
            status=status,
            http_headers=http_headers,
            payload=payload if self.with_payload else b"",
            digest_problem=_digest_problem(record.rec_type, headers, block, payload, http_headers)
            if self.digests and not is_arc
            else None,
        )


def _digest_problem(rec_type: str, headers, block: bytes, payload: bytes, http_headers) -> str | None:
    """What does not match among the record's digests, or None.

    The payload digest of a chunked response is taken over the chunked bytes by some tools
    (warcio, wget) and over the de-chunked entity by others (warcprox, Heritrix, wget-lua;
    iipc/warc-specifications#22): either one is a match. By hand because warcio's checker
    knows only the first.
    """
    problems = []
    block_digest = headers.get_header("WARC-Block-Digest")
    if block_digest and digest_matches(block_digest, block) is False:
        problems.append(f"block digest {block_digest} does not match")
    payload_digest = headers.get_header("WARC-Payload-Digest")
    if payload_digest and rec_type != "revisit":  # a revisit's is the digest of the record it refers to
        matches = digest_matches(payload_digest, payload)
        if matches is False and header(http_headers, "Transfer-Encoding"):
            matches = digest_matches(payload_digest, undo_transfer_encoding(payload, "chunked")[0])
        if matches is False:
            problems.append(f"payload digest {payload_digest} does not match")
    return "; ".join(problems) or None


def digest_matches(value: str, data: bytes) -> bool | None:
    """Whether a WARC digest (``sha1:<base32>``, or base16/base64, of sha1, sha256, md5...)
    is that of ``data``; None for an algorithm hashlib does not know."""
    algorithm, _, expected = value.strip().partition(":")
    try:
        digest = hashlib.new(algorithm.lower().replace("-", ""), data).digest()
    except ValueError:
        return None
    for decode in (base64.b32decode, base64.b16decode, base64.b64decode):
        try:
            if decode(expected.upper() if decode is not base64.b64decode else expected) == digest:
                return True
        except (binascii.Error, ValueError):
            continue
    return False


def read_record_at(path: Path, offset: int) -> WarcRecord:
    """The single record at ``offset`` of ``path`` (raises ``ValueError`` if none is there)."""
    errors: list[ReadError] = []
    for record in iter_records(path, offset, errors, digests=False):
        if record.offset == offset:
            return record
        break
    raise ValueError(f"no WARC record at {path}:{offset}: {errors[0].message if errors else 'end of file'}")
