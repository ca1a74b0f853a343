"""Scale-out: crawl speed with 1 and 2 processes sharing a Redis frontier (``--redis``).

    .venv/bin/python -m bench.scale --pages 2000 --runs 2

Generates the news site of bench/site.py (articles from ../shared/corpus when present,
else archive/demo/corpus), serves it with nginx on 127.0.0.1, starts a private redis-server, and
runs, alternating, in fresh processes and data dirs (Redis emptied before each run):

- ``single``: one ``newsarchive crawl``, no Redis: the baseline;
- ``single+redis``: the same with ``--redis``: what the shared frontier costs;
- ``two+redis``: two ``newsarchive crawl --redis`` processes started together.

Every process has bench/crawl.py's settings (16 concurrent requests, no delay), so two
processes are what adding a machine gives. Per run it prints each process's pages, CPU,
and when it fetched (first and last response after the launch, longest pause between two
responses: a process waiting for work shows there), Redis's commands and CPU, and nginx's
CPU. The summary gives, per variant, pages/s over the wall time (launch to last exit) and
over the fetch span (first response to last, without interpreter start and exit), CPU
ms per page of the crawlers, of Redis and of nginx, and the ratios between variants, with
the machine's load average (others' work skews wall times; CPU per page much less).
Before each round it also times a fixed CPU-bound Python job run once and twice at the
same time: how much two processes can gain on this machine at that moment, whatever
they do (about 2x on two idle cores; about 1x when others' work fills one of them).
"""

from __future__ import annotations

import os
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import redis

from archive.warc.files import list_warc_files
from archive.warc.reader import iter_records
from bench.common import PYTHON, CrawlRun, check, crawl_arguments, header, load, median, run_measured, spread
from bench.crawl import SETTINGS, _settings_args, _stats, sites_toml
from bench.site import Nginx, serve_site
from tests.helpers.redis import private_redis

VARIANTS = {"single": (1, False), "single+redis": (1, True), "two+redis": (2, True)}
# About 2 s of CPU-bound Python, what a crawler spends its time on (parsing, hashing, zlib).
CPU_JOB = """
import json, re, zlib
data = {f"k{i}": [i, str(i) * 5] for i in range(2000)}
for _ in range(1200):
    text = json.dumps(data)
    json.loads(text), zlib.compress(text.encode(), 1), re.findall(r"k[0-9]+", text)
"""
RATIOS = [("single+redis", "single"), ("two+redis", "single"), ("two+redis", "single+redis")]


@dataclass
class Process:
    """One crawl process of a run: its share, cost, and when it fetched (s after the launch)."""

    pages: int
    wall: float
    cpu: float
    first: float
    last: float
    longest_pause: float

    def __str__(self) -> str:
        return (
            f"{self.pages} pages, CPU {self.cpu:.1f} s, exit {self.wall:.1f} s, fetching"
            f" {self.first:.1f}–{self.last:.1f} s, longest pause {self.longest_pause:.2f} s"
        )


@dataclass
class Run(CrawlRun):
    processes: list[Process]
    redis_cpu: float
    redis_commands: int
    nginx_cpu: float

    @property
    def span(self) -> float:
        return max(p.last for p in self.processes) - min(p.first for p in self.processes)

    @property
    def span_pages_per_s(self) -> float:
        return self.pages / self.span

    def per_page(self, seconds: float) -> float:
        return 1000 * seconds / self.pages


def fetch_times(data: Path, launched: float) -> list[float]:
    """When this process's responses were archived (WARC-Date), in seconds after ``launched``."""
    times = [
        datetime.fromisoformat(record.date.replace("Z", "+00:00")).timestamp() - launched
        for path in list_warc_files(data / "warc")
        for record in iter_records(path, with_payload=False)
        if record.type == "response"
    ]
    return sorted(times) or [0.0]


def redis_usage(server: redis.Redis) -> tuple[float, int]:
    """Redis's CPU seconds so far, and the crawlers' commands since the last CONFIG RESETSTAT."""
    cpu = server.info("cpu")
    mine = ("cmdstat_info", "cmdstat_config|resetstat")
    commands = sum(stat["calls"] for name, stat in server.info("commandstats").items() if name not in mine)
    return cpu["used_cpu_user"] + cpu["used_cpu_sys"], commands


def machine_scaling() -> float:
    """Throughput of two copies of ``CPU_JOB`` run together, against one alone."""

    def together(copies: int) -> float:
        command = [PYTHON, "-c", CPU_JOB]
        started = time.monotonic()
        with ThreadPoolExecutor(copies) as pool:
            list(pool.map(lambda _: check(run_measured(command, 600), "CPU job"), range(copies)))
        return time.monotonic() - started

    one = together(1)
    return 2 * one / together(2)


