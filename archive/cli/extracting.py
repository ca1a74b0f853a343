"""``extract``, ``merge`` and ``index``: the commands that read WARC files into the store or index them."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from archive.cli.common import (
    DB_NAME,
    DEFAULT_SITES,
    EXIT_CONFIG,
    EXIT_OK,
    EXIT_PARTIAL,
    EXIT_USAGE,
    data_option,
    fail,
    main,
    say,
    storage_faults,
    warn,
    workers_option,
)

if TYPE_CHECKING:

    from archive.store.ingest import IngestReport
    from archive.store.shard import Shard


def echo_ingest(report: IngestReport, data_dir: Path) -> int:
    say(
        f"extract: {report.records} records from {report.files_read} WARC file(s): "
        f"{report.captures} captures, {report.articles} article rows, {report.crawls} crawl runs, "
        f"{report.fetch_errors} fetch errors, {report.duplicates} duplicates, {report.revisits} revisits; "
        f"{report.too_large} pages over the body size cap skipped, {report.truncated} pages cut short "
        "(WARC-Truncated) kept as captures only, "
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

    sites = site_options(sites_file or (DEFAULT_SITES if DEFAULT_SITES.exists() else None))
    try:
        with storage_faults("extract", data_dir):
            report = ingest(
                data_dir, list(paths) or None, workers=workers, rebuild=rebuild, shard=shard, **sites
            )
    except RebuildError as exc:
        fail(f"extract --rebuild: {exc}; nothing changed", EXIT_CONFIG)
    sys.exit(echo_ingest(report, data_dir))


def site_options(sites_file: Path | None) -> dict:
    """What extraction takes from a site list (a bad list is exit code 3): each site's
    selectors and the domains its canonical URLs may be on, by site name."""
    from archive.extract.sites import rules_by_site
    from crawler.sites import SiteListError, load_sites

    if sites_file is None:
        return {}
    try:
        sites = load_sites(sites_file)
    except SiteListError as exc:
        fail(str(exc), EXIT_CONFIG)
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
        fail(f"merge: {exc}; nothing merged", EXIT_USAGE)
    say(
        f"merge: {report.stores} store(s): {report.added.get('captures', 0)} new captures, "
        f"{report.added.get('fetch_errors', 0)} new fetch errors, {report.added.get('crawls', 0)} new crawl "
        f"runs, {report.articles} articles read, "
        f"{report.duplicates} duplicates -> {data_dir / DB_NAME}"
    )
    for skipped in report.skipped:
        warn(f"merge: note: {skipped}: no such table (a store from an older version)")
    sys.exit(EXIT_OK)


@main.command()
@data_option
def index(data_dir: Path) -> None:
    """Write data/warc/index.cdxj, a sorted CDXJ index of the closed WARC files.

    With it, pywb (`wb-manager add` or a collection pointing at data/warc/) and other
    replay tools serve the archive as it was captured.
    """
    from archive.warc.index import write_cdxj_index

    with storage_faults("index", data_dir):
        path, lines, left_out = write_cdxj_index(data_dir / "warc")
    click.echo(f"index: {lines} records -> {path}")
    for skipped, why in left_out:  # its records are not in the index: the run is partial
        click.echo(f"index: left out {skipped.name}: {why}", err=True)
    sys.exit(EXIT_PARTIAL if left_out else EXIT_OK)
