"""Pages the tests serve or extract: the bundled corpus, pages that go wrong, a hostile feed."""

from __future__ import annotations

import gzip
from dataclasses import asdict

from archive.demo.site import CORPUS_DIR, NewsSite, load_manifest
from archive.extract.article import examine_page, extract_article
from archive.extract.decode import decode_html

CORPUS = CORPUS_DIR
ROWS = {row["id"]: row for row in load_manifest(CORPUS)}


def corpus_page(page_id: str) -> bytes:
    """The bytes of a bundled page, as its server sent them (before any Content-Encoding)."""
    return gzip.decompress((CORPUS / "pages" / f"{page_id}.html.gz").read_bytes())


def extract_corpus_page(page_id: str, content_type: str | None = None, **kwargs):
    """``extract_article`` on a bundled page, decoded as served with its manifest's charset."""
    row = ROWS[page_id]
    content_type = content_type or f"text/html; charset={row['encoding']}"
    html, _ = decode_html(corpus_page(page_id), content_type)
    return extract_article(html, row["url"], f"{row['crawl_date'] or '2026-11-01T00:00:00'}+00:00", **kwargs)


def corpus_verdicts(every: int = 1) -> list[str]:
    """What ``examine_page`` makes of every ``every``-th bundled page (article, reason and
    signals), as text to compare between two ways of running it."""
    found = []
    for page_id, row in sorted(ROWS.items())[::every]:
        html, _ = decode_html(corpus_page(page_id), f"text/html; charset={row['encoding']}")
        verdict = examine_page(html, row["url"], f"{row['crawl_date'] or '2026-11-01T00:00:00'}+00:00")
        article = asdict(verdict.article) if verdict.article else None
        found.append(repr((page_id, article, verdict.reason, verdict.signals)))
    return found


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

# A billion laughs in a feed: 20^7 * 62 bytes (about 79 GB) were its entities expanded.
BOMB = b"""<?xml version="1.0"?>
<!DOCTYPE rss [
 <!ENTITY a "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa">
 <!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">
 <!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">
 <!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;">
 <!ENTITY e "&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;">
 <!ENTITY f "&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;">
 <!ENTITY g "&f;&f;&f;&f;&f;&f;&f;&f;&f;&f;&f;&f;&f;&f;&f;&f;&f;&f;&f;&f;">
]>
<rss version="2.0"><channel><item><title>&g;</title><link>https://news.test/2024/a-b-c</link></item>
</channel></rss>"""
