"""Reading a WARC file back whole: the crawl's check of what it wrote, and `warcio check`'s."""

from __future__ import annotations

import zlib
from pathlib import Path

from archive.warc.digest import sha1_digest
from archive.warc.reader import ReadError, iter_records


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
    for record in iter_records(path, start, errors, with_payload=False, digests=digests):
        if record.digest_problem:  # extract keeps such a record; a check of the file names it
            errors.append(ReadError(record.file, record.offset, record.digest_problem))
    return sorted(errors, key=lambda error: error.offset)


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
