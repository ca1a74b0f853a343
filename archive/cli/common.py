"""What every ``newsarchive`` command shares: the click group, options, messages, exit codes.

Exit codes (also in the README): 0 ok; 1 something failed on the way (a site's start
page, feed or sitemap, or an unreadable spot in a WARC file) but everything else was
done; 2 usage error; 3 bad configuration (site list, settings); 4 another run holds the
lock, or the store is locked; 5 a storage fault (disk full, read-only, corrupt store).
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import click

from archive.store.readonly import DB_NAME

if TYPE_CHECKING:

    pass

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


def parse_overrides(pairs: tuple[str, ...]) -> dict[str, str]:
    result = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise click.UsageError(f"-s takes KEY=VALUE, got {pair!r}")
        result[key.strip()] = value
    return result


def fail(message: str, code: int) -> None:
    click.echo(f"newsarchive: {message}", err=True)
    sys.exit(code)


@contextmanager
def storage_faults(command: str, data_dir: Path) -> Iterator[None]:
    """A full disk, a read-only directory, a locked or corrupt store, an unreadable file:
    one line and an exit code (4 locked, 5 the others), not a traceback."""
    import sqlite3

    from archive.faults import describe, is_locked

    try:
        yield
    except (OSError, sqlite3.DatabaseError) as exc:
        code = EXIT_LOCKED if is_locked(exc) else EXIT_STORAGE
        fail(f"{command}: {describe(exc, data_dir / DB_NAME)}", code)


def say(message: str) -> None:
    """A line for the user; with ``run --quiet`` it goes only to the run's log file."""
    logger.info(message)
    if not click.get_current_context().meta.get("newsarchive.quiet"):
        click.echo(message)


def warn(message: str) -> None:
    logger.warning(message)
    click.echo(message, err=True)


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
