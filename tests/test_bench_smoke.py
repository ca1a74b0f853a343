"""The benchmarks run end to end at a tiny size and print their figures (no timing asserted).

A benchmark that no longer runs is found here, not on the day someone needs its figures.
Their speed is measured by running them (bench/README.md), never asserted in a test.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.slow  # each runs a benchmark end to end in processes of its own


def require_nginx() -> None:
    """The crawl benchmark serves its site with nginx: a missing one fails, never skips."""
    assert shutil.which("nginx") or Path("/usr/sbin/nginx").exists(), (
        "nginx is not installed: `make test` installs it (tools/system-packages.txt)"
    )


def bench(*args: str | Path, timeout: int = 300) -> str:
    result = subprocess.run(
        [sys.executable, "-m", *map(str, args)], cwd=REPO, capture_output=True, text=True, timeout=timeout
    )
    assert result.returncode == 0, f"{args} exited {result.returncode}\n{result.stdout}\n{result.stderr}"
    return result.stdout


def test_crawl_bench_runs_every_variant_and_prints_ratios(tmp_path):
    require_nginx()
    out = bench("bench.crawl", "--pages", 30, "--runs", 1, "--keep", tmp_path / "kept")
    for variant in ("baseline", "newsarchive", "no-archive"):
        assert f"run 1 {variant}" in out
    assert "newsarchive / baseline pages/s:" in out
    assert "archiving costs" in out
    assert "load average" in out
    assert list((tmp_path / "kept" / "warc").glob("*.warc.gz"))


def test_extract_bench_reads_a_crawl_and_prints_ratios():
    require_nginx()
    # --compare-tree: the repository against itself, which must store the same rows
    out = bench("bench.extract", "--pages", 30, "--runs", 1, "--compare-tree", REPO)
    for name in ("bare", "bare-2", "paired-bare", "paired-1", "respelled", "extract-1", "extract-2", "again"):
        assert f"run 1 {name} " in out
    assert "per-doc cost extract-1 / bare:" in out
    assert "2 workers / 1 worker docs/s:" in out
    assert "2 bare loops at once / 1 docs/s:" in out
    assert "side by side, extract-1 / bare:" in out
    assert "bare with respelled expressions / bare:" in out
    assert "extract-1 over trafilatura as it runs it" in out
    assert "second extract:" in out
    assert "extract-2 store the same as the extract-1 store" in out
    assert "is identical to this tree's" in out and "DIFFERENT" not in out
    for stage in ("start-up and exit", "read (WARC", "decode (body", "extract (examine_page)"):
        assert stage in out
    assert "store: captures" in out
    assert "FTS index of the texts" in out and "copies: fingerprints (MinHash) (settle)" in out
    assert "workers idle" in out and "load average" in out


def test_store_bench_times_fts_and_serve(tmp_path):
    out = bench("bench.store", "--articles", 300, "--repeat", 2, "--store", tmp_path)
    assert "300 articles" in out
    assert "FTS rare" in out and "FTS common" in out
    for page in ("articles table page", "search 'quokkaburg'", "one article"):
        assert f"serve {page}" in out
