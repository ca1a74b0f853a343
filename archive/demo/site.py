"""A news site on loopback, built from the bundled real pages (``archive/demo/corpus``).

The offline demo crawls it and the tests crawl it: a home page, two section pages, an RSS
and an Atom feed, a sitemap index with a gzipped and a plain sitemap, a robots.txt with a
``Sitemap:`` line and a disallowed path. Each discovery route leads to its own articles,
so a test can tell which route found what. Every request is logged in ``requests``.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import sys
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime
from html import escape
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import brotli

CORPUS_DIR = Path(__file__).resolve().parent / "corpus"  # package data: the demo runs from a wheel
# Served without a charset in Content-Type: only their <meta> says what they are.
META_CHARSET_ONLY = {"traf-die-tagespost-de-demut", "traf-auto-presse-de-minisuv"}
LAST_MODIFIED = "Mon, 02 Nov 2026 08:00:00 GMT"
ROUTES = ("links", "rss", "atom", "sitemap", "robots")


@dataclass
class Page:
    status: int
    headers: list[tuple[str, str]]
    body: bytes
    coding: str | None = None  # "gzip" or "br": applied when the client accepts it
    chunked: bool = False  # sent with Transfer-Encoding: chunked, no Content-Length


@dataclass
class CorpusPage:
    id: str
    path: str
    manifest: dict


@dataclass
class ServedRequest:
    method: str
    path: str
    headers: dict[str, str]
    status: int
    at: float = 0.0  # time.monotonic() when answered


def load_manifest(corpus_dir: Path = CORPUS_DIR) -> list[dict]:
    if not (corpus_dir / "manifest.jsonl").exists():
        raise FileNotFoundError(
            f"the bundled pages are missing ({corpus_dir}): reinstall newsarchive"
        )
    with open(corpus_dir / "manifest.jsonl", encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def _html(title: str, links: list[tuple[str, str]], extra: str = "") -> bytes:
    items = "\n".join(f'<li><a href="{escape(href)}">{escape(text)}</a></li>' for href, text in links)
    return (
        f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{escape(title)}</title>'
        f'<meta property="og:type" content="website"></head><body><h1>{escape(title)}</h1>'
        f"<nav><ul>{items}</ul></nav>{extra}</body></html>"
    ).encode()


def _urlset(urls: list[str]) -> bytes:
    entries = "".join(f"<url><loc>{escape(u)}</loc></url>" for u in urls)
    return (
        f'<?xml version="1.0" encoding="UTF-8"?><urlset xmlns="http://www.sitemaps.org/schemas/'
        f'sitemap/0.9">{entries}</urlset>'
    ).encode()


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address) -> None:
        """A client that hangs up early (a size cap, a killed crawl) is not an error here."""
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class NewsSite:
    """The loopback site. ``with NewsSite() as site:`` serves it on 127.0.0.1:<free port>."""

    def __init__(self, corpus_dir: Path = CORPUS_DIR, port: int = 0) -> None:
        self.corpus_dir = corpus_dir
        self.port = port
        self.manifest = load_manifest(corpus_dir)
        self.pages: dict[str, Page] = {}
        self.requests: list[ServedRequest] = []
        self.articles: dict[str, list[CorpusPage]] = {route: [] for route in ROUTES}
        self.published: list[tuple[str, str]] = []  # (title, URL) added to the RSS feed later
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.base = ""

    # -- content --------------------------------------------------------------------

    def _build(self) -> None:
        base = self.base
        for index, row in enumerate(self.manifest):
            route = ROUTES[index * len(ROUTES) // len(self.manifest)]
            page = CorpusPage(row["id"], f"/news/{row['id']}.html", row)
            self.articles[route].append(page)
            body = gzip.decompress((self.corpus_dir / "pages" / f"{row['id']}.html.gz").read_bytes())
            content_type = (
                "text/html" if row["id"] in META_CHARSET_ONLY else f"text/html; charset={row['encoding']}"
            )
            self.add(page.path, body, content_type, coding="gzip")

        links = self.articles["links"]
        half = len(links) // 2
        sections = {"/world/": ("World", links[:half]), "/business/": ("Business", links[half:])}
        nav = [("/", "Home"), ("/world/", "World"), ("/business/", "Business")]
        self.add(
            "/",
            _html(
                "Loopback News",
                nav
                + [
                    ("/private/secret.html", "Members only"),
                    ("https://example.org/elsewhere", "Elsewhere"),
                    ("/tag/russia/", "Russia (tag)"),
                ],
            ),
            "text/html; charset=utf-8",
            coding="gzip",
        )
        for path, (title, pages) in sections.items():
            self.add(
                path,
                _html(title, nav + [(p.path, p.manifest["expected"]["title"] or p.id) for p in pages]),
                "text/html; charset=utf-8",
                coding="gzip",
            )
        self.add("/private/secret.html", _html("Secret", []), "text/html; charset=utf-8")
        self.add("/tag/russia/", _html("Tag", []), "text/html; charset=utf-8")

        self._write_rss()
        atom_entries = "".join(
            f"<entry><title>{escape(p.manifest['expected']['title'] or p.id)}</title>"
            f'<link rel="alternate" href="{base}{p.path}"/><id>{base}{p.path}</id></entry>'
            for p in self.articles["atom"]
        )
        self.add(
            "/feeds/atom.xml",
            (
                '<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom">'
                f'<title>Loopback News</title><link href="{base}/"/>{atom_entries}</feed>'
            ).encode(),
            "application/atom+xml; charset=utf-8",
        )

        sitemap_pages = self.articles["sitemap"]
        half = len(sitemap_pages) // 2
        self.add(
            "/sitemap_index.xml",
            (
                '<?xml version="1.0" encoding="UTF-8"?><sitemapindex xmlns="http://www.sitemaps.org/'
                f'schemas/sitemap/0.9"><sitemap><loc>{base}/sitemaps/news-1.xml.gz</loc></sitemap>'
                f"<sitemap><loc>{base}/sitemaps/news-2.xml</loc></sitemap></sitemapindex>"
            ).encode(),
            "application/xml",
        )
        self.add(
            "/sitemaps/news-1.xml.gz",
            gzip.compress(_urlset([base + p.path for p in sitemap_pages[:half]]), mtime=0),
            "application/x-gzip",
        )
        self.add(
            "/sitemaps/news-2.xml", _urlset([base + p.path for p in sitemap_pages[half:]]), "application/xml"
        )
        self.add(
            "/sitemaps/robots.xml",
            _urlset([base + p.path for p in self.articles["robots"]]),
            "application/xml",
        )
        self.add(
            "/robots.txt",
            (f"User-agent: *\nDisallow: /private/\n\nSitemap: {base}/sitemaps/robots.xml\n").encode(),
            "text/plain",
        )

    def _write_rss(self) -> None:
        links = [(p.manifest["expected"]["title"] or p.id, self.base + p.path) for p in self.articles["rss"]]
        items = "".join(
            f"<item><title>{escape(title)}</title><link>{escape(url)}</link><guid>{escape(url)}</guid></item>"
            for title, url in links + self.published
        )
        self.add(
            "/feeds/rss.xml",
            (
                '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel>'
                f"<title>Loopback News</title><link>{self.base}/</link>{items}</channel></rss>"
            ).encode(),
            "application/rss+xml; charset=utf-8",
            coding="gzip",
        )

    def publish(self, path: str, body: bytes, feed_urls: list[str] | None = None) -> None:
        """A new article: served at ``path`` and listed in the RSS feed (under ``feed_urls``,
        e.g. tracking-parameter variants of its URL, or its plain URL)."""
        self.add(path, body, "text/html; charset=utf-8", coding="gzip")
        for url in feed_urls or [self.url(path)]:
            self.published.append((path, url))
        self._write_rss()

    def add(
        self,
        path: str,
        body: bytes,
        content_type: str | None,
        *,
        status: int = 200,
        headers: list[tuple[str, str]] | None = None,
        coding: str | None = None,
        chunked: bool = False,
    ) -> None:
        """Serve ``body`` at ``path`` (tests add broken pages with this)."""
        all_headers = list(headers or [])
        if content_type:
            all_headers.insert(0, ("Content-Type", content_type))
        self.pages[path] = Page(status, all_headers, body, coding, chunked)

    def url(self, path: str) -> str:
        return self.base + path

    def sites_toml(self, per_route: bool = False, extra: str = "") -> str:
        """A site list for this site: one site, or one site per discovery route."""
        base = self.base
        if not per_route:
            return (
                f'[[sites]]\nname = "loopback"\nstart_urls = ["{base}/"]\n'
                f'feeds = ["{base}/feeds/rss.xml", "{base}/feeds/atom.xml"]\n'
                f'sitemaps = ["{base}/sitemap_index.xml", "{base}/robots.txt"]\n'
                "max_depth = 2\n" + extra
            )
        return (
            "[defaults]\nmax_depth = 2\n\n"
            f'[[sites]]\nname = "links"\nstart_urls = ["{base}/"]\n\n'
            f'[[sites]]\nname = "rss"\nfeeds = ["{base}/feeds/rss.xml"]\n\n'
            f'[[sites]]\nname = "atom"\nfeeds = ["{base}/feeds/atom.xml"]\n\n'
            f'[[sites]]\nname = "sitemap"\nsitemaps = ["{base}/sitemap_index.xml"]\n\n'
            f'[[sites]]\nname = "robots"\nsitemaps = ["{base}/robots.txt"]\n' + extra
        )

    # -- serving --------------------------------------------------------------------

    def _handler(self):
        site = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
                page = site.pages.get(self.path.split("#")[0])
                if page is None:
                    page = Page(404, [("Content-Type", "text/html; charset=utf-8")], _html("Not found", []))
                body = page.body
                headers = list(page.headers)
                if page.status == 200:  # validators, as real servers send them
                    etag = f'"{hashlib.sha1(body).hexdigest()[:16]}"'
                    headers += [("ETag", etag), ("Last-Modified", LAST_MODIFIED)]
                    if self.headers.get("If-None-Match") == etag:
                        page = Page(304, [("ETag", etag)], b"")
                        body, headers = b"", page.headers
                with site._lock:
                    site.requests.append(
                        ServedRequest("GET", self.path, dict(self.headers), page.status, time.monotonic())
                    )
                if page.coding and page.coding in self.headers.get("Accept-Encoding", ""):
                    body = gzip.compress(body, mtime=0) if page.coding == "gzip" else brotli.compress(body)
                    headers.append(("Content-Encoding", page.coding))
                self.send_response(page.status)
                for name, value in headers:
                    self.send_header(name, value)
                if page.chunked:
                    self.send_header("Transfer-Encoding", "chunked")
                elif not any(n.lower() == "content-length" for n, _ in headers):
                    self.send_header("Content-Length", str(len(body)))
                self.send_header("Date", format_datetime(datetime.now(UTC), usegmt=True))
                self.end_headers()
                if page.chunked:
                    for start in range(0, len(body), 4096):
                        chunk = body[start : start + 4096]
                        self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                    self.wfile.write(b"0\r\n\r\n")
                else:
                    self.wfile.write(body)

            def log_message(self, format: str, *args) -> None:  # quiet: requests are in site.requests
                pass

        return Handler

    def start(self) -> NewsSite:
        self._server = _QuietServer(("127.0.0.1", self.port), self._handler())
        self._server.daemon_threads = True
        self.base = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._build()
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> NewsSite:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def requested_paths(self) -> list[str]:
        with self._lock:
            return [r.path for r in self.requests]

    def served(self) -> list[ServedRequest]:
        with self._lock:
            return list(self.requests)
