"""Scale-out: crawl speed with 1 and 2 processes sharing a Redis frontier (``--redis``).

    .venv/bin/python -m bench.scale --pages 2000 --runs 2

Generates the news site of bench/site.py (articles from ../shared/corpus when present,
else tests/corpus), serves it with nginx on 127.0.0.1, starts a private redis-server, and
runs, alternating, in fresh processes and data dirs (Redis emptied before each run):

- ``single``: one ``newsarchive crawl``, no Redis: the baseline;
- ``single+redis``: the same with ``--redis``: what the shared frontier costs;
- ``two+redis``: two ``newsarchive crawl --redis`` processes started together; pages/s is
  all their responses over the time until the last one exits.

Every process has bench/crawl.py's settings (16 concurrent requests, no delay), so two
processes are what adding a machine gives. Prints pages/s, CPU ms per page and the
ratios against ``single``, with the machine's load average (others' work skews them).
"""

from __future__ import annotations

import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import redis

from bench.common import PYTHON, CrawlRun, check, crawl_arguments, header, load, median, run_measured, spread
from bench.crawl import SETTINGS, _settings_args, _stats, sites_toml
from bench.site import serve_site
from tests.test_distributed import private_redis

VARIANTS = {"single": (1, False), "single+redis": (1, True), "two+redis": (2, True)}


@dataclass
class Run(CrawlRun):
    split: str  # each process's pages and wall time


def run_variant(variant: str, work: Path, redis_url: str, timeout: float) -> Run:
    processes, use_redis = VARIANTS[variant]
    if use_redis:
        redis.Redis.from_url(redis_url).flushdb()  # else the next run knows every article already
    data_dirs = [Path(tempfile.mkdtemp(prefix=f"{variant}-", dir=work)) for _ in range(processes)]
    commands = []
    for data in data_dirs:
        command = [PYTHON, "-m", "archive", "crawl", "--sites", work / "sites.toml", "--data", data]
        command += _settings_args(SETTINGS) + (["--redis", redis_url] if use_redis else [])
        commands.append(command)
    started = time.monotonic()
    with ThreadPoolExecutor(processes) as pool:
        measured = list(pool.map(lambda c: check(run_measured(c, timeout), variant), commands))
    wall = time.monotonic() - started
    each = []
    for data, result in zip(data_dirs, measured, strict=True):
        log = result.stderr + "".join(p.read_text() for p in (data / "logs").glob("*.log"))
        each.append((int(_stats(log).get("response_received_count", 0)), result.wall))
    split = ", ".join(f"{pages} in {seconds:.1f} s" for pages, seconds in each)
    return Run(variant, sum(p for p, _ in each), wall, sum(m.cpu for m in measured), split)


def report(runs: list[Run]) -> None:
    base = median([r.pages_per_s for r in runs if r.variant == "single"])
    base_cpu = median([r.cpu_ms_per_page for r in runs if r.variant == "single"])
    print("\nvariant        pages   pages/s (median, min-max)  CPU ms/page   x single   CPU x single")
    for variant in VARIANTS:
        mine = [r for r in runs if r.variant == variant]
        if not mine:
            continue
        speed, cpu = median([r.pages_per_s for r in mine]), median([r.cpu_ms_per_page for r in mine])
        print(
            f"{variant:<13} {mine[0].pages:>6}   {spread([r.pages_per_s for r in mine]):>24}"
            f"  {cpu:11.2f}   {speed / base:7.2f}x   {cpu / base_cpu:11.2f}x"
        )
    print(f"({load()})")


def main(argv: list[str] | None = None) -> list[Run]:
    parser = crawl_arguments(__doc__, runs=2)
    parser.add_argument("--timeout", type=float, default=3600, help="seconds allowed per run")
    args = parser.parse_args(argv)
    runs: list[Run] = []
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
                for variant in VARIANTS:
                    run = run_variant(variant, work, redis_url, args.timeout)
                    runs.append(run)
                    print(
                        f"run {number + 1} {variant:<13} {run.pages:>6} pages {run.wall:7.1f} s"
                        f" {run.pages_per_s:7.1f} pages/s {run.cpu_ms_per_page:6.2f} CPU ms/page"
                        f" ({run.split}); {load()}",
                        flush=True,
                    )
        report(runs)
    return runs


if __name__ == "__main__":
    main()
