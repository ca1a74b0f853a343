"""Archive you can trust: killed crawls and extracts, resume, replay, rebuild, pywb."""

from __future__ import annotations

import gzip
import json
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from archive.demo.site import NewsSite
from archive.warc.files import list_warc_files
from archive.warc.reader import iter_records
from archive.warc.writer import Exchange, WarcWriter
from crawler.runner import crawl_settings, replay_overrides
from tests.helpers.cli import FAST, newsarchive, start
from tests.helpers.net import free_port, wait_for

REPO = Path(__file__).resolve().parent.parent
SLOW = [
    *FAST,
    "-s",
    "DOWNLOAD_DELAY=0.15",
    "-s",
    "RANDOMIZE_DOWNLOAD_DELAY=False",
    "-s",
    "CONCURRENT_REQUESTS=1",
]


def _articles(site: NewsSite) -> set[str]:
    return {site.url(p.path) for pages in site.articles.values() for p in pages}


def _archived_urls(data: Path) -> list[str]:
    return [
        r.url
        for p in list_warc_files(data / "warc")
        for r in iter_records(p, with_payload=False)
        if r.type == "response"
    ]


@pytest.fixture
def own_site():
    with NewsSite() as site:
        yield site


@pytest.mark.slow  # a crawl killed with SIGKILL, then crawled again
def test_sigkill_during_crawl_loses_nothing(own_site, tmp_path):
    sites = tmp_path / "sites.toml"
    sites.write_text(own_site.sites_toml())
    crawl = start("crawl", "--sites", sites, *SLOW, data=tmp_path)
    wait_for(lambda: sum(r.path.startswith("/news/") for r in own_site.served()) >= 6)
    crawl.send_signal(signal.SIGKILL)
    crawl.wait()
    served_before = [own_site.url(r.path) for r in own_site.served()]
    (open_file,) = list_warc_files(tmp_path / "warc")
    assert open_file.name.endswith(".warc.gz.open")
    archived = _archived_urls(tmp_path)
    assert len(set(served_before) - set(archived)) <= 1  # at most the one response in flight

    whole_records = len(list(iter_records(open_file, with_payload=False)))
    extract = newsarchive("extract", data=tmp_path)  # closes the dead crawl's file, reads it all
    (closed,) = list_warc_files(tmp_path / "warc")
    assert closed.name == open_file.name.removesuffix(".open")
    assert f"extract: {whole_records} records" in extract.stdout
    subprocess.run(
        [sys.executable, "-m", "warcio.cli", "check", str(closed)], check=True, capture_output=True
    )

    newsarchive("crawl", "--sites", sites, *FAST, data=tmp_path)
    fetched = [own_site.url(r.path) for r in own_site.served() if r.path.startswith("/news/")]
    assert set(fetched) == _articles(own_site)
    assert len(fetched) - len(set(fetched)) <= 1  # only an in-flight article is fetched again


@pytest.mark.slow  # a slowed crawl stopped with SIGINT, then resumed
def test_interrupted_crawl_resumes(own_site, tmp_path):
    sites = tmp_path / "sites.toml"
    sites.write_text(own_site.sites_toml())
    crawl = start("crawl", "--sites", sites, *SLOW, data=tmp_path)
    wait_for(lambda: sum(r.path.startswith("/news/") for r in own_site.served()) >= 4)
    crawl.send_signal(signal.SIGINT)  # Ctrl-C: Scrapy stops gracefully and keeps its state
    crawl.communicate(timeout=60)
    assert list((tmp_path / "jobs").iterdir()), "no crawl state kept"
    resumed = newsarchive("crawl", "--sites", sites, "--resume", *FAST, data=tmp_path)
    log = max((tmp_path / "logs").glob("*-crawl.log")).read_text()
    assert "Resuming crawl" in log, resumed.stdout
    fetched = [own_site.url(r.path) for r in own_site.served() if r.path.startswith("/news/")]
    assert set(fetched) == _articles(own_site) and len(fetched) == len(set(fetched))
    assert not (tmp_path / "jobs").exists() or not list((tmp_path / "jobs").iterdir())  # finished: state gone


