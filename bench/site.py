"""A realistic news site of N articles as static files, served by nginx on 127.0.0.1.

Every article is a real news page from the corpus (30–150 KB of HTML) with the navigation
a news site wraps around it: a menu of sections and subsections, related and most-read
links, a footer, so a page carries about 200 links (its own ~90, now pointing at its
original site, plus ~115 to this site). There are a home page, section, subsection and
tag listing pages (paginated: a crawler that follows links reaches every article), an RSS
feed, and a sitemap index with one sitemap per 1,000 articles. nginx serves it gzipped
(pre-compressed files, ``gzip_static``), with ETag and Last-Modified, like a news site's
front end.

nginx rather than a Python server: a Python server would cost as much CPU as the crawler
it serves. ``Nginx.cpu_seconds`` shows what it costs.
"""

from __future__ import annotations

import getpass
import gzip
import os
import random
import re
import shutil
import subprocess
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from html import escape
from pathlib import Path
from urllib.parse import urljoin

from bench.common import CorpusPage, free_port, load_corpus

SECTIONS = (
    "world",
    "politics",
    "business",
    "technology",
    "science",
    "health",
    "sport",
    "culture",
    "opinion",
    "travel",
    "climate",
    "education",
)
SUBSECTIONS = ("latest", "analysis", "regional")
FOOTER_PAGES = (
    "about",
    "contact",
    "privacy",
    "terms",
    "careers",
    "advertise",
    "corrections",
    "ethics",
    "archive",
    "podcasts",
    "video",
    "weather",
    "puzzles",
    "obituaries",
    "letters",
    "events",
    "shop",
    "help",
    "accessibility",
    "imprint",
)
TAGS = ("elections", "economy", "energy", "europe", "asia", "africa", "courts", "space", "football", "art")
SLUG_WORDS = (
    "council approves new budget for harbour works after long debate storm leaves thousands "
    "without power ministers meet to discuss trade deal scientists report record ocean heat "
    "court rules on election dispute city plans more bike lanes rail strike set to continue"
).split()
LISTING_SIZE = 60
SITEMAP_SIZE = 1000
FEED_SIZE = 50
HOME_SIZE = 100

A_HREF = re.compile(r"""(<a\s[^>]*?href\s*=\s*)(["'])([^"']*)\2""", re.IGNORECASE)
CANONICAL = re.compile(
    r"""<link[^>]+rel\s*=\s*["']canonical["'][^>]*>|<meta[^>]+property\s*=\s*["']og:url["'][^>]*>""",
    re.IGNORECASE,
)
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
HEAD_OPEN = re.compile(r"<head[^>]*>", re.IGNORECASE)
BODY_OPEN = re.compile(r"<body[^>]*>", re.IGNORECASE)
BODY_CLOSE = re.compile(r"</body\s*>", re.IGNORECASE)


@dataclass
class Site:
    root: Path
    base_url: str
    articles: list[str]  # paths of the article pages
    pages: int  # every HTML page, articles included
    html_bytes: int  # of the article pages
    links_per_article: float  # <a href> per article page, on average


