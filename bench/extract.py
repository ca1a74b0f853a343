"""Extraction speed: ``newsarchive extract`` against a bare trafilatura loop over the same WARCs.

    .venv/bin/python -m bench.extract --pages 2000 --pages 10000
    .venv/bin/python -m bench.extract --archive /tmp/warcs-2k --archive /tmp/warcs-10k

For each archive (the data dir of a ``newsarchive crawl`` of the bench site: made here with
``--pages``, or one kept by ``bench.crawl --keep``), in fresh processes and fresh stores:

- ``bare``: warcio reads the WARCs and ``trafilatura.bare_extraction(html,
  with_metadata=True)`` runs on every 200 HTML response: the cost to match;
- ``extract-1`` and ``extract-2``: ``newsarchive extract --workers 1`` / ``--workers 2``;
- ``again``: a second ``newsarchive extract`` over the same, already read WARCs.

Prints docs/s, CPU ms per doc, peak RSS (the largest process: the main one or a worker),
and the ratios of the targets. The machine's load is printed with the figures.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from bench.common import PYTHON, Measured, check, header, load, run_measured
from bench.crawl import command as crawl_command
from bench.crawl import sites_toml
from bench.site import serve_site

HTML_TYPES = ("text/html", "application/xhtml+xml")
VARIANTS = ("extract-1", "extract-2", "again")


def bare_loop(warc_dir: Path) -> dict:
    """The baseline: every 200 HTML response of the WARCs through trafilatura, nothing else."""
    import trafilatura
    from warcio.archiveiterator import ArchiveIterator

    pages = 0
    extracted = 0
    in_trafilatura = 0.0
    for path in sorted(warc_dir.glob("*.warc.gz")):
        with open(path, "rb") as fh:
            for record in ArchiveIterator(fh):
                if record.rec_type != "response" or record.http_headers.get_statuscode() != "200":
                    continue
                content_type = (record.http_headers.get_header("Content-Type") or "").split(";")[0].strip()
                if content_type not in HTML_TYPES:
                    continue
                html = record.content_stream().read()  # de-chunked and gunzipped by warcio
                started = time.perf_counter()
                document = trafilatura.bare_extraction(
                    html, url=record.rec_headers.get("WARC-Target-URI"), with_metadata=True
                )
                in_trafilatura += time.perf_counter() - started
                pages += 1
                extracted += document is not None
    return {"pages": pages, "extracted": extracted, "trafilatura_seconds": in_trafilatura}


@dataclass
class Result:
    name: str
    docs: int
    measured: Measured

    @property
    def docs_per_s(self) -> float:
        return self.docs / self.measured.wall

    @property
    def cpu_ms_per_doc(self) -> float:
        return 1000 * self.measured.cpu / self.docs

    def line(self) -> str:
        m = self.measured
        return (
            f"{self.name:<10} {self.docs:>6} docs {m.wall:8.1f} s {self.docs_per_s:7.1f} docs/s"
            f" {self.cpu_ms_per_doc:7.2f} CPU ms/doc {m.max_rss_mb:6.0f} MB peak RSS; {load()}"
        )


def fresh_data(archive: Path, work: Path, name: str) -> Path:
    """A new data dir whose warc/ holds hard links to the archive's WARC files (no copying)."""
    data = work / name
    shutil.rmtree(data, ignore_errors=True)
    (data / "warc").mkdir(parents=True)
    for path in (archive / "warc").glob("*.warc.gz"):
        os.link(path, data / "warc" / path.name)
    return data


def crawl_archive(pages: int, work: Path) -> Path:
    """Crawl a freshly generated site of ``pages`` articles; returns the data dir with its WARCs."""
    site, nginx = serve_site(work / f"site-{pages}", pages)
    (work / "sites.toml").write_text(sites_toml(site))
    data = work / f"crawl-{pages}"
    with nginx:
        measured = check(
            run_measured(crawl_command("newsarchive", site, data, work / "sites.toml"), 7200), "crawl"
        )
    print(f"crawled {pages} articles in {measured.wall:.1f} s into {data}", flush=True)
    shutil.rmtree(work / f"site-{pages}")
    return data


