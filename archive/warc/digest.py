"""WARC digests (``sha1:<base32>``), from hashlib over the bytes in hand."""

from __future__ import annotations

import base64
import hashlib


def sha1_digest(*parts: bytes) -> str:
    """``sha1:<base32>`` of ``parts`` one after the other, as warcio writes WARC digests."""
    sha1 = hashlib.sha1()
    for part in parts:
        sha1.update(part)
    return "sha1:" + base64.b32encode(sha1.digest()).decode("ascii")
