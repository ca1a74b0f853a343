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


class BodyDecodingError(ValueError):
    """The archived body could not be decoded at all."""


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


def undo_content_encoding(body: bytes, coding: str | None) -> tuple[bytes, str | None]:
    """Remove ``Content-Encoding``; a truncated stream yields what arrived plus a warning."""
    coding = (coding or "").strip().lower()
    if coding in ("", "identity"):
        return body, None
    if coding in ("gzip", "x-gzip") and body and not body.startswith(GZIP_MAGIC):
        # ClueWeb09 and some proxies stored the decoded body under the original header.
        return body, f"Content-Encoding {coding} but the body is not {coding}: taken as it is"
    try:
        if coding in ("gzip", "x-gzip"):
            decoder = zlib.decompressobj(16 + zlib.MAX_WBITS)
        elif coding == "deflate":
            try:
                return zlib.decompress(body), None
            except zlib.error:
                decoder = zlib.decompressobj(-zlib.MAX_WBITS)  # raw deflate, as some servers send
        elif coding == "br":
            return brotli.decompress(body), None
        elif coding == "zstd":
            decoder = zstandard.ZstdDecompressor().decompressobj()
        else:
            raise BodyDecodingError(f"unsupported Content-Encoding {coding!r}")
        data = decoder.decompress(body)
        if not decoder.eof:
            return data, f"{coding} stream truncated after {len(data)} bytes"
        return data, None
    except (zlib.error, brotli.error, zstandard.ZstdError) as exc:
        raise BodyDecodingError(f"{coding} body is corrupt: {exc}") from None


def decode_body(payload: bytes, http_headers: Iterable[tuple[str, str]]) -> tuple[bytes, str | None]:
    """The page's bytes from an archived HTTP payload: chunking undone, then Content-Encoding.

    Returns (bytes, warning or None); raises ``BodyDecodingError`` when nothing is readable.
    """
    http_headers = list(http_headers)
    entity, chunk_warning = undo_transfer_encoding(payload, header(http_headers, "Transfer-Encoding"))
    body, warning = undo_content_encoding(entity, header(http_headers, "Content-Encoding"))
    return body, "; ".join(w for w in (chunk_warning, warning) if w) or None
