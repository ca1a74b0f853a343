"""``newsarchive demo``: the whole pipeline, offline, over the bundled real pages."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import click

from archive.demo.site import NewsSite
from archive.publish.export import export
from archive.store.ingest import ingest
from archive.store.readonly import DB_NAME
from archive.warc.files import list_warc_files

# Loopback needs no politeness delay; everything else stays as a real crawl has it.
DEMO_SETTINGS = {
    "AUTOTHROTTLE_ENABLED": "False",
    "LOG_LEVEL": "WARNING",
    "CONCURRENT_REQUESTS_PER_DOMAIN": "8",
}


def run_demo(data_dir: Path, run_crawl: Callable[..., dict], port: int = 0) -> int:
    """Serve, crawl, extract, export; print where everything is. Returns an exit code.

    ``run_crawl`` is ``crawler.runner.run_crawl``, handed in by the CLI: ``archive`` never
    imports ``crawler`` (DESIGN.md).
    """
    data_dir.mkdir(parents=True, exist_ok=True)
    with NewsSite(port=port) as site:
        sites_file = data_dir / "demo-sites.toml"
        sites_file.write_text(site.sites_toml(), encoding="utf-8")
        click.echo(f"demo: serving {len(site.manifest)} real news pages at {site.base}/ ; crawling ...")
        stats = run_crawl(data_dir, sites_file, overrides=DEMO_SETTINGS)
        served = len(site.served())
    report = ingest(data_dir)
    exported = export(data_dir / DB_NAME, data_dir / "export")
    warcs = list_warc_files(data_dir / "warc")
    click.echo("")
    click.echo(
        f"  pages fetched      {stats.get('newsarchive/warc_responses', 0)} responses archived "
        f"({served} requests served by the site)"
    )
    click.echo(
        f"  WARC files         {len(warcs)} files, {sum(p.stat().st_size for p in warcs):,} bytes "
        f"in {data_dir / 'warc'}"
    )
    click.echo(
        f"  articles extracted {report.articles} article rows ({exported.articles} exported, "
        f"{report.duplicates} duplicates) in {data_dir / DB_NAME}"
    )
    click.echo(f"  documents          {data_dir / 'export'}/NNN_<id>.txt and articles.jsonl")
    click.echo(f"  crawl log          {stats.get('newsarchive/log_file')}")
    click.echo("")
    click.echo(
        f"  browse it:  {Path(sys.executable).parent / 'newsarchive'} serve --data {data_dir}"
        "   (Datasette on http://127.0.0.1:8001/)"
    )
    return 0 if report.articles and not report.errors else 1
