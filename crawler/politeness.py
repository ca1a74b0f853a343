"""robots.txt ``Crawl-delay``, applied.

Scrapy (2.18+) parses ``Crawl-delay`` and announces each parsed robots.txt with the
``robots_parsed`` signal, but leaves applying it to the project. This component sets the
host's download slot delay to it (capped by ``CRAWL_DELAY_MAX``) and keeps AutoThrottle
from lowering that delay for the host's requests.
"""

from __future__ import annotations

import logging

from scrapy import Request, signals
from scrapy.crawler import Crawler
from scrapy.robotstxt import RobotParser

logger = logging.getLogger(__name__)


class RobotsCrawlDelayMiddleware:
    """Downloader middleware (after RobotsTxtMiddleware) that honours Crawl-delay."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        settings = crawler.settings
        self.user_agent = settings.get("ROBOTSTXT_USER_AGENT") or settings.get("USER_AGENT")
        self.max_delay = settings.getfloat("CRAWL_DELAY_MAX")
        self.delays: dict[str, float] = {}  # download slot -> Crawl-delay
        crawler.signals.connect(self.robots_parsed, signal=signals.robots_parsed)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RobotsCrawlDelayMiddleware:
        return cls(crawler)

    def robots_parsed(self, robotparser: RobotParser, request: Request) -> None:
        delay = robotparser.crawl_delay(self.user_agent)
        if not delay:
            return
        downloader = self.crawler.engine.downloader
        key = downloader.get_slot_key(request)
        delay = min(delay, self.max_delay)
        self.delays[key] = delay
        downloader.per_slot_settings.setdefault(key, {})["delay"] = delay
        if key in downloader.slots:
            downloader.slots[key].delay = max(downloader.slots[key].delay, delay)
        self.crawler.stats.set_value(f"newsarchive/crawl_delay/{key}", delay)
        logger.info("robots.txt of %s asks for Crawl-delay %s s: applied", key, delay)

    def process_request(self, request: Request) -> None:
        if self.delays and self.crawler.engine.downloader.get_slot_key(request) in self.delays:
            request.meta["autothrottle_dont_adjust_delay"] = True
