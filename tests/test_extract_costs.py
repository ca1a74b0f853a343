"""What ``extract`` costs beyond extraction itself (issue 20): a second extract that finds
nothing new loads no extraction stack and starts no worker, and every run can say where
its time went (``NEWSARCHIVE_TIMINGS``, read by bench/extract.py)."""

from __future__ import annotations

import gzip
import json
import os
import sqlite3
import subprocess
import sys

import pytest

from archive.demo.site import CORPUS_DIR
from archive.warc.writer import WarcWriter
from tests.helpers.cli import newsarchive
from tests.helpers.warc import exchange

# What an extract with nothing new to read has no use for (~1.5 s of start-up together).
NOT_NEEDED = ("trafilatura", "datasketch", "pandas", "numpy", "htmldate", "justext")

PROBE = """
import json, multiprocessing, sys
from archive.cli import main
try:
    main(sys.argv[1:])
except SystemExit:
    pass
print(json.dumps({"modules": sorted(sys.modules), "children": len(multiprocessing.active_children())}))
"""


@pytest.fixture
def extracted(tmp_path):
    """A data dir whose WARC (three real pages) is already extracted."""
    writer = WarcWriter(tmp_path / "warc", warcinfo={"operator": "tests"})
    for n, page in enumerate(sorted((CORPUS_DIR / "pages").glob("*.html.gz"))[:3]):
        writer.write_exchange(exchange(n, gzip.decompress(page.read_bytes())))
    writer.close()
    newsarchive("extract", data=tmp_path)
    return tmp_path


@pytest.mark.parametrize("workers", ["1", "2"])
def test_a_second_extract_loads_no_extraction_stack_and_starts_no_worker(extracted, workers):
    result = subprocess.run(
        [sys.executable, "-c", PROBE, "extract", "--workers", workers, "--data", str(extracted)],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    assert "extract: 0 records" in result.stdout
    seen = json.loads(result.stdout.splitlines()[-1])
    loaded = {name.split(".")[0] for name in seen["modules"]}
    assert loaded & set(NOT_NEEDED) == set()
    assert not any(name.startswith("archive.extract.article") for name in seen["modules"])


def test_numpy_and_pandas_still_import_after_the_store(extracted):
    """The store loads sqlite-utils without them; code that needs them later gets them."""
    code = "import archive.store.db, numpy, pandas; print(numpy.zeros(2).sum(), pandas.__name__)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0 and result.stdout.split() == ["0.0", "pandas"], result.stderr


@pytest.mark.parametrize("workers", ["1", "2"])
def test_extract_writes_where_its_time_went_when_asked(tmp_path, workers):
    writer = WarcWriter(tmp_path / "warc", warcinfo={"operator": "tests"})
    for n, page in enumerate(sorted((CORPUS_DIR / "pages").glob("*.html.gz"))[:4]):
        writer.write_exchange(exchange(n, gzip.decompress(page.read_bytes())))
    writer.close()
    timings = tmp_path / "timings.json"
    env = {**os.environ, "NEWSARCHIVE_TIMINGS": str(timings)}
    argv = [sys.executable, "-m", "archive", "extract", "--workers", workers, "--data", str(tmp_path)]
    subprocess.run(argv, env=env, capture_output=True, text=True, timeout=180, check=True)
    figures = json.loads(timings.read_text())
    seconds, counts = figures["seconds"], figures["counts"]
    assert counts["decode"] == counts["extract"] == 4 and counts["workers"] == int(workers)
    for stage in ("read", "decode", "extract", "store", "store: captures", "copies: fingerprints (MinHash)"):
        assert seconds[stage] >= 0, stage
    assert seconds["extract"] > seconds["decode"] > 0  # measured where the pages ran, workers included
    if workers == "2":
        assert "wait for workers" in seconds
    articles = sqlite3.connect(tmp_path / "news.db").execute("SELECT count(*) FROM articles").fetchone()[0]
    assert articles >= 1