def run_variant(variant: str, work: Path, redis_url: str, nginx: Nginx, timeout: float) -> Run:
    processes, use_redis = VARIANTS[variant]
    server = redis.Redis.from_url(redis_url)
    server.flushdb()  # else the next run knows every article already
    data_dirs = [Path(tempfile.mkdtemp(prefix=f"{variant}-", dir=work)) for _ in range(processes)]
    commands = []
    for data in data_dirs:
        command = [PYTHON, "-m", "archive", "crawl", "--sites", work / "sites.toml", "--data", data]
        command += _settings_args(SETTINGS) + (["--redis", redis_url] if use_redis else [])
        commands.append(command)
    server.config_resetstat()
    redis_before, nginx_before = redis_usage(server)[0], nginx.cpu_seconds()
    launched = time.time()
    with ThreadPoolExecutor(processes) as pool:
        measured = list(pool.map(lambda c: check(run_measured(c, timeout), variant), commands))
    wall = time.time() - launched
    redis_after, redis_commands = redis_usage(server)
    nginx_cpu = nginx.cpu_seconds() - nginx_before
    each = []
    for data, result in zip(data_dirs, measured, strict=True):
        log = result.stderr + "".join(p.read_text() for p in (data / "logs").glob("*.log"))
        times = fetch_times(data, launched)
        pause = max((b - a for a, b in zip(times, times[1:], strict=False)), default=0.0)
        pages = int(_stats(log).get("response_received_count", 0))
        each.append(Process(pages, result.wall, result.cpu, times[0], times[-1], pause))
    return Run(
        variant,
        sum(p.pages for p in each),
        wall,
        sum(p.cpu for p in each),
        each,
        redis_after - redis_before,
        redis_commands,
        nginx_cpu,
    )


def report(runs: list[Run], scaling: list[float]) -> None:
    by_variant = {v: [r for r in runs if r.variant == v] for v in VARIANTS}
    print(
        f"\n{'variant':<13} {'pages':>5} {'pages/s (wall)':>20} {'pages/s (fetching)':>20}"
        f" {'crawler CPU ms/page':>20} {'Redis CPU ms/page':>18} {'nginx CPU ms/page':>18}"
        f" {'Redis cmds/page':>16}"
    )
    for variant, mine in by_variant.items():
        if not mine:
            continue
        print(
            f"{variant:<13} {mine[0].pages:>5} {spread([r.pages_per_s for r in mine]):>20}"
            f" {spread([r.span_pages_per_s for r in mine]):>20}"
            f" {spread([r.cpu_ms_per_page for r in mine], 2):>20}"
            f" {spread([r.per_page(r.redis_cpu) for r in mine], 2):>18}"
            f" {spread([r.per_page(r.nginx_cpu) for r in mine], 2):>18}"
            f" {spread([r.redis_commands / r.pages for r in mine]):>16}"
        )
    print("   (median of the runs, min–max in brackets; Redis commands include those its scripts run)")

    def med(variant: str, value) -> float:
        return median([value(r) for r in by_variant[variant]])

    for top, bottom in RATIOS:
        if by_variant[top] and by_variant[bottom]:
            wall, span, cpu = (
                med(top, f) / med(bottom, f)
                for f in (lambda r: r.pages_per_s, lambda r: r.span_pages_per_s, lambda r: r.cpu_ms_per_page)
            )
            print(
                f"{top} / {bottom}: pages/s {wall:.2f}x (wall), {span:.2f}x (fetching);"
                f" crawler CPU per page {cpu:.2f}x"
            )
    if by_variant["two+redis"] and by_variant["single"]:
        # Two processes on this machine's cores also feed Redis and nginx: the most they can reach.
        total = med("two+redis", lambda r: r.per_page(r.cpu + r.redis_cpu + r.nginx_cpu))
        ceiling = (os.cpu_count() or 1) * 1000 / total
        single = med("single", lambda r: r.pages_per_s)
        print(
            f"two+redis uses {total:.2f} CPU ms/page in all (crawlers, Redis, nginx): at most"
            f" {ceiling:.0f} pages/s on {os.cpu_count()} CPUs, {ceiling / single:.2f}x single's pages/s"
        )
    print(
        f"machine: two CPU-bound processes ran {spread(scaling, 2)}x one alone"
        " (the most two crawl processes could gain then)"
    )
    print("aim: two+redis >= 1.7x single (pages/s); single+redis close to single")
    print(f"({load()})")


def main(argv: list[str] | None = None) -> list[Run]:
    parser = crawl_arguments(__doc__, runs=2)
    parser.add_argument("--timeout", type=float, default=3600, help="seconds allowed per run")
    args = parser.parse_args(argv)
    runs: list[Run] = []
    scaling: list[float] = []
    with tempfile.TemporaryDirectory(prefix="bench-scale-") as tmp:
        work = Path(tmp)
        site, nginx = serve_site(work / "site", args.pages)
        (work / "sites.toml").write_text(sites_toml(site))
        header(
            "scale-out benchmark",
            site=f"{site.pages} HTML pages at {site.base_url}",
            runs=f"{args.runs} of each of {', '.join(VARIANTS)}, alternating",
            settings=f"per process {SETTINGS}",
        )
        with nginx, private_redis(work / "redis") as redis_url:
            for number in range(args.runs):
                scaling.append(machine_scaling())
                print(f"round {number + 1}: two CPU-bound processes ran {scaling[-1]:.2f}x one; {load()}")
                for variant in VARIANTS:
                    run = run_variant(variant, work, redis_url, nginx, args.timeout)
                    runs.append(run)
                    print(
                        f"run {number + 1} {variant:<13} {run.pages:>6} pages {run.wall:6.1f} s"
                        f" {run.pages_per_s:6.1f} pages/s ({run.span_pages_per_s:6.1f} fetching)"
                        f" {run.cpu_ms_per_page:5.2f} CPU ms/page, Redis {run.redis_commands} commands"
                        f" {run.per_page(run.redis_cpu):.2f} CPU ms/page; {load()}",
                        flush=True,
                    )
                    for n, process in enumerate(run.processes, 1):
                        print(f"      process {n}: {process}", flush=True)
        report(runs, scaling)
    return runs


if __name__ == "__main__":
    main()
