"""Each command imports what it uses when it runs: `newsarchive --help` and `stats` load
none of the crawl or extraction stack (a second of start-up for nothing)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from archive.store.db import Store

HEAVY = ("scrapy", "twisted", "trafilatura", "lxml", "extruct", "datasketch", "htmldate", "rdflib")

# Runs the CLI in a fresh interpreter, then prints the modules it loaded.
PROBE = """
import json, sys
from archive.cli import main
try:
    main(sys.argv[1:])
except SystemExit:
    pass
print(json.dumps(sorted(sys.modules)))
"""


def loaded_by(*args: str) -> set[str]:
    result = subprocess.run(
        [sys.executable, "-c", PROBE, *args], capture_output=True, text=True, check=True, timeout=60
    )
    return {name.split(".")[0] for name in json.loads(result.stdout.splitlines()[-1])}


@pytest.mark.parametrize("args", [["--help"], ["extract", "--help"], ["crawl", "--help"]])
def test_help_loads_no_heavy_module(args):
    assert loaded_by(*args) & set(HEAVY) == set()


def test_stats_loads_no_heavy_module(tmp_path):
    Store(tmp_path / "news.db").close()
    (tmp_path / "warc").mkdir()
    assert loaded_by("stats", "--data", str(tmp_path)) & set(HEAVY) == set()
