"""The ``newsarchive`` command: a thin click layer over crawler/ and archive/.

Exit codes (also in the README): 0 ok; 1 something failed on the way (a site's start
page, feed or sitemap, or an unreadable spot in a WARC file) but everything else was
done; 2 usage error; 3 bad configuration (site list, settings); 4 another run holds the
lock.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import click

from archive.store.readonly import DB_NAME

if TYPE_CHECKING:
    from collections.abc import Callable
    from datetime import datetime

    from archive.publish.selection import Selection
    from archive.store.ingest import IngestReport
    from archive.store.shard import Shard

# Each command imports what it uses when it runs: `newsarchive --help` and `stats` load no
# Scrapy, Twisted, trafilatura or lxml.

logger = logging.getLogger("newsarchive")

EXIT_OK, EXIT_PARTIAL, EXIT_USAGE, EXIT_CONFIG, EXIT_LOCKED, EXIT_STORAGE = 0, 1, 2, 3, 4, 5
DEFAULT_SITES = Path("seeds/sites.toml")


def data_option(func=None, *, default: str = "data", envvar: str | None = "NEWSARCHIVE_DATA"):
    def decorate(func):
        return click.option(
            "--data",
            "data_dir",
            type=click.Path(file_okay=False, path_type=Path),
            envvar=envvar,
            default=Path(default),
            show_default=True,
            help="Data directory: warc/, news.db, export/, logs/" + (f" (env {envvar})." if envvar else "."),
        )(func)

    return decorate(func) if func else decorate


def _repeatable(*decls: str, metavar: str, help: str):
    return click.option(*decls, multiple=True, metavar=metavar, help=f"{help} (repeatable).")


def crawl_options(func):
    """``--sites``, ``--site`` and ``-s``: the options of every command that crawls."""
    func = _repeatable(
        "-s",
        "--set",
        "overrides",
        metavar="KEY=VALUE",
        help="Override a Scrapy setting, e.g. -s DOWNLOAD_DELAY=2",
    )(func)
    func = _repeatable("--site", "site_names", metavar="NAME", help="Crawl only this site of the list")(func)
    func = click.option(
        "--sites",
        "sites_file",
        type=click.Path(dir_okay=False, path_type=Path),
        default=DEFAULT_SITES,
        show_default=True,
        help="Site list (TOML).",
    )(func)
    return func


def redis_option(func):
    return click.option(
        "--redis",
        "redis_url",
        metavar="URL",
        envvar="NEWSARCHIVE_REDIS",
        help="Share the crawl frontier with every process started with this Redis, e.g. "
        "redis://host:6379/0 (env NEWSARCHIVE_REDIS). See README, 'Running several crawler processes'.",
    )(func)


def workers_option(func):
    return click.option(
        "--workers",
        type=click.IntRange(1, 64),
        default=1,
        show_default=True,
        help="Worker processes for text extraction.",
    )(func)


def _parse_overrides(pairs: tuple[str, ...]) -> dict[str, str]:
    result = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise click.UsageError(f"-s takes KEY=VALUE, got {pair!r}")
        result[key.strip()] = value
    return result


def _fail(message: str, code: int) -> None:
    click.echo(f"newsarchive: {message}", err=True)
    sys.exit(code)


@contextmanager
def _storage_faults(command: str, data_dir: Path) -> Iterator[None]:
    """A full disk, a read-only directory, a locked or corrupt store, an unreadable file:
    one line and an exit code (4 locked, 5 the others), not a traceback."""
    import sqlite3

    from archive.faults import describe, is_locked

    try:
        yield
    except (OSError, sqlite3.DatabaseError) as exc:
        code = EXIT_LOCKED if is_locked(exc) else EXIT_STORAGE
        _fail(f"{command}: {describe(exc, data_dir / DB_NAME)}", code)


def _say(message: str) -> None:
    """A line for the user; with ``run --quiet`` it goes only to the run's log file."""
    logger.info(message)
    if not click.get_current_context().meta.get("newsarchive.quiet"):
        click.echo(message)


def _warn(message: str) -> None:
    logger.warning(message)
    click.echo(message, err=True)


