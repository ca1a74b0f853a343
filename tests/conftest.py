"""Shared fixtures: the loopback news site and a way to run the real CLI."""

from __future__ import annotations

import gzip
import subprocess
import sys
from pathlib import Path

import pytest

from archive.demo.site import NewsSite

# A crawl on loopback needs no politeness delay; everything else is as in production.
FAST = [
    "-s",
    "AUTOTHROTTLE_ENABLED=False",
    "-s",
    "CONCURRENT_REQUESTS_PER_DOMAIN=8",
    "-s",
    "RETRY_TIMES=1",
    "-s",
    "DOWNLOAD_TIMEOUT=10",
]


def newsarchive(
    *args: str | Path,
    data: Path,
    check: bool = True,
    timeout: int = 300,
) -> subprocess.CompletedProcess:
    """Run ``newsarchive ARGS --data DATA`` in a fresh process (a Twisted reactor runs once)."""
    command = [sys.executable, "-m", "archive", *map(str, args), "--data", str(data)]
    result = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
    if check and result.returncode != 0:
        raise AssertionError(f"{command} exited {result.returncode}\n{result.stdout}\n{result.stderr}")
    return result


def add_bad_pages(site: NewsSite) -> None:
    """Pages that go wrong in the ways real sites do, linked from /bad/."""
    article = gzip.decompress(
        (site.corpus_dir / "pages" / "fundus-ca-globalnews-2026-05-24.html.gz").read_bytes()
    )
    html = "text/html; charset=utf-8"
    site.add("/bad/500", b"<html><body>Internal error</body></html>", html, status=500)
    site.add("/bad/404", b"<html><body>Gone</body></html>", html, status=404)
    site.add("/bad/redirect/1", b"", None, status=301, headers=[("Location", "/bad/redirect/2")])
    site.add("/bad/redirect/2", b"", None, status=302, headers=[("Location", "/bad/redirect/3")])
    site.add("/bad/redirect/3", b"", None, status=307, headers=[("Location", "/bad/landed")])
    site.add("/bad/landed", article, html)
    site.add("/bad/loop", b"", None, status=302, headers=[("Location", "/bad/loop")])
    for n in range(20):  # a loop the dupefilter cannot see: every hop is a new URL
        site.add(
            f"/bad/endless?n={n}", b"", None, status=302, headers=[("Location", f"/bad/endless?n={n + 1}")]
        )
    truncated = gzip.compress(article, mtime=0)[:5000]
    site.add("/bad/truncated-gzip", truncated, html, headers=[("Content-Encoding", "gzip")])
    site.add("/bad/empty", b"", html)
    tagespost = gzip.decompress(
        (site.corpus_dir / "pages" / "traf-die-tagespost-de-demut.html.gz").read_bytes()
    )
    site.add("/bad/meta-charset-only", tagespost, "text/html")  # ISO-8859-1, said only in <meta>
    site.add("/bad/feed.xml", b"Service temporarily unavailable {{{ <<<", "application/rss+xml")
    links = "".join(
        f'<a href="/bad/{p}">{p}</a> '
        for p in (
            "500",
            "404",
            "redirect/1",
            "loop",
            "endless?n=0",
            "truncated-gzip",
            "empty",
            "meta-charset-only",
        )
    )
    site.add("/bad/", f"<html><body><h1>Bad</h1>{links}</body></html>".encode(), html)


BAD_SITE = """
[[sites]]
name = "bad"
start_urls = ["{base}/bad/"]
feeds = ["{base}/bad/feed.xml"]
max_depth = 1
"""


@pytest.fixture(scope="module")
def news_site():
    site = NewsSite()
    with site:
        add_bad_pages(site)
        yield site
