"""What every benchmark shares: the corpus, running a command measured, and reporting.

The benchmarks read ``../shared/corpus`` (388 real news pages) when it is there and fall
back to the 26 pages bundled in ``archive/demo/corpus`` otherwise; each prints which it used.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SHARED_CORPUS = REPO.parent / "shared" / "corpus"
BUNDLED_CORPUS = REPO / "archive" / "demo" / "corpus"
PYTHON = sys.executable
LAUNCHER = Path(__file__).resolve().parent / "launch.py"  # by path: some commands run outside the repo


@dataclass
class CorpusPage:
    id: str
    url: str  # where the page was published: its relative links are made absolute against it
    html: bytes


def corpus_dir() -> Path:
    return SHARED_CORPUS if (SHARED_CORPUS / "manifest.jsonl").exists() else BUNDLED_CORPUS


def load_corpus(min_size: int = 0, max_size: int = 1 << 30) -> tuple[Path, list[CorpusPage]]:
    """Real pages whose HTML size is within the bounds (all of them if none is)."""
    directory = corpus_dir()
    pages = []
    with open(directory / "manifest.jsonl", encoding="utf-8") as fh:
        for line in fh:
            entry = json.loads(line)
            html = gzip.decompress((directory / "pages" / f"{entry['id']}.html.gz").read_bytes())
            pages.append(CorpusPage(entry["id"], entry["url"], html))
    sized = [p for p in pages if min_size <= len(p.html) <= max_size]
    return directory, sized or pages


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Measured:
    """One command's wall time, CPU time (user + system, its children included) and peak RSS."""

    wall: float
    cpu: float
    max_rss_mb: float
    returncode: int
    stdout: str
    stderr: str


def run_measured(
    command: Sequence[str], timeout: float, env: dict | None = None, cwd: Path = REPO
) -> Measured:
    """Run ``command`` and read its own resource usage (not the session's).

    It runs under ``bench/launch.py``, which reads ``wait4``'s figures for it: CPU time
    includes its descendants (extract's worker processes), and ``ru_maxrss`` is the largest
    RSS of the process or of any descendant it waited for, without the floor that starting
    it straight from this process would set (see ``bench/launch.py``).
    """
    started = time.monotonic()
    with (
        tempfile.TemporaryFile() as out,
        tempfile.TemporaryFile() as err,
        tempfile.NamedTemporaryFile(suffix=".json") as usage_file,
    ):
        launcher = [PYTHON, str(LAUNCHER), usage_file.name, *map(str, command)]
        proc = subprocess.Popen(
            launcher,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=err,
            env=env,
            cwd=cwd,
            start_new_session=True,
        )
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)  # the launcher and the command it runs
            proc.wait()
            raise RuntimeError(
                f"{' '.join(map(str, command[:4]))} took more than {timeout}s: stopped"
            ) from None
        wall = time.monotonic() - started
        usage = json.loads(Path(usage_file.name).read_text() or "{}")
        out.seek(0)
        err.seek(0)
        return Measured(
            wall=wall,
            cpu=usage.get("cpu", 0.0),
            max_rss_mb=usage.get("max_rss_kb", 0) / 1024,
            returncode=proc.returncode,
            stdout=out.read().decode(errors="replace"),
            stderr=err.read().decode(errors="replace"),
        )


def check(measured: Measured, what: str) -> Measured:
    if measured.returncode != 0:
        raise RuntimeError(
            f"{what} exited {measured.returncode}:\n{measured.stdout[-2000:]}\n{measured.stderr[-4000:]}"
        )
    return measured


def load() -> str:
    """The machine's load average: other work on the machine skews every figure."""
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f} {five:.2f} {fifteen:.2f} on {os.cpu_count()} CPUs"


def median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else float("nan")


def spread(values: Sequence[float], digits: int = 1) -> str:
    """``median (min–max)`` of a set of runs."""
    if not values:
        return "-"
    return f"{median(values):.{digits}f} ({min(values):.{digits}f}–{max(values):.{digits}f})"


def header(title: str, **facts: object) -> None:
    print(f"== {title}")
    print(f"   {load()}; corpus {corpus_dir()}")
    for key, value in facts.items():
        print(f"   {key}: {value}")


@dataclass
class CrawlRun:
    """One timed crawl: what every crawl benchmark reports per run."""

    variant: str
    pages: int
    wall: float
    cpu: float

    @property
    def pages_per_s(self) -> float:
        return self.pages / self.wall

    @property
    def cpu_ms_per_page(self) -> float:
        return 1000 * self.cpu / self.pages


def crawl_arguments(doc: str | None, runs: int) -> argparse.ArgumentParser:
    """The options every crawl benchmark takes: site size and runs per variant."""
    parser = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pages", type=int, default=2000, help="articles on the generated site")
    parser.add_argument("--runs", type=int, default=runs, help="runs of each variant (alternating)")
    return parser
