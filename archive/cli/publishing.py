"""``export``, ``changes``, ``serve``, ``stats``, ``report``, ``wacz``: the commands that read the store."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from archive.cli import common

if TYPE_CHECKING:
    from collections.abc import Callable
    from datetime import datetime

    from archive.publish.selection import Selection


def export_articles(
    data_dir: Path,
    out: Path | None,
    selection: Selection | None = None,
    formats: tuple[str, ...] = ("txt", "jsonl"),
    site_list: Path | None = None,
    versions: bool = False,
) -> int:
    from archive.publish.export import MANIFEST_NAME, export
    from archive.publish.selection import ExportError

    out = out or data_dir / "export"
    code = common.EXIT_OK
    try:
        if "txt" in formats or "jsonl" in formats:
            txt, jsonl = "txt" in formats, "jsonl" in formats
            with common.storage_faults("export", data_dir):
                report = export(
                    data_dir / common.DB_NAME, out, selection, txt=txt, jsonl=jsonl, versions=versions
                )
            written = f" ({report.written} written, {report.unchanged} unchanged, {report.removed} removed)"
            also = f" and {out / 'articles.jsonl'}" if jsonl else ""
            if versions:
                also += f"; {report.versions} versions" + (f" and {out / 'versions.jsonl'}" if jsonl else "")
            common.say(f"export: {report.articles} articles -> {out}{written if txt else ''}{also}")
            for skipped in report.skipped:
                common.warn(f"export: left {skipped} as it is: no export wrote it (not in {MANIFEST_NAME})")
                code = common.EXIT_PARTIAL
        if "parquet" in formats:
            from archive.publish.dataset import write_dataset

            dataset = write_dataset(data_dir / common.DB_NAME, out, selection, site_list)
            common.say(
                f"export: {dataset.rows} articles -> {out / 'data'} ({len(dataset.files)} Parquet files) "
                f"and the dataset card {out / 'README.md'}"
            )
            for column, count in sorted(dataset.unreadable.items()):
                common.warn(f"export: {count} values of {column} were no date or list; left empty")
                code = common.EXIT_PARTIAL
    except ExportError as exc:
        common.fail(str(exc), common.EXIT_CONFIG)
    return code


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


def since_option(help: str) -> Callable:
    return click.option("--since", metavar="DATE", callback=_bound, help=help)


site_option = click.option(
    "--site",
    "sites",
    multiple=True,
    metavar="NAME",
    callback=_split_choices(()),
    help="Only this site's articles (repeatable or comma-separated).",
)


@common.main.command("export")
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
@since_option("Only articles from this date or ISO time on (UTC).")
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
@site_option
@click.option("--include-duplicates", is_flag=True, help="Also export copies of earlier articles.")
@click.option(
    "--versions",
    is_flag=True,
    help="Also every version of each article: NNN_<id>.vNNN.txt and versions.jsonl (txt and jsonl).",
)
@click.option(
    "--sites",
    "site_list",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="The site list the archive was crawled with: its SHA-256 goes into the dataset card.",
)
@common.data_option
def export_command(
    out: Path | None,
    formats: tuple[str, ...],
    match: str | None,
    since: datetime | None,
    until: datetime | None,
    by: str,
    sites: tuple[str, ...],
    include_duplicates: bool,
    versions: bool,
    site_list: Path | None,
    data_dir: Path,
) -> None:
    """Write NNN_<id>.txt files (FORMAT.md) and articles.jsonl, or a Parquet dataset with its card."""
    from archive.publish.selection import ExportError, Selection

    if versions and not {"txt", "jsonl"} & set(formats):
        raise click.UsageError("--versions writes txt and jsonl files: add --format txt or jsonl")
    try:
        selection = Selection(match, include_duplicates, since, until, by, sites)
    except ExportError as exc:
        raise click.UsageError(str(exc)) from None
    sys.exit(export_articles(data_dir, out, selection, formats, site_list, versions))


@common.main.command()
@since_option("Changes from this date or ISO time on (UTC) [default: 7 days ago].")
@site_option
@click.option("--json", "as_json", is_flag=True, help="One JSON object per article a line, not a table.")
@common.data_option
def changes(since: datetime | None, sites: tuple[str, ...], as_json: bool, data_dir: Path) -> None:
    """List the articles whose text changed since DATE: title, site, versions, the last
    change, words added and removed in that time, and whether the headline changed."""
    import json
    from datetime import UTC, datetime, timedelta

    from archive.publish.changes import changed_articles, changes_table
    from archive.publish.selection import ExportError

    since = since or datetime.now(UTC) - timedelta(days=7)
    try:
        with common.storage_faults("changes", data_dir):
            found = changed_articles(data_dir / common.DB_NAME, since, sites)
    except ExportError as exc:
        common.fail(str(exc), common.EXIT_CONFIG)
    if as_json:
        for change in found:
            click.echo(json.dumps(change.json(), ensure_ascii=False))
    else:
        click.echo("\n".join(changes_table(found)))


@common.main.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", type=int, default=8001, show_default=True, help="Port to listen on.")
@common.data_option
def serve(host: str, port: int, data_dir: Path) -> None:
    """Serve data/news.db with Datasette (read-only, full-text search on articles).

    Articles show as paragraphs, with a link to the page as archived (served from its
    WARC record, sandboxed); canned queries and facets come with the project's metadata.
    """
    from archive.publish.serve import ServeError, datasette_command

    try:
        command = datasette_command(data_dir / common.DB_NAME, host, port)
    except ServeError as exc:
        common.fail(str(exc), common.EXIT_CONFIG)
    os.execv(command[0], command)


@common.main.command()
@common.data_option
def stats(data_dir: Path) -> None:
    """Summarise an archive: WARC files and bytes, captures by status, articles per site
    and language, duplicates, the last crawl runs."""
    from archive.publish.stats import StatsError, archive_stats

    try:
        click.echo(archive_stats(data_dir).text())
    except StatsError as exc:
        common.fail(str(exc), common.EXIT_CONFIG)


@common.main.command()
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), help="[default: DATA/report.html]")
@click.option("--days", type=click.IntRange(1, 3660), default=60, show_default=True, help="Days to chart.")
@common.data_option
def report(out: Path | None, days: int, data_dir: Path) -> None:
    """Write a static page charting articles per day per site (inline SVG, no scripts)."""
    from archive.publish.report import write_report

    try:
        path, total = write_report(data_dir, out or data_dir / "report.html", days)
    except FileNotFoundError as exc:
        common.fail(str(exc), common.EXIT_CONFIG)
    common.say(f"report: {total} articles charted -> {path}")


@common.main.command("wacz")
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="The WACZ file to write (not inside DATA/warc) [default: DATA/newsarchive.wacz].",
)
@click.option("--title", metavar="T", help="The package's title [default: newsarchive: <data dir name>].")
@common.data_option
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
        common.fail(f"wacz: {exc}", common.EXIT_USAGE)
    except WaczError as exc:
        common.fail(f"wacz: {exc}", common.EXIT_CONFIG)
    except WaczInvalid as exc:
        common.fail(f"wacz: {exc}; nothing written", common.EXIT_PARTIAL)
    for line in report.left_out:
        common.warn(f"wacz: left out: {line}")
    left_out = f"; {len(report.left_out)} thing(s) left out" if report.left_out else ""
    common.say(
        f"wacz: {len(report.warc_files)} WARC file(s), {report.pages} article pages -> {report.path} "
        f"(valid WACZ 1.1.1){left_out}"
    )
    sys.exit(common.EXIT_PARTIAL if report.left_out else common.EXIT_OK)
