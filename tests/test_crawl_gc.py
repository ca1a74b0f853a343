"""The crawl process freezes what start-up loaded, so full collections skip it."""

from __future__ import annotations

import gc
import json
import logging

from scrapy import signals

from tests.helpers.cli import FAST, newsarchive

logger = logging.getLogger(__name__)


class FreezeProbe:
    """An extension that logs how many objects are frozen when the spider opens."""

    @classmethod
    def from_crawler(cls, crawler) -> FreezeProbe:
        probe = cls()
        crawler.signals.connect(probe.spider_opened, signal=signals.spider_opened)
        return probe

    def spider_opened(self, spider) -> None:
        logger.info("objects frozen at spider open: %d", gc.get_freeze_count())


def test_start_up_objects_are_frozen_during_the_crawl(news_site, tmp_path):
    sites = tmp_path / "sites.toml"
    sites.write_text(news_site.sites_toml())
    probe = json.dumps({"tests.test_crawl_gc.FreezeProbe": 0})
    newsarchive("crawl", "--sites", sites, *FAST, "-s", f"EXTENSIONS={probe}", data=tmp_path)
    log = "".join(p.read_text() for p in (tmp_path / "logs").glob("*-crawl.log"))
    frozen = int(log.split("objects frozen at spider open: ")[1].split()[0])
    assert frozen > 50_000  # Scrapy, Twisted, lxml... (about 120,000 objects)
