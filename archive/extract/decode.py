"""From an HTML body's bytes to text: the charset a browser would use."""

from __future__ import annotations

import charset_normalizer
from w3lib.encoding import (
    html_body_declared_encoding,
    http_content_type_encoding,
    read_bom,
    resolve_encoding,
)

HTML_TYPES = ("text/html", "application/xhtml+xml")


def decode_html(body: bytes, content_type: str | None) -> tuple[str, str]:
    """Text of an HTML body: BOM, then the HTTP charset, then ``<meta>``, then UTF-8.

    w3lib reads the declarations as browsers do and maps labels as the WHATWG Encoding
    standard does (ISO-8859-1 read as windows-1252). When the bytes do not decode in the
    declared charset (a windows-1252 page served as "utf-8"), charset-normalizer decides.
    """
    bom_encoding, bom = read_bom(body)
    if bom_encoding:
        return body[len(bom) :].decode(bom_encoding, errors="replace"), bom_encoding
    declared = http_content_type_encoding(content_type) or html_body_declared_encoding(body) or "utf-8"
    try:
        return body.decode(declared), declared
    except (UnicodeDecodeError, LookupError):
        pass
    best = charset_normalizer.from_bytes(body).best()
    encoding = resolve_encoding(best.encoding) if best else None
    encoding = encoding or declared
    return body.decode(encoding, errors="replace"), encoding
