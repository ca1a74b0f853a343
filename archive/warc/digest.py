"""WARC digests (``sha1:<base32>``), from hashlib over the bytes in hand."""

from __future__ import annotations

import base64
import hashlib

from warcio.statusandheaders import StatusAndHeaders


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
