"""Cron-ready runs: incremental, conditional, locked, summarised, flagged when silent."""

from __future__ import annotations

import gzip
import json
import re
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import pytest

from archive.demo.site import NewsSite
from crawler.runner import download_slots
from crawler.sites import load_sites
from tests.helpers.cli import FAST, command, newsarchive, start
from tests.helpers.pages import BOMB

REPO = Path(__file__).resolve().parent.parent
NEW_PAGE = "fundus-tw-taipeitimes-2024-10-15"  # served without og:url: a new URL is a new article


def _news_paths(site: NewsSite, since: int) -> list[str]:
    return [r.path for r in site.served()[since:] if r.path.startswith("/news/")]


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """Three hourly runs of one site; a new article appears in the feed before the third."""
    data = tmp_path_factory.mktemp("cron")
    with NewsSite() as site:
        sites = data / "sites.toml"
        sites.write_text(site.sites_toml(extra="silent_after_runs = 2\n"))
        results, marks = [], []
        for number in range(3):
            if number == 2:
                body = gzip.decompress((site.corpus_dir / "pages" / f"{NEW_PAGE}.html.gz").read_bytes())
                body = re.sub(rb'<meta property="og:url"[^>]*>|<link rel="canonical"[^>]*>', b"", body)
                path = "/news/2026/11/23/new-story-from-taipei.html"
                site.publish(
                    path,
                    body,
                    feed_urls=[
                        site.url(path) + "?utm_source=rss&utm_medium=feed",
                        site.url(path) + "#comments",
                        site.url(path),
                    ],
                )
            marks.append(len(site.served()))
            results.append(newsarchive("run", "--sites", sites, "--quiet", *FAST, data=data, check=False))
        yield SimpleNamespace(data=data, site=site, results=results, marks=marks, served=site.served())


def test_first_run_is_quiet_when_all_is_well(runs):
    first = runs.results[0]
    assert first.returncode == 0, first.stderr
    assert first.stdout == ""
    log = sorted((runs.data / "logs").glob("*-run.log"))[0].read_text()
    assert "new articles" in log and "crawl: " in log and "extract: " in log and "export: " in log


def test_second_run_fetches_no_known_article_and_gets_304s(runs):
    served = runs.served[runs.marks[1] : runs.marks[2]]
    assert not [r.path for r in served if r.path.startswith("/news/")]
    statuses = {r.path: r.status for r in served}
    assert (
        statuses["/feeds/rss.xml"] == 304 and statuses["/sitemap_index.xml"] == 304 and statuses["/"] == 304
    )
    db = sqlite3.connect(runs.data / "news.db")
    archived = db.execute("SELECT count(*) FROM captures WHERE status = 304").fetchone()[0]
    assert archived >= 3  # the 304s are archived too


def test_third_run_fetches_the_new_article_once(runs):
    fetched = [r.path for r in runs.served[runs.marks[2] :] if r.path.startswith("/news/")]
    assert fetched == ["/news/2026/11/23/new-story-from-taipei.html"]  # tracking variants: one fetch
    db = sqlite3.connect(runs.data / "news.db")
    (url,) = db.execute("SELECT url FROM articles WHERE url LIKE '%new-story-from-taipei%'").fetchone()
    assert url.endswith("new-story-from-taipei.html")


def test_crawls_table_records_each_run(runs):
    db = sqlite3.connect(runs.data / "news.db")
    rows = db.execute("SELECT sites, responses, site_responses FROM crawls ORDER BY started").fetchall()
    assert len(rows) == 3
    assert all(json.loads(sites) == ["loopback"] for sites, _, _ in rows)


def test_runs_with_new_articles_are_not_flagged(runs):
    assert [r.returncode for r in runs.results] == [
        0,
        0,
        0,
    ]  # silent_after_runs = 2: run 2 had none, run 3 one


@pytest.mark.slow  # three whole runs in a row
def test_silence_after_runs_flags_the_site(tmp_path):
    with NewsSite() as site:
        sites = tmp_path / "sites.toml"
        sites.write_text(site.sites_toml(extra="silent_after_runs = 2\n"))
        results = [newsarchive("run", "--sites", sites, *FAST, data=tmp_path, check=False) for _ in range(3)]
    assert [r.returncode for r in results] == [0, 0, 1]
    assert "loopback: no new article in 2 runs" in results[2].stderr
    assert re.search(r"loopback \d+ pages, 0 new articles, 0 errors", results[2].stderr)


