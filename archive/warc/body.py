"""The HTTP body of a record as the page's bytes: one decoder for every reader of a record.

WARC keeps what came off the wire: ``Transfer-Encoding: chunked`` framing (wget, wpull,
warcprox, Heritrix and warcio's ``capture_http`` keep it) and ``Content-Encoding``. A
consumer must undo them in that order (RFC 9112 7.1). Extraction, replay, lookups and the
Datasette capture view all do it here, the same way.
"""

from __future__ import annotations

import io
import zlib
from collections.abc import Iterable

import brotli
import zstandard
from warcio.bufferedreaders import ChunkedDataException, ChunkedDataReader

GZIP_MAGIC = b"\x1f\x8b"
# The largest body anything decodes, the crawl's download cap too (crawler/settings.py
# DOWNLOAD_MAXSIZE): a body inflating beyond it is refused (``BodyTooLarge``), not read.
MAX_BODY = 64 * 1024 * 1024
PIECE = 1 << 20  # decoded bytes a decoder gives at a time
ZSTD_SLICE = 256  # compressed bytes fed to zstd at a time (_unzstd)


class BodyDecodingError(ValueError):
    """The archived body could not be decoded at all."""


class BodyTooLarge(BodyDecodingError):
    """The body inflates beyond the cap (``MAX_BODY``): a compression bomb or a giant page."""


def header(headers: Iterable[tuple[str, str]], name: str) -> str | None:
    """The first value of HTTP header ``name`` (any case) in ``headers``."""
    name = name.lower()
    return next((value for key, value in headers if key.lower() == name), None)


def undo_transfer_encoding(payload: bytes, transfer_encoding: str | None) -> tuple[bytes, str | None]:
    """The entity without ``chunked`` framing; a body sent chunked but stored de-chunked
    (some tools keep the header) is taken as it is. warcio's reader does the parsing."""
    if "chunked" not in (transfer_encoding or "").lower() or not payload:
        return payload, None
    try:
        return ChunkedDataReader(io.BytesIO(payload), raise_exceptions=True).read(), None
    except ChunkedDataException:
        lenient = ChunkedDataReader(io.BytesIO(payload))
        entity = lenient.read()
        if entity == payload:  # not chunked from its first byte on
            return payload, None
        return entity, f"chunked framing broken after {len(entity)} bytes (kept what was readable)"


def undo_content_encoding(
    body: bytes, coding: str | None, limit: int | None = None
) -> tuple[bytes, str | None]:
    """Remove ``Content-Encoding``; a truncated stream yields what arrived plus a warning.

    The output is capped at ``limit`` bytes (default ``MAX_BODY``) and decoded piece by
    piece, so a compression bomb costs at most about the cap in memory: ``BodyTooLarge``.
    """
    limit = MAX_BODY if limit is None else limit
    coding = (coding or "").strip().lower()
    if coding in ("", "identity"):
        return body, None
    if coding in ("gzip", "x-gzip") and body and not body.startswith(GZIP_MAGIC):
        # ClueWeb09 and some proxies stored the decoded body under the original header.
        return body, f"Content-Encoding {coding} but the body is not {coding}: taken as it is"
    try:
        if coding in ("gzip", "x-gzip"):
            pieces, complete = _inflate(body, 16 + zlib.MAX_WBITS, limit)
        elif coding == "deflate":
            try:
                pieces, complete = _inflate(body, zlib.MAX_WBITS, limit)
            except zlib.error:  # raw deflate, as some servers send
                pieces, complete = _inflate(body, -zlib.MAX_WBITS, limit)
        elif coding == "br":
            pieces, complete = _unbrotli(body, limit)
        elif coding == "zstd":
            pieces, complete = _unzstd(body, limit)
        else:
            raise BodyDecodingError(f"unsupported Content-Encoding {coding!r}")
    except (zlib.error, brotli.error, zstandard.ZstdError) as exc:
        raise BodyDecodingError(f"{coding} body is corrupt: {exc}") from None
    if sum(map(len, pieces)) > limit:
        raise BodyTooLarge(
            f"{coding} body inflates beyond the {limit:,}-byte cap ({len(body):,} bytes archived)"
        )
    data = b"".join(pieces)
    if not complete:
        return data, f"{coding} stream truncated after {len(data)} bytes"
    return data, None


# Each decoder yields its output in pieces and stops once they pass ``limit`` (one byte
# over says "too large"), so a bomb costs the cap plus one piece, never a copy of it.


def _inflate(body: bytes, wbits: int, limit: int) -> tuple[list[bytes], bool]:
    decoder, pieces, size, tail = zlib.decompressobj(wbits), [], 0, body
    while tail and size <= limit and not decoder.eof:
        pieces.append(decoder.decompress(tail, PIECE))
        size += len(pieces[-1])
        tail = decoder.unconsumed_tail
    return pieces, decoder.eof


def _unbrotli(body: bytes, limit: int) -> tuple[list[bytes], bool]:
    decoder = brotli.Decompressor()
    pieces = [decoder.process(body, output_buffer_limit=PIECE)]
    size = len(pieces[0])
    # brotli asks for empty input until it has given out all the given input makes
    while size <= limit and not decoder.is_finished() and not decoder.can_accept_more_data():
        pieces.append(decoder.process(b"", output_buffer_limit=PIECE))
        size += len(pieces[-1])
    return pieces, decoder.is_finished()


def _unzstd(body: bytes, limit: int) -> tuple[list[bytes], bool]:
    # zstandard's decompressobj has no output limit and its stream reader does not tell a
    # truncated frame from a whole one, so the input is fed in slices small enough that one
    # slice inflates to a few MB at most (a 4-byte RLE block makes 128 KB).
    decoder, pieces, size = zstandard.ZstdDecompressor().decompressobj(), [], 0
    view = memoryview(body)
    for start in range(0, len(body), ZSTD_SLICE):
        pieces.append(decoder.decompress(view[start : start + ZSTD_SLICE]))
        size += len(pieces[-1])
        if size > limit or decoder.eof:
            break
    return pieces, decoder.eof


def decode_body(
    payload: bytes, http_headers: Iterable[tuple[str, str]], limit: int | None = None
) -> tuple[bytes, str | None]:
    """The page's bytes from an archived HTTP payload: chunking undone, then Content-Encoding.

    Returns (bytes, warning or None); raises ``BodyDecodingError`` when nothing is readable,
    ``BodyTooLarge`` when the body would exceed ``limit`` (default ``MAX_BODY``).
    """
    http_headers = list(http_headers)
    entity, chunk_warning = undo_transfer_encoding(payload, header(http_headers, "Transfer-Encoding"))
    body, warning = undo_content_encoding(entity, header(http_headers, "Content-Encoding"), limit)
    return body, "; ".join(w for w in (chunk_warning, warning) if w) or None
