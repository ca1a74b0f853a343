"""The store ``newsarchive serve`` is tested on, and the real server over it."""

from __future__ import annotations

import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from email.message import Message
from pathlib import Path

from archive.demo.site import NewsSite
from tests.helpers.cli import FAST, command, newsarchive
from tests.helpers.net import free_port
from tests.helpers.pages import BAD_SITE

# A word of one corpus article's text (traf-politico-com-retirement) found in no other.
KNOWN_WORD, KNOWN_PAGE = "Hendersonville", "/news/traf-politico-com-retirement.html"

# An archived page that would act on the Datasette origin if its script ran.
HOSTILE_PATH = "/hostile.html"
HOSTILE_TITLE = "Archived as it was"
HOSTILE_PAGE = f"""<!DOCTYPE html><html><head><title>{HOSTILE_TITLE}</title></head><body>
<h1>A page with a script</h1><p>Its script must not run where the archive is served.</p>
<script>document.title = "scripts ran"; fetch("/news/articles.json").then(() => alert(1))</script>
</body></html>""".encode()
HOSTILE_SITE = """
[[sites]]
name = "hostile"
start_urls = ["{base}/hostile.html"]
"""


def build_store(news_site: NewsSite, data: Path) -> Path:
    """Crawl the loopback site (revisit records on) and extract: a store like a user's."""
    news_site.add(HOSTILE_PATH, HOSTILE_PAGE, "text/html; charset=utf-8")
    sites = data / "sites.toml"
    extra = BAD_SITE.format(base=news_site.base) + HOSTILE_SITE.format(base=news_site.base)
    sites.write_text(news_site.sites_toml(per_route=True, extra=extra))
    newsarchive("crawl", "--sites", sites, *FAST, "-s", "WARC_DEDUP=True", data=data, check=False)
    newsarchive("extract", data=data)
    return data


def _wait_for_port(port: int, process: subprocess.Popen, log: Path, deadline: float = 60) -> None:
    until = time.monotonic() + deadline
    while time.monotonic() < until:
        if process.poll() is not None:
            raise AssertionError(f"serve exited {process.returncode}:\n{log.read_text()}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.1)
    raise AssertionError(f"serve did not listen on port {port} within {deadline}s:\n{log.read_text()}")


@contextmanager
def running_server(data: Path) -> Iterator[str]:
    """Start the real ``newsarchive serve`` on a free loopback port; stop exactly that process."""
    port = free_port()
    log = data / f"serve-{port}.log"
    with open(log, "wb") as out:
        process = subprocess.Popen(
            command("serve", "--port", str(port), data=data), stdout=out, stderr=subprocess.STDOUT
        )
    try:
        _wait_for_port(port, process, log)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()  # serve execs Datasette in place: this pid is the server
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def fetch(url: str) -> tuple[int, Message, bytes]:
    """(status, headers, body) without raising on 4xx/5xx and without following redirects."""

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    opener = urllib.request.build_opener(NoRedirect)
    try:
        with opener.open(url, timeout=30) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read()