@pytest.mark.slow  # a run killed with SIGKILL while it holds the lock
def test_lock_held_and_stale_lock(tmp_path):
    with NewsSite() as site:
        sites = tmp_path / "sites.toml"
        sites.write_text(site.sites_toml())
        delayed = ["-s", "DOWNLOAD_DELAY=0.2", "-s", "CONCURRENT_REQUESTS=1"]
        slow = start("run", "--sites", sites, *FAST, *delayed, data=tmp_path)
        deadline = time.monotonic() + 30
        while not site.served() and time.monotonic() < deadline:
            time.sleep(0.05)
        second = newsarchive("run", "--sites", sites, *FAST, data=tmp_path, check=False)
        assert second.returncode == 4
        assert "another run holds" in second.stderr and ".lock" in second.stderr
        slow.send_signal(signal.SIGKILL)  # dies holding the lock: the kernel releases it
        slow.wait()
        assert (tmp_path / ".lock").read_text().strip() == str(slow.pid)  # a stale lock file stays
        third = newsarchive("run", "--sites", sites, *FAST, data=tmp_path, check=False)
        assert third.returncode in (0, 1), third.stderr
        assert "another run holds" not in third.stderr


def test_entity_bomb_feed_fails_alone_within_a_memory_bound(news_site, tmp_path):
    news_site.add("/bomb/feed.xml", BOMB, "application/rss+xml")
    sites = tmp_path / "sites.toml"
    sites.write_text(
        f'[[sites]]\nname = "bomb"\nfeeds = ["{news_site.url("/bomb/feed.xml")}"]\n'
        f'[[sites]]\nname = "rss"\nfeeds = ["{news_site.url("/feeds/rss.xml")}"]\n'
    )
    # Started by a small launcher process: Linux carries a process's peak RSS across exec, so
    # a crawl forked straight from this test process would report at least pytest's own RSS.
    launcher = "import subprocess, sys; sys.exit(subprocess.call(sys.argv[1:]))"
    crawl = command("crawl", "--sites", sites, *FAST, data=tmp_path)
    result = subprocess.run(
        [sys.executable, "-c", launcher, *map(str, crawl)], capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 1 and "sources failed for site(s): bomb" in result.stderr
    stats = result.stderr[result.stderr.index("Dumping Scrapy stats") :]
    peak = int(re.search(r"'memusage/max': (\d+)", stats).group(1))
    assert peak < 300 * 2**20
    assert "'newsarchive/discovered/feed': 5" in stats  # the other site's feed is read as usual


def test_per_site_politeness_becomes_download_slots(tmp_path):
    path = tmp_path / "sites.toml"
    path.write_text(
        '[[sites]]\nname = "slow"\nfeeds = ["https://a.test/rss", "https://b.test/rss"]\n'
        "download_delay = 5\nconcurrency = 1\n"
        '[[sites]]\nname = "default"\nfeeds = ["https://c.test/rss"]\n'
    )
    assert download_slots(load_sites(path)) == {
        "a.test": {"delay": 5, "concurrency": 1},
        "b.test": {"delay": 5, "concurrency": 1},
    }


def _sitemap(entries: list[tuple[str, str]], tag: str = "url", root: str = "urlset") -> bytes:
    body = "".join(f"<{tag}><loc>{loc}</loc><lastmod>{date}</lastmod></{tag}>" for loc, date in entries)
    return f'<{root} xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{body}</{root}>'.encode()


def test_sitemap_dates_limit_a_first_crawl_and_skip_unchanged_sitemaps(news_site, tmp_path):
    site = news_site
    old, new = site.articles["sitemap"][0], site.articles["sitemap"][1]
    site.add(
        "/dated/child.xml",
        _sitemap([(site.url(old.path), "2019-05-01"), (site.url(new.path), time.strftime("%Y-%m-%d"))]),
        "application/xml",
    )
    site.add(
        "/dated/index.xml",
        _sitemap(
            [(site.url("/dated/child.xml"), "2026-01-01T00:00:00Z")], tag="sitemap", root="sitemapindex"
        ),
        "application/xml",
    )
    sites = tmp_path / "sites.toml"
    sites.write_text(
        f'[[sites]]\nname = "dated"\nsitemaps = ["{site.url("/dated/index.xml")}"]\nmax_age_days = 30\n'
    )
    mark = len(site.served())
    newsarchive("crawl", "--sites", sites, *FAST, data=tmp_path)
    first = [r.path for r in site.served()[mark:]]
    assert new.path in first and old.path not in first  # 2019 is older than 30 days
    mark = len(site.served())
    newsarchive("crawl", "--sites", sites, *FAST, data=tmp_path)
    second = [r.path for r in site.served()[mark:]]
    assert "/dated/index.xml" in second and "/dated/child.xml" not in second  # lastmod before our copy


def test_refetch_after_days_fetches_archived_articles_again(news_site, tmp_path):
    sites = tmp_path / "sites.toml"
    sites.write_text(
        f'[[sites]]\nname = "rss"\nfeeds = ["{news_site.url("/feeds/rss.xml")}"]\nrefetch_after_days = 0\n'
    )
    articles = {p.path for p in news_site.articles["rss"]}
    fetched = []
    for _ in range(2):
        mark = len(news_site.served())
        newsarchive("crawl", "--sites", sites, *FAST, data=tmp_path)
        fetched.append({r.path for r in news_site.served()[mark:]} & articles)
    assert fetched == [articles, articles]
    newsarchive("extract", data=tmp_path)
    db = sqlite3.connect(tmp_path / "news.db")
    rows = db.execute("SELECT first_seen < last_seen FROM articles").fetchall()
    assert rows and all(r == (1,) for r in rows)  # same ids, last_seen moved on


def test_links_of_article_pages_are_not_followed(news_site, tmp_path):
    html = "text/html; charset=utf-8"
    news_site.add(
        "/lt/",
        b'<html><body><a href="/lt/world/">World</a>'
        b'<a href="/lt/2026/11/23/talks-in-moscow-end">Story</a></body></html>',
        html,
    )
    news_site.add(
        "/lt/world/",
        b'<html><body><a href="/lt/2026/11/22/earlier-talks-in-beijing">S</a></body></html>',
        html,
    )
    for path in ("/lt/2026/11/23/talks-in-moscow-end", "/lt/2026/11/22/earlier-talks-in-beijing"):
        news_site.add(path, b'<html><body><a href="/lt/related/">Related</a></body></html>', html)
    sites = tmp_path / "sites.toml"
    sites.write_text(f'[[sites]]\nname = "lt"\nstart_urls = ["{news_site.url("/lt/")}"]\nmax_depth = 3\n')
    mark = len(news_site.served())
    newsarchive("crawl", "--sites", sites, *FAST, data=tmp_path)
    paths = {r.path for r in news_site.served()[mark:]}
    assert {
        "/lt/",
        "/lt/world/",
        "/lt/2026/11/23/talks-in-moscow-end",
        "/lt/2026/11/22/earlier-talks-in-beijing",
    } <= paths
    assert "/lt/related/" not in paths


def test_per_site_user_agent_timeout_and_size_cap(news_site, tmp_path):
    sites = tmp_path / "sites.toml"
    sites.write_text(
        f'[[sites]]\nname = "capped"\nstart_urls = ["{news_site.url("/world/")}"]\nmax_depth = 1\n'
        'user_agent = "CorpusBot/2.0 (+mailto:corpus@example.org)"\n'
        "download_maxsize = 20000\ndownload_timeout = 5\n"
    )
    mark = len(news_site.served())
    result = newsarchive("crawl", "--sites", sites, *FAST, data=tmp_path)
    served = news_site.served()[mark:]
    pages = [r for r in served if r.path != "/robots.txt"]  # robots.txt is asked for by Scrapy, per host
    assert pages and all(
        r.headers["User-Agent"] == "CorpusBot/2.0 (+mailto:corpus@example.org)" for r in pages
    )
    assert "larger than download max size" in result.stderr  # article pages are bigger than 20 kB
    newsarchive("extract", data=tmp_path)
    db = sqlite3.connect(tmp_path / "news.db")
    assert db.execute("SELECT count(*) FROM fetch_errors WHERE site = 'capped'").fetchone()[0] >= 1


@pytest.mark.slow  # a crawl made to wait 0.5 s between fetches (robots.txt Crawl-delay)
def test_robots_crawl_delay_is_applied(tmp_path):
    with NewsSite() as site:
        site.add("/robots.txt", b"User-agent: *\nCrawl-delay: 0.5\nDisallow: /private/\n", "text/plain")
        sites = tmp_path / "sites.toml"
        sites.write_text(f'[[sites]]\nname = "delayed"\nfeeds = ["{site.url("/feeds/rss.xml")}"]\n')
        result = newsarchive(
            "crawl", "--sites", sites, "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=8", data=tmp_path
        )
        times = [r.at for r in site.served() if r.path.startswith("/news/")]
    assert "'newsarchive/crawl_delay/127.0.0.1': 0.5" in result.stderr
    assert len(times) == 5
    gaps = [b - a for a, b in zip(times, times[1:], strict=False)]
    assert min(gaps) >= 0.5 * 0.5  # Scrapy randomises a slot delay between 0.5x and 1.5x