def _crawl(
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
            _parse_overrides(overrides),
            resume=resume,
            log_file=log_file,
            redis_url=redis_url,
        )
    except (SiteListError, RedisUnavailable, CrawlNotStarted) as exc:
        _fail(str(exc), EXIT_CONFIG)
    failed_sites = sorted(k.rsplit("/", 1)[1] for k in stats if k.startswith("newsarchive/source_errors/"))
    files = [Path(p) for p in stats.get("newsarchive/warc_files", [])]
    _say(
        f"crawl: {stats.get('newsarchive/warc_responses', 0)} responses "
        f"({stats.get('newsarchive/warc_response_bytes', 0):,} bytes) archived in {len(files)} WARC "
        f"file(s) under {data_dir / 'warc'}; {stats.get('newsarchive/fetch_errors', 0)} fetch errors; "
        f"{stats.get('newsarchive/unchanged', 0)} unchanged (304); "
        f"{stats.get('newsarchive/known_skipped', 0)} known articles skipped; "
        f"{stats.get('newsarchive/truncated', 0)} cut short; "
        f"{stats.get('newsarchive/malformed_urls', 0) + stats.get('newsarchive/not_http_urls', 0)} malformed "
        f"or non-http URLs skipped; {stats.get('newsarchive/validators_unread', 0)} sent without validators "
        f"(archived copy unreadable); log: {stats.get('newsarchive/log_file')}"
    )
    for line in crawl_site_lines(stats):
        _say(line)
    code = EXIT_OK
    for path in files:
        for error in verify(path, digests=False):
            _warn(
                f"crawl: error: WARC file {path.name} does not read back at offset {error.offset}: "
                f"{error.message}"
            )
            code = EXIT_PARTIAL
    if failed_sites:
        _warn(f"crawl: sources failed for site(s): {', '.join(failed_sites)} (see the log)")
        code = EXIT_PARTIAL
    return code, stats


def _echo_ingest(report: IngestReport, data_dir: Path) -> int:
    _say(
        f"extract: {report.records} records from {report.files_read} WARC file(s): "
        f"{report.captures} captures, {report.articles} article rows, {report.crawls} crawl runs, "
        f"{report.fetch_errors} fetch errors, {report.duplicates} duplicates, {report.revisits} revisits; "
        f"{report.too_large} pages over the body size cap skipped, "
        f"{report.digest_mismatches} records kept with a digest mismatch, {len(report.errors)} unreadable "
        f"spots; {report.seconds:.1f}s -> {data_dir / DB_NAME}"
    )
    if report.retried:
        click.echo(
            f"extract: note: a worker process died; its {report.retried} pages were extracted again "
            "in the main process",
            err=True,
        )
    for warning in report.warnings[:20]:
        click.echo(f"extract: note: {warning}", err=True)
    if len(report.warnings) > 20:
        click.echo(f"extract: ... and {len(report.warnings) - 20} more notes", err=True)
    for error in report.errors:
        click.echo(f"extract: error: {error.file} at offset {error.offset}: {error.message}", err=True)
    return EXIT_PARTIAL if report.errors or report.digest_mismatches or report.too_large else EXIT_OK


def _export(
    data_dir: Path,
    out: Path | None,
    selection: Selection | None = None,
    formats: tuple[str, ...] = ("txt", "jsonl"),
    site_list: Path | None = None,
) -> int:
    from archive.publish.export import MANIFEST_NAME, export
    from archive.publish.selection import ExportError

    out = out or data_dir / "export"
    code = EXIT_OK
    try:
        if "txt" in formats or "jsonl" in formats:
            txt, jsonl = "txt" in formats, "jsonl" in formats
            with _storage_faults("export", data_dir):
                report = export(data_dir / DB_NAME, out, selection, txt=txt, jsonl=jsonl)
            written = f" ({report.written} written, {report.unchanged} unchanged, {report.removed} removed)"
            also = f" and {out / 'articles.jsonl'}" if jsonl else ""
            _say(f"export: {report.articles} articles -> {out}{written if txt else ''}{also}")
            for skipped in report.skipped:
                _warn(f"export: left {skipped} as it is: no export wrote it (not in {MANIFEST_NAME})")
                code = EXIT_PARTIAL
        if "parquet" in formats:
            from archive.publish.dataset import write_dataset

            dataset = write_dataset(data_dir / DB_NAME, out, selection, site_list)
            _say(
                f"export: {dataset.rows} articles -> {out / 'data'} ({len(dataset.files)} Parquet files) "
                f"and the dataset card {out / 'README.md'}"
            )
            for column, count in sorted(dataset.unreadable.items()):
                _warn(f"export: {count} values of {column} were no date or list; left empty")
                code = EXIT_PARTIAL
    except ExportError as exc:
        _fail(str(exc), EXIT_CONFIG)
    return code


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="newsarchive")
def main() -> None:
    """newsarchive: crawl news sites into WARC files, extract articles into SQLite.

    \b
    Typical use:
      newsarchive demo                      offline end-to-end demo on loopback
      newsarchive run --sites seeds/sites.toml    crawl + extract + export (for cron)
      newsarchive serve                     browse data/news.db with Datasette
    """


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
    sys.exit(_crawl(data_dir, sites_file, site_names, overrides, resume, redis_url=redis_url)[0])


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
        stats = run_crawl(data_dir, sites_file, site_names, _parse_overrides(overrides), replay=True)
    except (SiteListError, CrawlNotStarted) as exc:
        _fail(str(exc), EXIT_CONFIG)
    click.echo(
        f"replay: {stats.get('newsarchive/replay_hits', 0)} requests answered from the archive, "
        f"{stats.get('newsarchive/replay_misses', 0)} misses; URLs: {stats['newsarchive/replay_urls_file']}; "
        f"log: {stats['newsarchive/log_file']}"
    )
    sys.exit(EXIT_OK)


