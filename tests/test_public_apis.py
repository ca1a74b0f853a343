"""Components meet through Scrapy's public APIs, and the crawler imports cheaply.

The one private Scrapy attribute still used (the engine's heartbeat interval) is checked
here, so a Scrapy upgrade that removes it fails a test rather than slowing the fleet.
"""

from __future__ import annotations

import ast
import inspect
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
from scrapy.core.engine import ExecutionEngine
from scrapy.crawler import Crawler, CrawlerRunner
from scrapy.utils.test import get_crawler

from crawler.distributed import set_engine_heartbeat
from crawler.index import EXTENSION_PATH, ArchiveIndexExtension, archive_index
from crawler.runner import crawl_settings
from crawler.spiders.news import NewsSpider

ROOT = Path(__file__).resolve().parent.parent

# The extraction stack and what it pulls in: `newsarchive crawl` has no use for them.
HEAVY = {"trafilatura", "extruct", "rdflib", "htmldate", "datasketch", "scipy", "numpy"}


def test_scrapy_engine_still_has_the_heartbeat_interval_the_fleet_shortens():
    assert isinstance(ExecutionEngine._SLOT_HEARTBEAT_INTERVAL, float)
    # ...and still reads it when it starts its heartbeat (after the scheduler is built).
    assert "self._SLOT_HEARTBEAT_INTERVAL" in inspect.getsource(ExecutionEngine._start_request_processing)


def test_the_fleet_fails_loudly_if_the_heartbeat_interval_is_gone():
    engine = SimpleNamespace(_SLOT_HEARTBEAT_INTERVAL=5.0)
    set_engine_heartbeat(engine, 0.25)
    assert engine._SLOT_HEARTBEAT_INTERVAL == 0.25
    with pytest.raises(RuntimeError, match="no _SLOT_HEARTBEAT_INTERVAL"):
        set_engine_heartbeat(SimpleNamespace(), 0.25)


def test_the_public_apis_used_exist():
    assert isinstance(ExecutionEngine.scheduler, property)  # InflightMiddleware finds the scheduler
    assert callable(Crawler.get_extension)  # components find the archive index


def test_the_spider_enables_the_archive_index_even_when_extensions_are_replaced(tmp_path):
    sites = tmp_path / "sites.toml"
    sites.write_text('[[sites]]\nname = "x"\nstart_urls = ["http://127.0.0.1:9/"]\n')
    runner = CrawlerRunner(crawl_settings(tmp_path, {"EXTENSIONS": "{}"}))  # `-s EXTENSIONS={}`
    # As in run_crawl: a Crawler handed back to the runner gets the runner's settings again.
    crawler = runner.create_crawler(runner.create_crawler(NewsSpider))
    NewsSpider.from_crawler(crawler, sites=str(sites))  # as Crawler.crawl does, before the extensions
    assert crawler.settings.get_component_priority_dict_with_base("EXTENSIONS")[EXTENSION_PATH] == 0


def test_the_archive_index_is_one_extension_built_on_first_use(tmp_path):
    crawler = get_crawler(
        settings_dict={"EXTENSIONS": {EXTENSION_PATH: 0}, "NEWSARCHIVE_DATA": str(tmp_path)}
    )
    extension = crawler.get_extension(ArchiveIndexExtension)
    assert extension is not None
    assert "index" not in vars(extension)  # no scan of the archive until a component asks
    index = archive_index(crawler)
    assert index is archive_index(crawler) and len(index) == 0


def test_without_the_extension_the_archive_index_is_a_clear_error():
    with pytest.raises(RuntimeError, match="EXTENSIONS must enable crawler.index.ArchiveIndexExtension"):
        archive_index(get_crawler())


def test_archive_never_imports_the_crawler():
    """Only the CLI may: the archive must be usable without Scrapy."""
    offenders = []
    for path in sorted((ROOT / "archive").rglob("*.py")):
        if path.parent == ROOT / "archive" / "cli":  # the CLI wires both
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                names = [node.module or ""]
            else:
                continue
            offenders += [f"{path.relative_to(ROOT)}: {n}" for n in names if n.split(".")[0] == "crawler"]
    assert offenders == []


def test_importing_the_crawler_does_not_load_the_extraction_stack():
    code = (
        "import crawler.spiders.news, crawler.runner, crawler.middlewares, crawler.settings; "
        "import sys; print(sorted(sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT, timeout=60
    )
    loaded = {name.split(".")[0] for name in ast.literal_eval(result.stdout)}
    assert loaded & HEAVY == set()
