"""Running the ``news`` spider in this process, with newsarchive's settings and data dir."""

from __future__ import annotations

import hashlib
import logging
import shutil
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager, nullcontext
from datetime import UTC, datetime
from pathlib import Path

from scrapy.crawler import CrawlerProcess
from scrapy.settings import Settings

from archive.gc_freeze import start_up_frozen
from crawler import settings as project_settings
from crawler.sites import Site, load_sites
from crawler.spiders.news import NewsSpider

logger = logging.getLogger(__name__)


def crawl_settings(data_dir: Path, overrides: Mapping[str, object] = {}) -> Settings:
    settings = Settings()
    settings.setmodule("crawler.settings", priority="project")
    settings.set("NEWSARCHIVE_DATA", str(data_dir), priority="cmdline")
    for key, value in overrides.items():
        settings.set(key, value, priority="cmdline")
    return settings


def new_log_file(data_dir: Path, kind: str) -> Path:
    """``data/logs/<UTC time>-<kind>.log``: one log file per run."""
    log_dir = data_dir / "logs"
    log_dir.mkdir(parents=True, exist_ok=True)
    return log_dir / f"{datetime.now(UTC):%Y%m%dT%H%M%SZ}-{kind}.log"


@contextmanager
def log_to_file(path: Path) -> Iterator[None]:
    """Everything logged meanwhile (Scrapy's log included) also goes to ``path``."""
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setLevel(logging.INFO)
    handler.setFormatter(logging.Formatter("%(asctime)s [%(name)s] %(levelname)s: %(message)s"))
    root = logging.getLogger()
    root.addHandler(handler)
    if root.level > logging.INFO or root.level == logging.NOTSET:
        root.setLevel(logging.INFO)
    try:
        yield
    finally:
        root.removeHandler(handler)
        handler.close()


def job_dir(data_dir: Path, sites_file: Path, site_names: Sequence[str]) -> Path:
    """Where Scrapy keeps the state of a crawl of these sites (JOBDIR), for --resume."""
    key = f"{Path(sites_file).resolve()}|{','.join(sorted(site_names))}"
    return data_dir / "jobs" / f"{Path(sites_file).stem}-{hashlib.sha1(key.encode()).hexdigest()[:10]}"


def download_slots(sites: Sequence[Site]) -> dict[str, dict]:
    """Per-site ``download_delay`` / ``concurrency`` as Scrapy download slots (one per host)."""
    slots: dict[str, dict] = {}
    for site in sites:
        slot = {}
        if site.download_delay is not None:
            slot["delay"] = site.download_delay
        if site.concurrency is not None:
            slot["concurrency"] = site.concurrency
        if slot:
            for host in site.hosts():
                slots[host] = slot
    return slots


def replay_overrides() -> dict:
    """Settings that answer every request from the archive and write nothing. The project's
    other downloader middlewares stay (a dict setting given here replaces the project's
    whole), so a replayed response goes through what a live one went through."""
    return {
        "DOWNLOADER_MIDDLEWARES": {
            **project_settings.DOWNLOADER_MIDDLEWARES,
            "crawler.middlewares.WarcArchiveMiddleware": None,
            "crawler.replay.ReplayMiddleware": 950,
        },
        "DUPEFILTER_CLASS": "scrapy.dupefilters.RFPDupeFilter",  # everything is "known" in replay
        "AUTOTHROTTLE_ENABLED": False,
        "DOWNLOAD_DELAY": 0,
    }


class CrawlNotStarted(Exception):
    """Scrapy could not set the crawl up (a setting names a component that does not load)."""


def run_crawl(
    data_dir: Path,
    sites_file: Path,
    site_names: Sequence[str] = (),
    overrides: Mapping[str, object] = {},
    resume: bool = False,
    replay: bool = False,
    log_file: Path | None = None,
    redis_url: str | None = None,
) -> dict:
    """Crawl the listed sites into ``data_dir/warc``; returns Scrapy's final stats.

    With ``redis_url`` (or ``REDIS_URL`` in the settings), the crawl frontier is shared
    with every process started so against the same Redis (``crawler/distributed.py``).

    The site list is validated first, so a bad file fails before anything is fetched.
    Every crawl keeps its state in a JOBDIR: a crawl that finishes removes it, one that is
    interrupted leaves it for ``resume``; without ``resume`` a left-over state is discarded.
    With ``replay``, the spiders run against the archive instead of the network.
    A Twisted reactor runs once per process: call this once per process.
    """
    sites = load_sites(sites_file, list(site_names))
    kind = "replay" if replay else "crawl"
    own_log = log_file is None
    log_file = log_file or new_log_file(data_dir, kind)
    settings = {"DOWNLOAD_SLOTS": download_slots(sites), **overrides}
    jobs = job_dir(data_dir, sites_file, site_names)
    if redis_url:
        settings["REDIS_URL"] = redis_url
    fleet = not replay and bool(crawl_settings(data_dir, settings).get("REDIS_URL"))
    if fleet:  # the frontier lives in Redis, not in a JOBDIR
        from crawler.distributed import check_redis

        check_redis(crawl_settings(data_dir, settings).get("REDIS_URL"))
        settings["ADDONS"] = {"crawler.distributed.RedisFrontier": 0}
    elif replay:
        urls_file = log_file.with_name(log_file.stem + "-urls.tsv")
        settings = {**replay_overrides(), "REPLAY_URLS_FILE": str(urls_file), **settings}
    else:
        if jobs.exists() and not resume:
            logger.warning(
                "discarding the state of an interrupted crawl in %s (use --resume to continue it)", jobs
            )
            shutil.rmtree(jobs)
        settings["JOBDIR"] = str(jobs)
    process = CrawlerProcess(crawl_settings(data_dir, settings))
    with log_to_file(log_file) if own_log else nullcontext():
        crawler = process.create_crawler(NewsSpider)
        failures = []
        started = process.crawl(crawler, sites=str(sites_file), site=",".join(site_names))
        started.addErrback(failures.append)  # else Twisted prints it and the crawl "succeeds"
        with start_up_frozen():  # full collections 1.0 s -> 0.1 s of a 2,000-page crawl
            process.start()
    if failures:
        error = failures[0].value
        raise CrawlNotStarted(f"the crawl could not start: {type(error).__name__}: {error}")
    stats = dict(crawler.stats.get_stats())
    if not replay and not fleet and stats.get("finish_reason") == "finished":
        shutil.rmtree(jobs, ignore_errors=True)
    stats["newsarchive/log_file"] = str(log_file)
    if replay:
        stats["newsarchive/replay_urls_file"] = settings["REPLAY_URLS_FILE"]
    return stats