def bench_archive(archive: Path, work: Path, variants: Sequence[str] = VARIANTS) -> dict[str, Result]:
    size = sum(p.stat().st_size for p in (archive / "warc").glob("*.warc.gz"))
    print(f"\n-- archive {archive}: {size / 1e6:.0f} MB of WARC; {load()}", flush=True)
    bare = check(run_measured([PYTHON, "-m", "bench.extract", "--bare-loop", archive / "warc"], 7200), "bare")
    counts = json.loads(bare.stdout.strip().splitlines()[-1])
    docs = counts["pages"]
    results = {"bare": Result("bare", docs, bare)}
    print(results["bare"].line(), flush=True)
    print(
        f"           of which in bare_extraction: {1000 * counts['trafilatura_seconds'] / docs:.2f} ms/doc;"
        f" {counts['extracted']} documents",
        flush=True,
    )
    for workers in (1, 2):
        name = f"extract-{workers}"
        if name not in variants and (workers == 2 or "again" not in variants):
            continue
        data = fresh_data(archive, work, name)
        command = [PYTHON, "-m", "archive", "extract", "--workers", workers, "--data", data]
        results[name] = Result(name, docs, check(run_measured(command, 7200), name))
        print(results[name].line(), flush=True)
        print(f"           {results[name].measured.stdout.strip().splitlines()[-1]}", flush=True)
        if workers == 1 and "again" in variants:
            again = check(run_measured(command, 7200), "again")
            results["again"] = Result("again", docs, again)
            print(f"again      {again.wall:8.2f} s for the second extract over the same WARCs", flush=True)
        shutil.rmtree(data)
    return results


def report(by_archive: dict[int, dict[str, Result]]) -> None:
    """The target ratios of what was measured (``--variants`` may leave some out)."""
    print("\n== extract results")
    for docs, results in by_archive.items():
        bare, one, two, again = (results.get(k) for k in ("bare", "extract-1", "extract-2", "again"))
        print(f"{docs} docs:")
        if one:
            cost = one.measured.wall / bare.measured.wall
            cpu = one.measured.cpu / bare.measured.cpu
            print(f"  per-doc cost extract-1 / bare: {cost:.2f}x wall, {cpu:.2f}x CPU (target <= 1.15x)")
        if one and two:
            print(f"  2 workers / 1 worker docs/s: {two.docs_per_s / one.docs_per_s:.2f}x (target >= 1.8x)")
        if one and again:
            share = 100 * again.measured.wall / one.measured.wall
            print(f"  second extract: {again.measured.wall:.2f} s = {share:.1f}% of the first (target <= 2%)")
        print(
            "  peak RSS: "
            + ", ".join(f"{r.name} {r.measured.max_rss_mb:.0f} MB" for r in (bare, one, two) if r)
            + " (largest process)"
        )
    if len(by_archive) >= 2:
        small, large = min(by_archive), max(by_archive)
        for name in ("extract-1", "extract-2"):
            if name not in by_archive[small] or name not in by_archive[large]:
                continue
            a, b = by_archive[small][name].measured.max_rss_mb, by_archive[large][name].measured.max_rss_mb
            print(
                f"{name} peak RSS {a:.0f} MB at {small} docs -> {b:.0f} MB at {large} docs:"
                f" {100 * (b / a - 1):+.1f}% (target within 15%)"
            )
    print(f"   {load()} (at the end)")


def main(argv: list[str] | None = None) -> dict[int, dict[str, Result]]:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--pages", type=int, action="append", help="crawl a site of this many articles first")
    parser.add_argument("--archive", type=Path, action="append", help="a data dir holding warc/ from a crawl")
    parser.add_argument(
        "--variants",
        nargs="+",
        choices=VARIANTS,
        default=list(VARIANTS),
        help="what to run besides the bare loop, which is always run (default: all)",
    )
    parser.add_argument("--bare-loop", type=Path, help=argparse.SUPPRESS)  # the baseline's own process
    args = parser.parse_args(argv)
    if args.bare_loop:
        print(json.dumps(bare_loop(args.bare_loop)))
        return {}
    if not args.pages and not args.archive:
        args.pages = [2000, 10000]
    header("extract benchmark", python=sys.version.split()[0])
    by_archive: dict[int, dict[str, Result]] = {}
    with tempfile.TemporaryDirectory(prefix="bench-extract-") as tmp:
        work = Path(tmp)
        archives = list(args.archive or [])
        for pages in args.pages or []:
            archives.append(crawl_archive(pages, work))
        for archive in archives:
            if not list((archive / "warc").glob("*.warc.gz")):
                parser.error(f"{archive}/warc holds no closed WARC file")
            results = bench_archive(archive, work, args.variants)
            by_archive[results["bare"].docs] = results
        report(by_archive)
    return by_archive


if __name__ == "__main__":
    main()