@main.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@workers_option
@click.option(
    "--rebuild", is_flag=True, help="Make news.db anew from the WARC files alone (replaces it when complete)."
)
@click.option(
    "--shard",
    metavar="K/N",
    callback=lambda ctx, param, value: _parse_shard(value),
    help="Read only share K of N of the WARC files (by a hash of the name); fold shards with `merge`.",
)
@click.option(
    "--sites",
    "sites_file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help=f"Site list whose content_selector/remove_selectors/title_selector apply [default: {DEFAULT_SITES} "
    "when present].",
)
@data_option
def extract(
    paths: tuple[Path, ...],
    workers: int,
    rebuild: bool,
    shard: Shard | None,
    sites_file: Path | None,
    data_dir: Path,
) -> None:
    """Read new WARC records (default: all of data/warc/) into data/news.db.

    Records already read are skipped, so running it again adds nothing.
    """
    from archive.store.files import RebuildError
    from archive.store.ingest import ingest

    sites = _site_options(sites_file or (DEFAULT_SITES if DEFAULT_SITES.exists() else None))
    try:
        with _storage_faults("extract", data_dir):
            report = ingest(
                data_dir, list(paths) or None, workers=workers, rebuild=rebuild, shard=shard, **sites
            )
    except RebuildError as exc:
        _fail(f"extract --rebuild: {exc}; nothing changed", EXIT_CONFIG)
    sys.exit(_echo_ingest(report, data_dir))


def _site_options(sites_file: Path | None) -> dict:
    """What extraction takes from a site list (a bad list is exit code 3): each site's
    selectors and the domains its canonical URLs may be on, by site name."""
    from archive.extract.sites import rules_by_site
    from crawler.sites import SiteListError, load_sites

    if sites_file is None:
        return {}
    try:
        sites = load_sites(sites_file)
    except SiteListError as exc:
        _fail(str(exc), EXIT_CONFIG)
    return {"site_rules": rules_by_site(sites), "site_domains": {s.name: s.allowed_domains for s in sites}}


def _parse_shard(value: str | None) -> Shard | None:
    from archive.store.shard import Shard

    try:
        return Shard.parse(value) if value else None
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


@main.command("merge")
@click.argument("stores", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path))
@data_option
def merge_command(stores: tuple[Path, ...], data_dir: Path) -> None:
    """Fold the stores STORES (e.g. of `extract --shard`) into data/news.db.

    The same rules as one extract of all their WARC files: each capture once, an
    article's earliest first_seen and latest text, duplicates marked anew, full-text
    index rebuilt. Merging a store twice changes nothing.
    """
    from archive.store.merge import MergeError, merge

    try:
        report = merge(data_dir / DB_NAME, list(stores))
    except MergeError as exc:
        _fail(f"merge: {exc}; nothing merged", EXIT_USAGE)
    _say(
        f"merge: {report.stores} store(s): {report.added.get('captures', 0)} new captures, "
        f"{report.added.get('fetch_errors', 0)} new fetch errors, {report.added.get('crawls', 0)} new crawl "
        f"runs, {report.articles} articles read, "
        f"{report.duplicates} duplicates -> {data_dir / DB_NAME}"
    )
    for skipped in report.skipped:
        _warn(f"merge: note: {skipped}: no such table (a store from an older version)")
    sys.exit(EXIT_OK)


