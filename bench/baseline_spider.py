"""The baseline: Scrapy's own CrawlSpider following every link of the site, archiving nothing.

Run by ``bench/crawl.py`` with ``scrapy runspider bench/baseline_spider.py -a start=URL``.
"""

from __future__ import annotations

from scrapy.linkextractors import LinkExtractor
from scrapy.spiders import CrawlSpider, Rule


class BareCrawlSpider(CrawlSpider):
    name = "bare"
    allowed_domains = ["127.0.0.1"]
    rules = (Rule(LinkExtractor(), follow=True),)

    def __init__(self, start: str, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.start_urls = [start]