def _synthetic_warc(directory: Path, copies: int) -> int:
    """A WARC of the bundled pages, each under several URLs; returns the number of pages."""
    corpus = REPO / "archive" / "demo" / "corpus" / "pages"
    writer = WarcWriter(directory)
    count = 0
    for copy in range(copies):
        for page in sorted(corpus.glob("*.html.gz")):
            url = f"http://127.0.0.1:1/c{copy}/{page.name.removesuffix('.html.gz')}.html"
            writer.write_exchange(
                Exchange(
                    url=url,
                    method="GET",
                    request_target=url.split(":1", 1)[1],
                    request_headers=[],
                    protocol="HTTP/1.1",
                    status=200,
                    reason="OK",
                    response_headers=[
                        ("Content-Type", "text/html; charset=utf-8"),
                        ("Content-Encoding", "gzip"),
                    ],
                    body=page.read_bytes(),
                )
            )
            count += 1
    writer.close()
    return count


@pytest.mark.slow  # an extract killed with SIGKILL, then two more
def test_sigkill_during_extract_then_resume_without_duplicates(tmp_path):
    killed, clean = tmp_path / "killed", tmp_path / "clean"
    pages = _synthetic_warc(killed / "warc", copies=4)
    (clean / "warc").mkdir(parents=True)
    for path in list_warc_files(killed / "warc"):
        (clean / "warc" / path.name).write_bytes(path.read_bytes())

    extract = start("extract", data=killed)

    def progressed() -> bool:
        try:
            with sqlite3.connect(killed / "news.db") as db:
                return db.execute("SELECT coalesce(max(records), 0) FROM warc_files").fetchone()[0] > 0
        except sqlite3.Error:
            return False

    wait_for(progressed)
    extract.send_signal(signal.SIGKILL)
    extract.wait()
    db = sqlite3.connect(killed / "news.db")
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    partial = db.execute("SELECT count(*) FROM captures").fetchone()[0]
    assert 0 < partial < pages

    newsarchive("extract", data=killed)
    newsarchive("extract", data=clean)
    db_clean = sqlite3.connect(clean / "news.db")
    for query in (
        "SELECT id, url, status FROM captures ORDER BY id",
        "SELECT id, text, first_seen, duplicate_of FROM articles ORDER BY id",
    ):
        assert db.execute(query).fetchall() == db_clean.execute(query).fetchall()
    assert db.execute("SELECT count(*) FROM captures").fetchone()[0] == pages


def test_replay_answers_from_the_archive_alone(tmp_path):
    with NewsSite() as site:
        sites = tmp_path / "sites.toml"
        sites.write_text(site.sites_toml())
        newsarchive("crawl", "--sites", sites, *FAST, data=tmp_path)
        crawled = {site.url(r.path) for r in site.served()}
    # the site is gone: only the archive can answer
    result = newsarchive("replay", "--sites", sites, data=tmp_path)
    urls_file = Path(result.stdout.split("URLs: ", 1)[1].split(";", 1)[0])
    outcomes = [line.split("\t") for line in urls_file.read_text().splitlines()]
    hits = {url for outcome, url in outcomes if outcome == "hit"}
    assert hits == crawled
    assert not [url for outcome, url in outcomes if outcome == "miss"]
    assert "0 misses" in result.stdout
    assert len(list_warc_files(tmp_path / "warc")) == 1  # replay writes no WARC


def test_replay_counts_misses(tmp_path):
    (tmp_path / "warc").mkdir()
    sites = tmp_path / "sites.toml"
    sites.write_text('[[sites]]\nname = "gone"\nfeeds = ["http://127.0.0.1:9/feed.xml"]\n')
    result = newsarchive("replay", "--sites", sites, data=tmp_path)
    assert "0 requests answered from the archive, 2 misses" in result.stdout
    urls_file = Path(result.stdout.split("URLs: ", 1)[1].split(";", 1)[0])
    assert sorted(urls_file.read_text().splitlines()) == [
        "miss\thttp://127.0.0.1:9/feed.xml",
        "miss\thttp://127.0.0.1:9/robots.txt",
    ]


