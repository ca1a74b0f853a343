"""Several real crawler processes sharing one real Redis (``--redis``), on the loopback site."""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import time
from collections import Counter
from pathlib import Path
from types import SimpleNamespace

import pytest
import redis

from archive.demo.site import NewsSite
from archive.warc.files import list_warc_files
from archive.warc.verify import verify
from tests.helpers.cli import FAST, newsarchive, start
from tests.helpers.net import free_port
from tests.helpers.redis import private_redis

# Faster signs of life than in production, so a killed process is noticed within seconds.
QUICK_FLEET = ["-s", "NEWSARCHIVE_HEARTBEAT=0.5", "-s", "NEWSARCHIVE_WORKER_TIMEOUT=2"]


def start_crawl(sites: Path, data: Path, redis_url: str, *settings: str) -> subprocess.Popen:
    return start("crawl", "--sites", sites, *FAST, *settings, "--redis", redis_url, data=data)


def finish(process: subprocess.Popen, timeout: int = 240) -> str:
    out, err = process.communicate(timeout=timeout)
    assert process.returncode == 0, f"crawl exited {process.returncode}\n{out}\n{err}"
    return out + err


def article_fetches(site: NewsSite, since: int = 0) -> Counter[str]:
    return Counter(r.path for r in site.served()[since:] if r.path.startswith("/news/") and r.status == 200)


def articles(db: Path) -> dict[str, tuple[str, str]]:
    conn = sqlite3.connect(db)
    try:
        return {row[0]: (row[1], row[2]) for row in conn.execute("SELECT id, title, text FROM articles")}
    finally:
        conn.close()


def extract_union(root: Path, name: str, *data_dirs: Path) -> Path:
    """One store from the WARC files of several crawl processes."""
    files = [p for d in data_dirs for p in list_warc_files(d / "warc")]
    newsarchive("extract", *files, data=root / name)
    return root / name / "news.db"


@pytest.fixture(scope="module")
def fleet(tmp_path_factory):
    """The loopback site, a private Redis, and a single-process crawl to compare with."""
    root = tmp_path_factory.mktemp("fleet")
    with NewsSite() as site, private_redis(root / "redis") as url:
        sites = root / "sites.toml"
        sites.write_text(site.sites_toml())
        newsarchive("crawl", "--sites", sites, *FAST, data=root / "single")
        newsarchive("extract", data=root / "single")
        single = articles(root / "single" / "news.db")
        yield SimpleNamespace(root=root, site=site, url=url, sites=sites, single=single)


@pytest.mark.slow  # crawler processes sharing a real Redis
def test_two_processes_fetch_each_article_once(fleet):
    since = len(fleet.site.served())
    # Few requests taken at a time and a small delay, so both processes get a share.
    slow = ["-s", "CONCURRENT_REQUESTS=2", "-s", "DOWNLOAD_DELAY=0.1"]
    a = start_crawl(fleet.sites, fleet.root / "a", fleet.url, *slow)
    b = start_crawl(fleet.sites, fleet.root / "b", fleet.url, *slow)
    finish(a), finish(b)

    fetched = article_fetches(fleet.site, since)
    expected = {p.path for pages in fleet.site.articles.values() for p in pages}
    assert set(fetched) == expected
    assert set(fetched.values()) == {1}, [p for p, n in fetched.items() if n > 1]
    sources = Counter(r.path for r in fleet.site.served()[since:] if not r.path.startswith("/news/"))
    assert sources["/feeds/rss.xml"] == 1, "start pages, feeds and sitemaps: once per round"

    for data in (fleet.root / "a", fleet.root / "b"):
        warcs = list_warc_files(data / "warc")
        assert warcs and all(p.name.endswith(".warc.gz") for p in warcs)
        assert not [error for p in warcs for error in verify(p)]
        assert articles(extract_union(fleet.root, f"own-{data.name}", data)), (
            f"{data.name} fetched no article"
        )
    union = articles(extract_union(fleet.root, "union", fleet.root / "a", fleet.root / "b"))
    assert union == fleet.single

    # The round is over: queue, seen sets, workers and in-flight gone; known articles kept.
    server = redis.Redis.from_url(fleet.url)
    assert {k.decode() for k in server.keys("*")} == {"newsarchive:news:archived"}
    assert server.hlen("newsarchive:news:archived") == len(expected)


