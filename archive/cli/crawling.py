"""``crawl``, ``replay``, ``run`` and ``demo``: the commands that start a Twisted reactor."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from archive.cli.common import (
    EXIT_CONFIG,
    EXIT_LOCKED,
    EXIT_OK,
    EXIT_PARTIAL,
    EXIT_STORAGE,
    crawl_options,
    data_option,
    fail,
    main,
    parse_overrides,
    redis_option,
    say,
    storage_faults,
    warn,
    workers_option,
)
from archive.cli.extracting import echo_ingest, site_options
from archive.cli.publishing import export_articles

if TYPE_CHECKING:

    pass


def crawl_and_check(
    data_dir: Path,
    sites_file: Path,
    site_names: tuple[str, ...],
    overrides: tuple[str, ...],
    resume: bool = False,
    log_file: Path | None = None,
    redis_url: str | None = None,
) -> tuple[int, dict]:
    """Crawl, then read the closed WARC files back (CRCs and framing); (exit code, stats)."""
    from archive.publish.summary import crawl_site_lines
    from archive.warc.verify import verify
    from crawler.distributed import RedisUnavailable
    from crawler.runner import CrawlNotStarted, run_crawl  # Scrapy loads only for the commands that crawl
    from crawler.sites import SiteListError

    try:
        stats = run_crawl(
            data_dir,
            sites_file,
            site_names,
            parse_overrides(overrides),
            resume=resume,
            log_file=log_file,
            redis_url=redis_url,
        )
    except (SiteListError, RedisUnavailable, CrawlNotStarted) as exc:
        fail(str(exc), EXIT_CONFIG)
    failed_sites = sorted(k.rsplit("/", 1)[1] for k in stats if k.startswith("newsarchive/source_errors/"))
    files = [Path(p) for p in stats.get("newsarchive/warc_files", [])]
    say(
        f"crawl: {stats.get('newsarchive/warc_responses', 0)} responses "
        f"({stats.get('newsarchive/warc_response_bytes', 0):,} bytes) archived in {len(files)} WARC "
        f"file(s) under {data_dir / 'warc'}; {stats.get('newsarchive/fetch_errors', 0)} fetch errors; "
        f"{stats.get('newsarchive/unchanged', 0)} unchanged (304); "
        f"{stats.get('newsarchive/revisits', 0)} articles revisited "
        f"({stats.get('newsarchive/revisits_unchanged', 0)} unchanged, 304); "
        f"{stats.get('newsarchive/known_skipped', 0)} known articles skipped; "
        f"{stats.get('newsarchive/truncated', 0)} cut short; "
        f"{stats.get('newsarchive/malformed_urls', 0) + stats.get('newsarchive/not_http_urls', 0)} malformed "
        f"or non-http URLs skipped; {stats.get('newsarchive/validators_unread', 0)} sent without validators "
        f"(archived copy unreadable); log: {stats.get('newsarchive/log_file')}"
    )
    for line in crawl_site_lines(stats):
        say(line)
    code = EXIT_OK
    for path in files:
        for error in verify(path, digests=False):
            warn(
                f"crawl: error: WARC file {path.name} does not read back at offset {error.offset}: "
                f"{error.message}"
            )
            code = EXIT_PARTIAL
    if problem := stats.get("newsarchive/store_unusable"):  # archived to WARC all the same
        warn(f"crawl: error: {problem}")
        code = EXIT_STORAGE
    if problem := stats.get("newsarchive/warc_write_failed"):  # a full disk: the crawl stopped
        warn(f"crawl: error: {problem}")
        code = EXIT_STORAGE
    if truncated := stats.get("newsarchive/truncated", 0):  # what arrived is archived, not whole
        warn(
            f"crawl: {truncated} page(s) cut short by their server (archived with WARC-Truncated, "
            "never made articles; see the log)"
        )
        code = max(code, EXIT_PARTIAL)
    if failed_sites:
        warn(f"crawl: sources failed for site(s): {', '.join(failed_sites)} (see the log)")
        code = max(code, EXIT_PARTIAL)
    return code, stats


@main.command()
@crawl_options
@click.option(
    "--resume",
    is_flag=True,
    help="Continue an interrupted crawl of the same sites from its saved state (data/jobs/).",
)
@redis_option
@data_option
def crawl(
    sites_file: Path,
    site_names: tuple[str, ...],
    overrides: tuple[str, ...],
    resume: bool,
    redis_url: str | None,
    data_dir: Path,
) -> None:
    """Crawl the listed sites, archiving every response to data/warc/.

    Start pages, feeds and sitemaps are fetched on every run; article URLs already in
    the archive are not fetched again.
    """
    sys.exit(crawl_and_check(data_dir, sites_file, site_names, overrides, resume, redis_url=redis_url)[0])


@main.command()
@crawl_options
@data_option
def replay(sites_file: Path, site_names: tuple[str, ...], overrides: tuple[str, ...], data_dir: Path) -> None:
    """Run the spiders against the archive instead of the network.

    Every request is answered from the WARC files (nothing is fetched or written);
    requests with no archived answer are counted and listed as misses.
    """
    from crawler.runner import CrawlNotStarted, run_crawl
    from crawler.sites import SiteListError

    try:
        stats = run_crawl(data_dir, sites_file, site_names, parse_overrides(overrides), replay=True)
    except (SiteListError, CrawlNotStarted) as exc:
        fail(str(exc), EXIT_CONFIG)
    click.echo(
        f"replay: {stats.get('newsarchive/replay_hits', 0)} requests answered from the archive, "
        f"{stats.get('newsarchive/replay_misses', 0)} misses; URLs: {stats['newsarchive/replay_urls_file']}; "
        f"log: {stats['newsarchive/log_file']}"
    )
    if problem := stats.get("newsarchive/store_unusable"):
        warn(f"replay: error: {problem}")
        sys.exit(EXIT_STORAGE)
    sys.exit(EXIT_OK)


@main.command()
@crawl_options
@workers_option
@click.option("--quiet", is_flag=True, help="Print nothing when all is well (for cron mail).")
@redis_option
@data_option
@click.pass_context
def run(
    ctx: click.Context,
    sites_file: Path,
    site_names: tuple[str, ...],
    overrides: tuple[str, ...],
    workers: int,
    quiet: bool,
    redis_url: str | None,
    data_dir: Path,
) -> None:
    """Crawl, extract and export in one go: the line for cron. Never overlaps itself.

    Ends with a one-paragraph summary: per site, pages fetched, new articles, errors and
    bytes; sites whose feeds, sitemaps or start pages failed, or that yielded no new
    article in their last `silent_after_runs` runs, are flagged and make the exit code 1.
    """
    from archive.store.lock import Locked, run_lock

    ctx.meta["newsarchive.quiet"] = quiet
    try:
        with run_lock(data_dir):
            code = _run(data_dir, sites_file, site_names, overrides, workers, redis_url)
    except Locked as exc:
        fail(str(exc), EXIT_LOCKED)
    sys.exit(code)


def _run(
    data_dir: Path,
    sites_file: Path,
    site_names: tuple[str, ...],
    overrides: tuple[str, ...],
    workers: int,
    redis_url: str | None,
) -> int:
    """``run``'s three steps and its summary, logged to one file; the exit code."""
    from archive.publish.summary import run_summary
    from archive.store.ingest import ingest
    from crawler.runner import log_to_file, new_log_file
    from crawler.sites import load_sites

    log_file = new_log_file(data_dir, "run")
    with log_to_file(log_file):
        crawl_code, stats = crawl_and_check(
            data_dir, sites_file, site_names, overrides, log_file=log_file, redis_url=redis_url
        )
        with storage_faults("run: extract", data_dir):
            report = ingest(data_dir, workers=workers, **site_options(sites_file))
        extract_code = echo_ingest(report, data_dir)
        export_code = export_articles(data_dir, None)
        sites = load_sites(sites_file, list(site_names))
        silent_after = {site.name: site.silent_after_runs for site in sites}
        try:
            summary = run_summary(data_dir, stats["newsarchive/crawl_id"], silent_after)
        except LookupError as exc:  # the crawl could not record itself (a full disk): said above
            warn(f"run: no summary of this run: {exc}")
            return max(crawl_code, extract_code, export_code, EXIT_PARTIAL)
        code = max(crawl_code, extract_code, export_code, EXIT_PARTIAL if summary.problems else EXIT_OK)
        (say if code == EXIT_OK else warn)(summary.text())
    return code


@main.command()
@click.option("--port", type=int, default=0, help="Port for the loopback site [default: a free one].")
@data_option(default="demo-data", envvar=None)
def demo(port: int, data_dir: Path) -> None:
    """Offline end-to-end run: serve the bundled real pages on loopback, crawl, extract, export."""
    from archive.demo.run import run_demo
    from crawler.runner import run_crawl

    sys.exit(run_demo(data_dir, run_crawl, port))