def test_rebuild_from_warcs_alone_gives_the_same_articles(routes_crawl, tmp_path):
    shutil.copytree(routes_crawl.data, tmp_path, dirs_exist_ok=True)  # crawled and extracted
    query = "SELECT id, url, canonical_url, title, text, first_seen, duplicate_of FROM articles ORDER BY id"
    before = sqlite3.connect(tmp_path / "news.db").execute(query).fetchall()
    crawls_before = sqlite3.connect(tmp_path / "news.db").execute("SELECT * FROM crawls").fetchall()
    newsarchive("extract", "--rebuild", data=tmp_path)
    db = sqlite3.connect(tmp_path / "news.db")
    assert before and db.execute(query).fetchall() == before
    assert db.execute("SELECT * FROM crawls").fetchall() == crawls_before
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


@pytest.mark.slow  # pywb, a server of its own
def test_cdxj_index_and_pywb_replay(news_site, routes_crawl, tmp_path):
    shutil.copytree(routes_crawl.data / "warc", tmp_path / "warc")
    result = newsarchive("index", data=tmp_path)
    index = tmp_path / "warc" / "index.cdxj"
    lines = index.read_text().splitlines()
    responses = len(_archived_urls(tmp_path))
    assert f"index: {len(lines)} records" in result.stdout and len(lines) >= responses
    assert lines == sorted(lines)

    pywb_bin = REPO / ".venv-pywb" / "bin"
    assert (pywb_bin / "wayback").exists(), "pywb is set up by `make test` in .venv-pywb (see Makefile)"
    root = tmp_path / "pywb"
    root.mkdir()
    subprocess.run([pywb_bin / "wb-manager", "init", "news"], cwd=root, check=True, capture_output=True)
    warc = list_warc_files(tmp_path / "warc")[0]
    subprocess.run([pywb_bin / "wb-manager", "add", "news", warc], cwd=root, check=True, capture_output=True)
    port = free_port()
    server = subprocess.Popen(
        [pywb_bin / "wayback", "--bind", "127.0.0.1", "--port", str(port)],
        cwd=root,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        page = news_site.articles["rss"][0]
        original = gzip.decompress((news_site.corpus_dir / "pages" / f"{page.id}.html.gz").read_bytes())
        url = f"http://127.0.0.1:{port}/news/2026id_/{news_site.url(page.path)}"
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(url, timeout=10) as response:
                    body = response.read()
                break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise
                time.sleep(0.3)
        if body[:2] == b"\x1f\x8b":
            body = gzip.decompress(body)
        assert body == original
    finally:
        server.terminate()
        server.wait(timeout=10)


def test_rotation_at_max_size_during_a_crawl(rotated_crawl, tmp_path):
    files = list_warc_files(rotated_crawl.data / "warc")
    assert len(files) >= 3 and all(p.name.endswith(".warc.gz") for p in files)
    assert len({p.name for p in files}) == len(files)
    for path in files:
        first = next(iter(iter_records(path, with_payload=False)))
        assert first.type == "warcinfo"
    newsarchive("extract", *files, data=tmp_path)
    db = sqlite3.connect(tmp_path / "news.db")
    (listed,) = db.execute("SELECT warc_files FROM crawls").fetchone()
    assert json.loads(listed) == [p.name for p in files]


def test_replay_keeps_the_projects_other_downloader_middlewares(tmp_path):
    """Replay swaps the WARC writer for the archive and keeps the rest (robots Crawl-delay,
    the compressed-body guard), so a replayed response is handled as the live one was."""
    middlewares = crawl_settings(tmp_path, replay_overrides()).getwithbase("DOWNLOADER_MIDDLEWARES")
    assert middlewares["crawler.replay.ReplayMiddleware"] == 950
    assert middlewares["crawler.middlewares.WarcArchiveMiddleware"] is None
    assert middlewares["crawler.compressed.CompressedBodyMiddleware"] == 595
    assert middlewares["crawler.politeness.RobotsCrawlDelayMiddleware"] == 110
