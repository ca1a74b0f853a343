"""WARC records made up for the tests."""

from __future__ import annotations

from archive.warc.writer import Exchange


def exchange(n: int, body: bytes = b"<html>hello</html>") -> Exchange:
    """A GET of ``/page?n=N`` on 127.0.0.1:1 answered 200 with ``body`` (two Set-Cookie headers)."""
    return Exchange(
        url=f"http://127.0.0.1:1/page?n={n}",
        method="GET",
        request_target=f"/page?n={n}",
        request_headers=[("Host", "127.0.0.1:1"), ("User-Agent", "newsarchive/test")],
        protocol="HTTP/1.1",
        status=200,
        reason="OK",
        response_headers=[("Content-Type", "text/html"), ("Set-Cookie", "a=1"), ("Set-Cookie", "b=2")],
        body=body,
        ip_address="127.0.0.1",
    )
