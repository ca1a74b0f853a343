"""The HTTP body of a record as the page's bytes: one decoder for every reader of a record.

WARC keeps what the server sent, ``Content-Encoding`` intact; extraction, replay and the
Datasette capture view all undo it here, the same way.
"""

from __future__ import annotations

import zlib

import brotli


class BodyDecodingError(ValueError):
    """The archived body could not be decoded at all."""


def undo_content_encoding(body: bytes, coding: str | None) -> tuple[bytes, str | None]:
    """Remove ``Content-Encoding``; a truncated stream yields what arrived plus a warning."""
    coding = (coding or "").strip().lower()
    if coding in ("", "identity"):
        return body, None
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
        else:
            raise BodyDecodingError(f"unsupported Content-Encoding {coding!r}")
        data = decoder.decompress(body)
        if not decoder.eof:
            return data, f"{coding} stream truncated after {len(data)} bytes"
        return data, None
    except (zlib.error, brotli.error) as exc:
        raise BodyDecodingError(f"{coding} body is corrupt: {exc}") from None