def article_path(i: int) -> str:
    section = SECTIONS[i % len(SECTIONS)]
    rng = random.Random(i)
    slug = "-".join(rng.sample(SLUG_WORDS, 5))
    day = 1 + (i // 97) % 28
    month = 1 + (i // (97 * 28)) % 12
    return f"/{section}/2026/{month:02d}/{day:02d}/{slug}-{i:06d}.html"


def _listing_path(prefix: str, page: int) -> str:
    return f"{prefix}/" if page == 1 else f"{prefix}/page/{page}/"


def _links(paths: list[str], titles: dict[str, str] | None = None) -> str:
    return "".join(
        f'<li><a href="{p}">{escape((titles or {}).get(p, p.rsplit("/", 1)[-1]))}</a></li>' for p in paths
    )


def _menu() -> str:
    items = []
    for section in SECTIONS:
        subs = [f"/{section}/{sub}/" for sub in SUBSECTIONS]
        items.append(f'<li><a href="/{section}/">{section.title()}</a><ul>{_links(subs)}</ul></li>')
    return f'<header><nav class="menu"><a href="/">Home</a><ul>{"".join(items)}</ul></nav></header>'


def _footer() -> str:
    static = _links([f"/{p}/" for p in FOOTER_PAGES])
    tags = _links([f"/tag/{t}/" for t in TAGS])
    return f'<footer><ul class="site">{static}</ul><ul class="tags">{tags}</ul></footer>'


def _page(title: str, body: str) -> bytes:
    return (
        f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{escape(title)}</title>'
        f"</head><body>{_menu()}<main><h1>{escape(title)}</h1>{body}</main>{_footer()}</body></html>"
    ).encode()


def _article_html(
    page: CorpusPage, path: str, base_url: str, related: list[str], most_read: list[str]
) -> bytes:
    """The corpus page with this site's navigation around it and its own links made absolute.

    Worked on as latin-1 text: every byte maps to one character and back, so a page in any
    encoding comes out byte-identical outside the ASCII markup added here.
    """
    text = page.html.decode("latin-1")
    text = A_HREF.sub(lambda m: f"{m[1]}{m[2]}{urljoin(page.url, m[3].strip())}{m[2]}", text)
    text = CANONICAL.sub("", text)
    canonical = f'<link rel="canonical" href="{base_url}{path}">'
    head = HEAD_OPEN.search(text)
    text = text[: head.end()] + canonical + text[head.end() :] if head else canonical + text
    aside = (
        f'<aside class="related"><h2>Related</h2><ul>{_links(related)}</ul></aside>'
        f'<aside class="most-read"><h2>Most read</h2><ul>{_links(most_read)}</ul></aside>'
    )
    body = BODY_OPEN.search(text)
    text = text[: body.end()] + _menu() + text[body.end() :] if body else _menu() + text
    close = max(BODY_CLOSE.finditer(text), key=lambda m: m.start(), default=None)  # the last one
    tail = aside + _footer()
    text = text[: close.start()] + tail + text[close.start() :] if close else text + tail
    return text.encode("latin-1")


def _write(root: Path, path: str, body: bytes) -> None:
    """The file, and beside it the gzipped copy nginx's ``gzip_static`` sends.

    Compressed once here, as a news site's CDN or build step does, rather than by nginx on
    every request: on-the-fly gzip cost nginx 0.84 ms of CPU a page on the same two cores
    the crawlers are measured on.
    """
    target = root / (path.lstrip("/") + "index.html" if path.endswith("/") else path.lstrip("/"))
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(body)
    target.with_name(target.name + ".gz").write_bytes(gzip.compress(body, compresslevel=6, mtime=0))


def _write_listing(root: Path, prefix: str, title: str, paths: list[str]) -> int:
    """Paginated listing of ``paths`` under ``prefix``; returns how many pages it wrote."""
    chunks = [paths[i : i + LISTING_SIZE] for i in range(0, len(paths), LISTING_SIZE)] or [[]]
    for number, chunk in enumerate(chunks, start=1):
        pager = ""
        if number < len(chunks):
            pager = f'<a rel="next" href="{_listing_path(prefix, number + 1)}">Older</a>'
        _write(
            root,
            _listing_path(prefix, number),
            _page(f"{title} ({number})", f"<ul>{_links(chunk)}</ul>{pager}"),
        )
    return len(chunks)


def _feed(base_url: str, paths: list[str]) -> bytes:
    items = "".join(
        f"<item><title>Article {p.rsplit('-', 1)[-1][:-5]}</title><link>{base_url}{p}</link>"
        f"<guid>{base_url}{p}</guid><pubDate>Mon, 02 Nov 2026 08:00:00 GMT</pubDate></item>"
        for p in paths
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>Bench News</title>'
        f"<link>{base_url}/</link><description>Latest</description>{items}</channel></rss>"
    ).encode()


def _sitemaps(root: Path, base_url: str, paths: list[str]) -> None:
    ns = 'xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"'
    children = []
    for number, start in enumerate(range(0, len(paths), SITEMAP_SIZE), start=1):
        urls = "".join(
            f"<url><loc>{base_url}{p}</loc><lastmod>2026-11-02</lastmod></url>"
            for p in paths[start : start + SITEMAP_SIZE]
        )
        name = f"/sitemaps/articles-{number}.xml"
        _write(root, name, f'<?xml version="1.0" encoding="utf-8"?><urlset {ns}>{urls}</urlset>'.encode())
        children.append(f"<sitemap><loc>{base_url}{name}</loc><lastmod>2026-11-02</lastmod></sitemap>")
    index = f'<?xml version="1.0" encoding="utf-8"?><sitemapindex {ns}>{"".join(children)}</sitemapindex>'
    _write(root, "/sitemap.xml", index.encode())


def generate_site(root: Path, n_articles: int, base_url: str) -> Site:
    """Write the site for ``n_articles`` articles under ``root`` (static files for nginx)."""
    _, corpus = load_corpus(30_000, 150_000)
    paths = [article_path(i) for i in range(n_articles)]
    newest_first = paths[::-1]
    html_bytes = 0
    links = 0
    for i, path in enumerate(paths):
        rng = random.Random(i)
        related = [paths[rng.randrange(n_articles)] for _ in range(20)]
        most_read = [paths[rng.randrange(n_articles)] for _ in range(15)]
        html = _article_html(corpus[i % len(corpus)], path, base_url, related, most_read)
        html_bytes += len(html)
        links += len(A_HREF.findall(html.decode("latin-1")))
        _write(root, path, html)
    pages = n_articles
    home = f"<ul>{_links(newest_first[:HOME_SIZE])}</ul>"
    _write(root, "/", _page("Bench News", home))
    pages += 1
    for section in SECTIONS:
        in_section = [p for p in newest_first if p.startswith(f"/{section}/")]
        pages += _write_listing(root, f"/{section}", section.title(), in_section)
        for k, sub in enumerate(SUBSECTIONS):
            sub_paths = in_section[k :: len(SUBSECTIONS)][:LISTING_SIZE]
            _write(root, f"/{section}/{sub}/", _page(f"{section} {sub}", f"<ul>{_links(sub_paths)}</ul>"))
            pages += 1
    for t, tag in enumerate(TAGS):
        pages += _write_listing(root, f"/tag/{tag}", tag, newest_first[t :: len(TAGS)][:LISTING_SIZE])
    for name in FOOTER_PAGES:
        _write(root, f"/{name}/", _page(name.title(), f"<p>{name} of Bench News.</p>"))
        pages += 1
    _write(root, "/feed.xml", _feed(base_url, newest_first[:FEED_SIZE]))
    _sitemaps(root, base_url, paths)
    _write(root, "/robots.txt", f"User-agent: *\nAllow: /\nSitemap: {base_url}/sitemap.xml\n".encode())
    return Site(root, base_url, paths, pages, html_bytes, links / max(1, n_articles))


# ``user``: workers run as whoever runs the benchmark, so they read its (private) temp dirs.
NGINX_CONF = """\
user {user};
worker_processes 1;
daemon off;
pid {dir}/nginx.pid;
error_log {dir}/error.log warn;
events {{ worker_connections 1024; }}
http {{
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    access_log off;
    sendfile on;
    keepalive_requests 1000000;
    gzip_static on;
    client_body_temp_path {dir}/body;
    proxy_temp_path {dir}/proxy;
    fastcgi_temp_path {dir}/fastcgi;
    uwsgi_temp_path {dir}/uwsgi;
    scgi_temp_path {dir}/scgi;
    server {{
        listen 127.0.0.1:{port};
        root {root};
        index index.html;
    }}
}}
"""


class Nginx:
    """nginx from Debian's packages on 127.0.0.1, started and stopped by the benchmark."""

    def __init__(self, root: Path, port: int) -> None:
        binary = shutil.which("nginx") or "/usr/sbin/nginx"
        if not Path(binary).exists():
            raise SystemExit(
                "nginx is not installed (Debian: apt-get install nginx); see tools/system-packages.txt"
            )
        self.dir = Path(tempfile.mkdtemp(prefix="bench-nginx-"))
        self.port = port
        conf = self.dir / "nginx.conf"
        conf.write_text(NGINX_CONF.format(user=getpass.getuser(), dir=self.dir, port=port, root=root))
        self.proc = subprocess.Popen(
            [binary, "-p", str(self.dir), "-c", str(conf), "-e", str(self.dir / "error.log")],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        for _ in range(100):  # up to 10 s for it to listen
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/robots.txt", timeout=1).read()
                return
            except OSError:
                if self.proc.poll() is not None:
                    raise SystemExit(f"nginx did not start: {self.proc.stderr.read().decode()}") from None
                time.sleep(0.1)
        self.stop()
        raise SystemExit("nginx did not answer within 10 s")

    def _pids(self) -> list[int]:
        children = Path(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children")
        found = children.read_text().split() if children.exists() else []
        return [self.proc.pid, *map(int, found)]

    def cpu_seconds(self) -> float:
        """CPU time nginx (master and workers) has used so far."""
        total = 0
        for pid in self._pids():
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            total += int(fields[11]) + int(fields[12])  # utime, stime
        return total / CLOCK_TICKS

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self) -> Nginx:
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


def serve_site(root: Path, n_articles: int) -> tuple[Site, Nginx]:
    """Generate a site of ``n_articles`` under ``root`` and start nginx on it."""
    port = free_port()
    site = generate_site(root, n_articles, f"http://127.0.0.1:{port}")
    return site, Nginx(root, port)
