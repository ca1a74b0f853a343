"""Extraction speed: the whole ``newsarchive extract`` command against a bare trafilatura loop.

    .venv/bin/python -m bench.extract --pages 2000 --pages 10000 --runs 3
    .venv/bin/python -m bench.extract --archive /tmp/warc-2k --archive /tmp/warc-10k --runs 3
    .venv/bin/python -m bench.extract --archive /tmp/warc-2k --runs 1 --compare-tree /tmp/old-checkout

For each archive (the data dir of a ``newsarchive crawl`` of the bench site: made here with
``--pages``, or one kept by ``bench.crawl --keep``), ``--runs`` times, alternating, each in
a fresh process and a fresh store:

- ``bare``: warcio reads the WARC records, decodes the 200 HTML responses' bodies
  (de-chunked, gunzipped) and ``trafilatura.bare_extraction(html, with_metadata=True)``
  runs on each: the cost to match;
- ``extract-1`` and ``extract-2``: the whole ``newsarchive extract --workers 1`` /
  ``--workers 2`` process (start-up, reading, extraction, store, settle, exit);
- ``again``: a second ``newsarchive extract`` over the same, already read WARCs;
- ``bare-2``: two bare loops at once, each over every other page: how much faster this
  machine runs perfectly parallel work in two processes, the ceiling for ``--workers 2``
  (two vCPUs that are one core's hyperthreads give far less than 2x);
- ``paired``: the bare loop and ``extract --workers 1`` side by side, at the same moment: a
  machine whose speed drifts between runs (a VM's can, by 20% within minutes) moves both
  alike, so their ratio holds where the sequential one cannot (each then shares the machine
  with the other, as the bare loop and a worker would);
- ``respelled``: the bare loop beside the same loop with trafilatura's and htmldate's
  expressions respelled as extract runs them (``archive/extract/respelled.py``): how much of
  ``paired``'s ratio is trafilatura made faster, and so what extract's own work costs over
  trafilatura as it runs it (the two ratios divided).

Every run is printed (wall, CPU, docs/s, peak RSS, load average), then the medians and the
ratios of issue 20's targets, and where a page's time goes in the command: the stages it
times as it runs (``archive/store/timings.py``: read, decode, extract, store, copies,
boilerplate, waiting), FTS indexing (the store's full-text index rebuilt over the same
texts after the run) and start-up (the command's wall time outside ``ingest``).

Each run's ``extract-2`` store must hold the same articles and captures as its ``extract-1``
store; ``--compare-tree DIR`` also runs ``extract --workers 1`` of the code in DIR (a copy
of the repository from before a change) once and checks that its rows are the same: a
speed-up must not change what is stored.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sqlite3
import sys
import tempfile
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path

from bench.common import PYTHON, REPO, Measured, check, header, load, median, run_measured, spread
from bench.crawl import command as crawl_command
from bench.crawl import sites_toml
from bench.site import serve_site

HTML_TYPES = ("text/html", "application/xhtml+xml")
VARIANTS = ("extract-1", "extract-2", "again", "bare-2", "paired", "respelled")
TIMINGS_ENV = "NEWSARCHIVE_TIMINGS"  # archive/store/timings.py
# What the store comparison reads: every column of the articles and captures a run writes.
COMPARED = ("articles", "captures")


def bare_loop(warc_dir: Path, half: int | None = None, respelled: bool = False) -> dict:
    """The baseline: every 200 HTML response of the WARCs read, decoded and put through
    trafilatura, nothing else; the three timed apart. ``half`` (0 or 1): only every other
    page (the others are read, not decoded or extracted). ``respelled``: with trafilatura's
    expressions respelled as extract runs them."""
    import trafilatura
    from warcio.archiveiterator import ArchiveIterator

    if respelled:
        from archive.extract.respelled import respell_libraries

        respell_libraries()

    pages = 0
    extracted = 0
    seconds = {"read": 0.0, "decode": 0.0, "extract": 0.0}
    for path in sorted(warc_dir.glob("*.warc.gz")):
        with open(path, "rb") as fh:
            records = iter(ArchiveIterator(fh))
            while True:
                started = time.perf_counter()
                record = next(records, None)
                seconds["read"] += time.perf_counter() - started
                if record is None:
                    break
                if record.rec_type != "response" or record.http_headers.get_statuscode() != "200":
                    continue
                content_type = (record.http_headers.get_header("Content-Type") or "").split(";")[0].strip()
                if content_type not in HTML_TYPES:
                    continue
                pages += 1
                if half is not None and pages % 2 != half:
                    continue
                started = time.perf_counter()
                html = record.content_stream().read()  # de-chunked and gunzipped by warcio
                decoded = time.perf_counter()
                document = trafilatura.bare_extraction(
                    html, url=record.rec_headers.get("WARC-Target-URI"), with_metadata=True
                )
                seconds["decode"] += decoded - started
                seconds["extract"] += time.perf_counter() - decoded
                extracted += document is not None
    return {"pages": pages, "extracted": extracted, "seconds": seconds}


def store_differences(mine: Path, theirs: Path) -> list[str]:
    """What differs between two stores' compared tables: per table, the rows only one holds
    and, per column, how many rows hold another value (with one example); [] when the same."""
    differences = []
    db = sqlite3.connect(mine)
    try:
        db.execute("ATTACH DATABASE ? AS theirs", [str(theirs)])
        for table in COMPARED:
            here = [row[1] for row in db.execute(f"PRAGMA main.table_info({table})")]
            there = {row[1] for row in db.execute(f"PRAGMA theirs.table_info({table})")}
            if set(here) != there:
                differences.append(f"{table}: columns {sorted(set(here) ^ there)} are in one store only")
            columns = [c for c in here if c in there]
            only = db.execute(
                f"SELECT (SELECT count(*) FROM main.{table} WHERE id NOT IN (SELECT id FROM theirs.{table})),"
                f" (SELECT count(*) FROM theirs.{table} WHERE id NOT IN (SELECT id FROM main.{table}))"
            ).fetchone()
            if only != (0, 0):
                differences.append(f"{table}: {only[0]} rows only here, {only[1]} only there")
            for column in columns:
                changed = db.execute(
                    f"SELECT count(*), min(a.id) FROM main.{table} a JOIN theirs.{table} b ON a.id = b.id"
                    f" WHERE a.[{column}] IS NOT b.[{column}]"
                ).fetchone()
                if changed[0]:
                    differences.append(f"{table}.{column}: {changed[0]} rows differ (e.g. id {changed[1]})")
        return differences
    finally:
        db.close()


def row_counts(db_path: Path) -> str:
    db = sqlite3.connect(db_path)
    try:
        return ", ".join(f"{t} {db.execute(f'SELECT count(*) FROM {t}').fetchone()[0]}" for t in COMPARED)
    finally:
        db.close()


def fts_seconds(db_path: Path) -> float:
    """What indexing the store's texts for full-text search costs: the index rebuilt from
    the same rows (on a copy, so the store is left as the run wrote it)."""
    with tempfile.TemporaryDirectory(prefix="bench-fts-") as tmp:
        copy = Path(tmp) / "news.db"
        source = sqlite3.connect(db_path)
        target = sqlite3.connect(copy)
        source.backup(target)
        source.close()
        started = time.perf_counter()
        target.execute("INSERT INTO articles_fts (articles_fts) VALUES ('rebuild')")
        target.commit()
        seconds = time.perf_counter() - started
        target.close()
        return seconds


@dataclass
class Result:
    name: str
    docs: int
    measured: Measured
    run: int = 1
    timings: dict = field(default_factory=dict)  # the command's own stage timings, or the bare loop's
    ingest_seconds: float = 0.0  # the command's wall time inside ``ingest`` (it prints it)
    fts: float = 0.0  # FTS index rebuilt over the run's texts, after it

    @property
    def docs_per_s(self) -> float:
        return self.docs / self.measured.wall

    @property
    def cpu_ms_per_doc(self) -> float:
        return 1000 * self.measured.cpu / self.docs

    @property
    def wall_ms_per_doc(self) -> float:
        return 1000 * self.measured.wall / self.docs

    def line(self) -> str:
        m = self.measured
        return (
            f"run {self.run} {self.name:<10} {self.docs:>6} docs {m.wall:8.1f} s"
            f" {self.docs_per_s:6.1f} docs/s"
            f" {self.wall_ms_per_doc:6.2f} wall ms/doc {self.cpu_ms_per_doc:6.2f} CPU ms/doc"
            f" {m.max_rss_mb:5.0f} MB peak RSS; {load()}"
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


def run_extract(data: Path, workers: int, name: str, docs: int, run: int, tree: Path | None = None) -> Result:
    """One whole ``newsarchive extract`` process over ``data``, with its own stage timings."""
    with tempfile.NamedTemporaryFile(suffix=".json") as timings_file:
        env = {**os.environ, TIMINGS_ENV: timings_file.name}
        if tree is not None:  # another copy of the code: it must not import this one
            env["PYTHONPATH"] = str(tree)
        command = [PYTHON, "-m", "archive", "extract", "--workers", workers, "--data", data]
        measured = check(run_measured(command, 7200, env=env, cwd=tree or REPO), name)
        text = Path(timings_file.name).read_text()
    summary = measured.stdout.strip().splitlines()[-1]
    # "...; 110.6s -> /data/news.db": the time ingest took, which the command prints
    ingest_seconds = float(summary.rsplit("s -> ", 1)[0].rsplit(" ", 1)[-1])
    timings = json.loads(text) if text else {}
    return Result(name, docs, measured, run, timings, ingest_seconds)


def run_bare(archive: Path, half: str | None = None, respelled: bool = False) -> Measured:
    """The bare loop's own process over the archive's WARCs (every other page with ``half``,
    trafilatura's expressions respelled with ``respelled``)."""
    command = [PYTHON, "-m", "bench.extract", "--bare-loop", archive / "warc"]
    command += ["--half", half] if half else []
    command += ["--respelled"] if respelled else []
    return check(run_measured(command, 7200), f"bare {half or ''}")


def bare_in_two(archive: Path) -> Measured:
    """Two bare loops at once, each over every other page: wall time of the slower, CPU of both."""
    with ThreadPoolExecutor(2) as pool:  # each thread waits for its process: the GIL is free
        halves = list(pool.map(lambda half: run_bare(archive, half), ("0", "1")))
    return replace(
        halves[0],
        wall=max(h.wall for h in halves),
        cpu=sum(h.cpu for h in halves),
        max_rss_mb=max(h.max_rss_mb for h in halves),
    )


def bench_archive(
    archive: Path, work: Path, variants: Sequence[str], runs: int, compare_tree: Path | None
) -> tuple[dict[str, list[Result]], list[str]]:
    """Every variant ``runs`` times, alternating; the runs of each variant, and every
    difference found between stores that must be the same."""
    size = sum(p.stat().st_size for p in (archive / "warc").glob("*.warc.gz"))
    print(f"\n-- archive {archive}: {size / 1e6:.0f} MB of WARC; {load()}", flush=True)
    results: dict[str, list[Result]] = {}
    differences: list[str] = []
    for run in range(1, runs + 1):
        bare = run_bare(archive)
        counts = json.loads(bare.stdout.strip().splitlines()[-1])
        docs = counts["pages"]
        result = Result("bare", docs, bare, run, counts["seconds"])
        results.setdefault("bare", []).append(result)
        print(result.line(), f"({counts['extracted']} documents)", flush=True)
        if "bare-2" in variants:
            result = Result("bare-2", docs, bare_in_two(archive), run)
            results.setdefault("bare-2", []).append(result)
            print(result.line(), flush=True)
        if "paired" in variants:
            data = fresh_data(archive, work, "paired")
            with ThreadPoolExecutor(2) as pool:
                beside = pool.submit(run_bare, archive)
                one = pool.submit(run_extract, data, 1, "paired-1", docs, run)
                for result in (Result("paired-bare", docs, beside.result(), run), one.result()):
                    results.setdefault(result.name, []).append(result)
                    print(result.line(), flush=True)
            shutil.rmtree(data)
        if "respelled" in variants:
            with ThreadPoolExecutor(2) as pool:
                beside = pool.submit(run_bare, archive)
                respelled = pool.submit(run_bare, archive, None, True)
                for name, future in (("respelled-bare", beside), ("respelled", respelled)):
                    result = Result(name, docs, future.result(), run)
                    results.setdefault(name, []).append(result)
                    print(result.line(), flush=True)
        reference: Path | None = None  # the first store of the run, which the others must equal
        for workers in (1, 2):
            name = f"extract-{workers}"
            if name not in variants and (workers == 2 or "again" not in variants):
                continue
            data = fresh_data(archive, work, name)
            result = run_extract(data, workers, name, docs, run)
            results.setdefault(name, []).append(result)
            print(result.line(), flush=True)
            print(f"        {result.measured.stdout.strip().splitlines()[-1]}", flush=True)
            if workers == 1 and "again" in variants:
                again = run_extract(data, workers, "again", docs, run)
                results.setdefault("again", []).append(again)
                print(again.line(), flush=True)
            if reference is None:
                reference = data
                result.fts = fts_seconds(data / "news.db")
                if compare_tree is not None and run == 1:
                    differences += compare_with_tree(archive, work, compare_tree, docs, reference)
            else:
                found = store_differences(reference / "news.db", data / "news.db")
                differences += [f"run {run} {name}: {d}" for d in found]
                verdict = "the same as" if not found else "DIFFERENT from"
                counted = row_counts(data / "news.db")
                print(f"        {name} store {verdict} the {reference.name} store ({counted})")
                for difference in found:
                    print(f"          {difference}")
                shutil.rmtree(data)
        if reference is not None:
            shutil.rmtree(reference)
    return results, differences


def compare_with_tree(archive: Path, work: Path, tree: Path, docs: int, reference: Path) -> list[str]:
    """``extract --workers 1`` of the code in ``tree`` over the same WARCs: the same rows?"""
    data = fresh_data(archive, work, "compare-tree")
    other = run_extract(data, 1, "tree", docs, 1, tree=tree)
    found = store_differences(reference / "news.db", data / "news.db")
    print(
        f"        {tree}'s extract-1: {other.wall_ms_per_doc:.2f} wall ms/doc,"
        f" {other.cpu_ms_per_doc:.2f} CPU ms/doc, {other.measured.max_rss_mb:.0f} MB peak RSS; {load()}"
    )
    verdict = "identical to" if not found else "DIFFERENT from"
    print(f"        its store ({row_counts(data / 'news.db')}) is {verdict} this tree's")
    for difference in found:
        print(f"          {difference}")
    shutil.rmtree(data)
    return [f"{tree}: {d}" for d in found]


def _ms(seconds: float, docs: int) -> str:
    return f"{1000 * seconds / docs:7.2f}"


PAGE_STAGES = ("read", "decode", "extract", "store", "wait for workers", "pages phase")


def breakdown(runs: list[Result], bare: list[Result]) -> list[str]:
    """Where a page's time goes in the command: the stages it timed itself (medians over the
    runs, ms of wall time per document), with the bare loop's beside them."""
    docs = runs[0].docs
    stages = sorted({stage for r in runs for stage in r.timings.get("seconds", {})})

    def med(stage: str) -> float:
        return median([r.timings.get("seconds", {}).get(stage, 0.0) for r in runs])

    def line(label: str, seconds: float, note: str = "") -> str:
        return f"    {label + ':':<44}{_ms(seconds, docs)}{'  ' + note if note else ''}"

    workers = runs[0].timings.get("counts", {}).get("workers", 1)
    where = "in this process" if workers == 1 else f"in the {workers} workers, summed"
    bare_seconds = {k: median([b.timings[k] for b in bare]) for k in ("read", "decode", "extract")}
    bare_rest = median([b.measured.wall for b in bare]) - sum(bare_seconds.values())
    lines = [
        f"  where a page's time goes, {runs[0].name} (ms/doc of wall time, median of {len(runs)} runs):",
        "    bare loop: "
        + ", ".join(f"{k} {1000 * v / docs:.2f}" for k, v in bare_seconds.items())
        + f", start-up and exit {1000 * bare_rest / docs:.2f}",
        line(
            "start-up and exit (imports, pool, ...)",
            median([r.measured.wall - r.ingest_seconds for r in runs]),
        ),
        line("read (WARC records, digests, capture rows)", med("read")),
        line("decode (body, charset)", med("decode"), where),
        line("extract (examine_page)", med("extract"), where),
        line("store (each batch's transaction, all of it)", med("store")),
    ]
    store_parts = [s for s in stages if s.startswith("store: ")]
    lines += [line("  " + part, med(part)) for part in store_parts]
    fts = median([r.fts for r in runs if r.fts] or [0.0])
    lines.append(line("  FTS index of the texts", fts, "(the index rebuilt after the run: in the upserts)"))
    settle_parts = [s for s in stages if s not in PAGE_STAGES and not s.startswith("store: ")]
    lines += [line(part + " (settle)", med(part)) for part in settle_parts]
    timed = med("read") + med("store") + sum(med(part) for part in settle_parts)
    if workers == 1:
        timed += med("decode") + med("extract")
    else:
        wait, phase = med("wait for workers"), med("pages phase")
        idle = workers * phase - med("decode") - med("extract")
        timed += wait
        lines.append(line("main process waits for the workers", wait))
        lines.append(
            line("workers idle (main process reads, stores)", idle)
            + f" over {workers} workers: {100 * idle / (workers * phase):.0f}% of their time"
        )
    lines.append(line("the rest of ingest (untimed)", median([r.ingest_seconds for r in runs]) - timed))
    return lines


def report(by_archive: dict[int, dict[str, list[Result]]]) -> None:
    """Medians over the runs, the target ratios (per run, then their median), the breakdown."""
    print("\n== extract results (medians of the runs; per-run figures in brackets: median (min-max))")
    for docs, results in by_archive.items():
        bare, one, two, again = (results.get(k, []) for k in ("bare", "extract-1", "extract-2", "again"))
        print(f"{docs} docs, {len(bare)} run(s):")
        for name, runs in results.items():
            print(
                f"  {name:<10} wall ms/doc {spread([r.wall_ms_per_doc for r in runs], 2)}, CPU ms/doc"
                f" {spread([r.cpu_ms_per_doc for r in runs], 2)},"
                f" peak RSS MB {spread([r.measured.max_rss_mb for r in runs], 0)}"
            )
        if one:
            cost = [o.measured.wall / b.measured.wall for o, b in zip(one, bare, strict=False)]
            cpu = [o.measured.cpu / b.measured.cpu for o, b in zip(one, bare, strict=False)]
            print(
                f"  per-doc cost extract-1 / bare: {spread(cost, 2)}x wall, {spread(cpu, 2)}x CPU"
                " (target <= 1.15x)"
            )
        if two:
            cost = [t.measured.wall / b.measured.wall for t, b in zip(two, bare, strict=False)]
            print(f"  per-doc cost extract-2 / bare: {spread(cost, 2)}x wall")
        if one and two:
            speedup = [t.docs_per_s / o.docs_per_s for o, t in zip(one, two, strict=False)]
            print(f"  2 workers / 1 worker docs/s: {spread(speedup, 2)}x (target >= 1.8x)")
        if bare_two := results.get("bare-2", []):
            ceiling = [t.docs_per_s / b.docs_per_s for b, t in zip(bare, bare_two, strict=False)]
            print(f"  2 bare loops at once / 1 docs/s: {spread(ceiling, 2)}x (the ceiling for 2 workers)")
        if paired := list(zip(results.get("paired-bare", []), results.get("paired-1", []), strict=False)):
            cpu = [o.measured.cpu / b.measured.cpu for b, o in paired]
            print(f"  side by side, extract-1 / bare: {spread(cpu, 2)}x CPU (target <= 1.15x)")
        respelled = list(zip(results.get("respelled-bare", []), results.get("respelled", []), strict=False))
        if respelled:
            faster = [r.measured.cpu / b.measured.cpu for b, r in respelled]
            print(f"  side by side, bare with respelled expressions / bare: {spread(faster, 2)}x CPU")
            if paired:
                own = median([o.measured.cpu / b.measured.cpu for b, o in paired]) / median(faster)
                print(f"  extract-1 over trafilatura as it runs it (the two medians divided): {own:.2f}x CPU")
        if one and again:
            share = [100 * a.measured.wall / o.measured.wall for o, a in zip(one, again, strict=False)]
            print(
                f"  second extract: {spread([a.measured.wall for a in again], 2)} s ="
                f" {spread(share, 1)}% of the first (target <= 2%)"
            )
        for runs in (one, two):
            if runs and runs[0].timings:
                print("\n".join(breakdown(runs, bare)))
    if len(by_archive) >= 2:
        small, large = min(by_archive), max(by_archive)
        for name in ("extract-1", "extract-2"):
            if name not in by_archive[small] or name not in by_archive[large]:
                continue
            a = median([r.measured.max_rss_mb for r in by_archive[small][name]])
            b = median([r.measured.max_rss_mb for r in by_archive[large][name]])
            print(
                f"{name} peak RSS {a:.0f} MB at {small} docs -> {b:.0f} MB at {large} docs:"
                f" {100 * (b / a - 1):+.1f}% (target: flat, within 15%)"
            )
    print(f"   {load()} (at the end)")


def main(argv: list[str] | None = None) -> dict[int, dict[str, list[Result]]]:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--pages", type=int, action="append", help="crawl a site of this many articles first")
    parser.add_argument("--archive", type=Path, action="append", help="a data dir holding warc/ from a crawl")
    parser.add_argument("--runs", type=int, default=3, help="runs of every variant, alternating (default 3)")
    parser.add_argument(
        "--variants",
        nargs="+",
        choices=VARIANTS,
        default=list(VARIANTS),
        help="what to run besides the bare loop, which is always run (default: all)",
    )
    parser.add_argument(
        "--compare-tree",
        type=Path,
        help="a copy of the repository (e.g. from before a change): its extract must store the same rows",
    )
    parser.add_argument("--bare-loop", type=Path, help=argparse.SUPPRESS)  # the baseline's own process
    parser.add_argument(
        "--half", type=int, choices=(0, 1), help=argparse.SUPPRESS
    )  # ... over every other page
    parser.add_argument("--respelled", action="store_true", help=argparse.SUPPRESS)  # ... respelled
    args = parser.parse_args(argv)
    if args.bare_loop:
        print(json.dumps(bare_loop(args.bare_loop, args.half, args.respelled)))
        return {}
    if not args.pages and not args.archive:
        args.pages = [2000, 10000]
    header("extract benchmark", python=sys.version.split()[0], runs=args.runs)
    by_archive: dict[int, dict[str, list[Result]]] = {}
    differences: list[str] = []
    with tempfile.TemporaryDirectory(prefix="bench-extract-") as tmp:
        work = Path(tmp)
        archives = list(args.archive or [])
        for pages in args.pages or []:
            archives.append(crawl_archive(pages, work))
        for archive in archives:
            if not list((archive / "warc").glob("*.warc.gz")):
                parser.error(f"{archive}/warc holds no closed WARC file")
            results, found = bench_archive(archive, work, args.variants, args.runs, args.compare_tree)
            by_archive[results["bare"][0].docs] = results
            differences += found
        report(by_archive)
    if differences:
        sys.exit(f"stores that must be the same differ ({len(differences)} differences, listed above)")
    return by_archive


if __name__ == "__main__":
    main()