@pytest.mark.slow  # crawler processes sharing a real Redis
def test_the_fleet_does_not_refetch_what_any_process_archived(fleet):
    """A new process with an empty data dir: the articles the others archived are known."""
    since = len(fleet.site.served())
    out = finish(start_crawl(fleet.sites, fleet.root / "newcomer", fleet.url))
    assert not article_fetches(fleet.site, since)
    assert "/" in [r.path for r in fleet.site.served()[since:]], "start pages are fetched every round"
    assert "26 known articles skipped" in out


@pytest.mark.slow  # crawler processes sharing a real Redis
def test_an_article_due_again_is_fetched_again_across_the_fleet(fleet):
    """``refetch_after_days`` weighs the fleet's dates of fetch (read back from Redis)."""
    due = fleet.root / "due.toml"
    due.write_text(fleet.site.sites_toml(extra="refetch_after_days = 0\n"))
    since = len(fleet.site.served())
    out = finish(start_crawl(due, fleet.root / "due", fleet.url))
    expected = {p.path for pages in fleet.site.articles.values() for p in pages}
    assert dict(article_fetches(fleet.site, since)) == dict.fromkeys(expected, 1)
    assert "0 known articles skipped" in out


@pytest.mark.slow  # a real Redis
def test_a_process_asks_redis_once_per_url_not_per_link(tmp_path):
    """Listing pages that all link to every article: Redis hears of each URL once."""
    with NewsSite() as site, private_redis(tmp_path / "redis") as url:
        paths = ["/", "/world/", "/business/"] + [p.path for pages in site.articles.values() for p in pages]
        listing = "".join(f'<a href="{path}">{path}</a>' for path in paths)
        listings = [f"/latest/{n}/" for n in range(5)]
        for path in listings:
            site.add(path, f"<html><body>{listing}</body></html>".encode(), "text/html; charset=utf-8")
        sites = tmp_path / "sites.toml"
        starts = "".join(f'"{site.base}{path}", ' for path in listings)
        sites.write_text(site.sites_toml().replace("start_urls = [", f"start_urls = [{starts}"))
        finish(start_crawl(sites, tmp_path / "data", url))
        added = redis.Redis.from_url(url).info("commandstats")["cmdstat_sadd"]["calls"]
    fetched = len(site.served())
    assert len(listings) * len(paths) > 3 * fetched, "links to the same URLs, many times over"
    # One SADD per URL queued (seen set) or yielded at start (sources), a few to join the fleet.
    assert added <= fetched + 10, (added, fetched)


@pytest.mark.slow  # a crawler process killed with SIGKILL mid-crawl
def test_a_killed_process_loses_nothing(fleet):
    redis.Redis.from_url(fleet.url).flushdb()  # a fleet with no memory of the runs above
    since = len(fleet.site.served())
    # The victim takes 8 requests at a time and fetches one a second: it dies holding some.
    victim = start_crawl(
        fleet.sites,
        fleet.root / "victim",
        fleet.url,
        *QUICK_FLEET,
        "-s",
        "DOWNLOAD_DELAY=1",
        "-s",
        "RANDOMIZE_DOWNLOAD_DELAY=False",
        "-s",
        "CONCURRENT_REQUESTS=8",
    )
    deadline = time.monotonic() + 60
    while sum(article_fetches(fleet.site, since).values()) < 2:
        assert time.monotonic() < deadline and victim.poll() is None, "the victim should be crawling"
        time.sleep(0.1)
    survivor = start_crawl(
        fleet.sites, fleet.root / "survivor", fleet.url, *QUICK_FLEET, "-s", "DOWNLOAD_DELAY=0.2"
    )
    time.sleep(1)
    victim.send_signal(signal.SIGKILL)
    victim.wait(timeout=10)
    out = finish(survivor)

    assert "of its requests requeued" in out, "the victim died holding requests"
    expected = {p.path for pages in fleet.site.articles.values() for p in pages}
    assert set(article_fetches(fleet.site, since)) == expected
    union = extract_union(fleet.root, "after-kill", fleet.root / "victim", fleet.root / "survivor")
    assert set(articles(union)) == set(fleet.single)


def test_an_unreachable_redis_is_a_clear_configuration_error(tmp_path):
    sites = tmp_path / "sites.toml"
    sites.write_text('[[sites]]\nname = "x"\nstart_urls = ["http://127.0.0.1:9/"]\n')
    url = f"redis://127.0.0.1:{free_port()}/0"
    result = newsarchive("crawl", "--sites", sites, "--redis", url, data=tmp_path, check=False)
    assert result.returncode == 3, result.stderr
    assert f"cannot use Redis at {url}" in result.stderr
    assert not list_warc_files(tmp_path / "warc")