def _split_choices(choices: tuple[str, ...]) -> Callable[..., tuple[str, ...]]:
    """A callback for a repeatable option that also takes comma-separated values (from
    ``choices``, when given): ``--format txt,parquet`` as well as ``--format txt --format parquet``."""

    def split(ctx: click.Context, param: click.Parameter, values: tuple[str, ...]) -> tuple[str, ...]:
        items = tuple(dict.fromkeys(item.strip() for value in values for item in value.split(",")))
        items = tuple(item for item in items if item)
        wrong = [item for item in items if choices and item not in choices]
        if wrong:
            raise click.BadParameter(f"{', '.join(wrong)}: not one of {', '.join(choices)}")
        return items

    return split


def _bound(ctx: click.Context, param: click.Parameter, value: str | None) -> datetime | None:
    """``--since``/``--until`` parsed at once, so a bad date is a usage error (exit 2)."""
    from archive.publish.selection import parse_bound

    try:
        return parse_bound(value, end=param.name == "until") if value else None
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


@main.command("export")
@click.option(
    "--out", type=click.Path(file_okay=False, path_type=Path), help="Output directory [default: DATA/export]."
)
@click.option(
    "--format",
    "formats",
    multiple=True,
    metavar="txt|jsonl|parquet",
    default=("txt", "jsonl"),
    show_default=True,
    callback=_split_choices(("txt", "jsonl", "parquet")),
    help="txt: NNN_<id>.txt (FORMAT.md); jsonl: articles.jsonl; parquet: data/*.parquet and a "
    "README.md dataset card (repeatable or comma-separated).",
)
@click.option(
    "--match", metavar="QUERY", help="Only articles matching this FTS5 query, e.g. 'Russia AND China'."
)
@click.option(
    "--since", metavar="DATE", callback=_bound, help="Only articles from this date or ISO time on (UTC)."
)
@click.option(
    "--until",
    metavar="DATE",
    callback=_bound,
    help="Only articles up to this date (its whole day) or before this time.",
)
@click.option(
    "--by",
    type=click.Choice(["published", "captured"]),
    default="published",
    show_default=True,
    help="Which date --since/--until look at: as published (undated articles left out) or first captured.",
)
@click.option(
    "--site",
    "sites",
    multiple=True,
    metavar="NAME",
    callback=_split_choices(()),
    help="Only this site's articles (repeatable or comma-separated).",
)
@click.option("--include-duplicates", is_flag=True, help="Also export copies of earlier articles.")
@click.option(
    "--sites",
    "site_list",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="The site list the archive was crawled with: its SHA-256 goes into the dataset card.",
)
@data_option
def export_command(
    out: Path | None,
    formats: tuple[str, ...],
    match: str | None,
    since: datetime | None,
    until: datetime | None,
    by: str,
    sites: tuple[str, ...],
    include_duplicates: bool,
    site_list: Path | None,
    data_dir: Path,
) -> None:
    """Write NNN_<id>.txt files (FORMAT.md) and articles.jsonl, or a Parquet dataset with its card."""
    from archive.publish.selection import ExportError, Selection

    try:
        selection = Selection(match, include_duplicates, since, until, by, sites)
    except ExportError as exc:
        raise click.UsageError(str(exc)) from None
    sys.exit(_export(data_dir, out, selection, formats, site_list))


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
        _fail(str(exc), EXIT_LOCKED)
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
        crawl_code, stats = _crawl(
            data_dir, sites_file, site_names, overrides, log_file=log_file, redis_url=redis_url
        )
        with _storage_faults("run: extract", data_dir):
            report = ingest(data_dir, workers=workers, **_site_options(sites_file))
        extract_code = _echo_ingest(report, data_dir)
        export_code = _export(data_dir, None)
        sites = load_sites(sites_file, list(site_names))
        silent_after = {site.name: site.silent_after_runs for site in sites}
        summary = run_summary(data_dir, stats["newsarchive/crawl_id"], silent_after)
        code = max(crawl_code, extract_code, export_code, EXIT_PARTIAL if summary.problems else EXIT_OK)
        (_say if code == EXIT_OK else _warn)(summary.text())
    return code


@main.command()
@data_option
def index(data_dir: Path) -> None:
    """Write data/warc/index.cdxj, a sorted CDXJ index of the closed WARC files.

    With it, pywb (`wb-manager add` or a collection pointing at data/warc/) and other
    replay tools serve the archive as it was captured.
    """
    from archive.warc.index import write_cdxj_index

    with _storage_faults("index", data_dir):
        path, lines, left_out = write_cdxj_index(data_dir / "warc")
    click.echo(f"index: {lines} records -> {path}")
    for skipped, why in left_out:
        click.echo(f"index: left out {skipped.name}: {why}", err=why.startswith("cannot"))
    sys.exit(EXIT_PARTIAL if any(why.startswith("cannot") for _, why in left_out) else EXIT_OK)


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", type=int, default=8001, show_default=True, help="Port to listen on.")
@data_option
def serve(host: str, port: int, data_dir: Path) -> None:
    """Serve data/news.db with Datasette (read-only, full-text search on articles).

    Articles show as paragraphs, with a link to the page as archived (served from its
    WARC record, sandboxed); canned queries and facets come with the project's metadata.
    """
    from archive.publish.serve import ServeError, datasette_command

    try:
        command = datasette_command(data_dir / DB_NAME, host, port)
    except ServeError as exc:
        _fail(str(exc), EXIT_CONFIG)
    os.execv(command[0], command)


@main.command()
@data_option
def stats(data_dir: Path) -> None:
    """Summarise an archive: WARC files and bytes, captures by status, articles per site
    and language, duplicates, the last crawl runs."""
    from archive.publish.stats import StatsError, archive_stats

    try:
        click.echo(archive_stats(data_dir).text())
    except StatsError as exc:
        _fail(str(exc), EXIT_CONFIG)


@main.command()
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), help="[default: DATA/report.html]")
@click.option("--days", type=click.IntRange(1, 3660), default=60, show_default=True, help="Days to chart.")
@data_option
def report(out: Path | None, days: int, data_dir: Path) -> None:
    """Write a static page charting articles per day per site (inline SVG, no scripts)."""
    from archive.publish.report import write_report

    try:
        path, total = write_report(data_dir, out or data_dir / "report.html", days)
    except FileNotFoundError as exc:
        _fail(str(exc), EXIT_CONFIG)
    _say(f"report: {total} articles charted -> {path}")


@main.command("wacz")
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="The WACZ file to write (not inside DATA/warc) [default: DATA/newsarchive.wacz].",
)
@click.option("--title", metavar="T", help="The package's title [default: newsarchive: <data dir name>].")
@data_option
def wacz_command(out: Path | None, title: str | None, data_dir: Path) -> None:
    """Package the closed WARC files into one WACZ file, its pages the store's articles.

    ReplayWeb.page opens it, lists the articles and searches their text; the package is
    checked with `wacz validate` before it replaces OUT.
    """
    from archive.publish.wacz import WACZ_NAME, OutputInArchive, WaczError, WaczInvalid, write_wacz

    try:
        report = write_wacz(
            data_dir, out or data_dir / WACZ_NAME, title or f"newsarchive: {data_dir.resolve().name}"
        )
    except OutputInArchive as exc:
        _fail(f"wacz: {exc}", EXIT_USAGE)
    except WaczError as exc:
        _fail(f"wacz: {exc}", EXIT_CONFIG)
    except WaczInvalid as exc:
        _fail(f"wacz: {exc}; nothing written", EXIT_PARTIAL)
    for line in report.left_out:
        _warn(f"wacz: left out: {line}")
    left_out = f"; {len(report.left_out)} thing(s) left out" if report.left_out else ""
    _say(
        f"wacz: {len(report.warc_files)} WARC file(s), {report.pages} article pages -> {report.path} "
        f"(valid WACZ 1.1.1){left_out}"
    )
    sys.exit(EXIT_PARTIAL if report.left_out else EXIT_OK)


@main.command()
@click.option("--port", type=int, default=0, help="Port for the loopback site [default: a free one].")
@data_option(default="demo-data", envvar=None)
def demo(port: int, data_dir: Path) -> None:
    """Offline end-to-end run: serve the bundled real pages on loopback, crawl, extract, export."""
    from archive.demo.run import run_demo
    from crawler.runner import run_crawl

    sys.exit(run_demo(data_dir, run_crawl, port))
