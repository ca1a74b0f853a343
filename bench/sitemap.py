"""How long the spider takes over one big sitemap and one big feed (issue 17, item 8).

A sitemap of N URLs (50,000 is the protocol's maximum; 1,000,000 is what a hostile or
broken site serves) and an RSS feed of N items, every tenth URL listed twice and every
fifth with tracking parameters, go through the spider's own callbacks (``parse_sitemap``,
``parse_feed``: parsing, cleaning, de-duplication, the site's rules, one ``Request`` per
article) in this process, no network. Time and peak RSS are printed per size; linear
handling shows as a flat CPU-µs-per-entry column.

    .venv/bin/python -m bench.sitemap --urls 50000 --urls 1000000

Self-contained (only ``crawler`` is imported), so the same file times another checkout:
``PYTHONPATH=/path/to/checkout .venv/bin/python bench/sitemap.py --urls 50000``.
"""

from __future__ import annotations

import argparse
import os
import resource
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from scrapy import Request
from scrapy.http import XmlResponse
from scrapy.utils.reactor import install_reactor
from scrapy.utils.test import get_crawler

from crawler.runner import crawl_settings
from crawler.spiders.news import NewsSpider

BASE = "https://news.test"


def article_urls(count: int) -> Iterator[str]:
    """``count`` entries: about 10% repeats and 20% with tracking parameters."""
    for i in range(count):
        n = i - 1 if i % 10 == 9 else i
        tracking = "?utm_source=feed&utm_medium=rss" if i % 5 == 0 else ""
        yield f"{BASE}/2026/11/{n:07d}/a-story-of-the-day-number-{n}{tracking}"


def sitemap(count: int) -> bytes:
    entries = "".join(
        f"<url><loc>{url.replace('&', '&amp;')}</loc><lastmod>2026-11-02</lastmod></url>"
        for url in article_urls(count)
    )
    return f'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{entries}</urlset>'.encode()


def feed(count: int) -> bytes:
    items = "".join(
        f"<item><title>t</title><link>{url.replace('&', '&amp;')}</link></item>"
        for url in article_urls(count)
    )
    return f'<rss version="2.0"><channel><title>f</title>{items}</channel></rss>'.encode()


def spider(directory: Path) -> NewsSpider:
    sites = directory / "sites.toml"
    sites.write_text(
        f'[[sites]]\nname = "big"\nsitemaps = ["{BASE}/sitemap.xml"]\nfeeds = ["{BASE}/feed.xml"]\n'
    )
    settings = crawl_settings(directory / "data")
    install_reactor(settings["TWISTED_REACTOR"])  # a crawler is set up against one (not run here)
    crawler = get_crawler(NewsSpider, dict(settings.items()))
    return NewsSpider.from_crawler(crawler, sites=str(sites))


def timed(callback: Callable, url: str, body: bytes, kind: str) -> tuple[float, float, int]:
    """Wall and CPU seconds and requests of one callback over ``body``, the requests consumed
    one by one as Scrapy does (CPU time is the figure other work on the machine skews least)."""
    request = Request(url, meta={"site": "big", "kind": kind, "link_depth": 0})
    response = XmlResponse(url, body=body, request=request)
    started, cpu = time.perf_counter(), time.process_time()
    count = sum(1 for _ in callback(response))
    return time.perf_counter() - started, time.process_time() - cpu, count


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--urls", type=int, action="append", help="entries per document (repeatable)")
    args = parser.parse_args()
    print(f"load average {os.getloadavg()[0]:.2f}")
    columns = {"entries": 9, "MB": 6, "requests": 9, "wall s": 8, "CPU s": 8, "CPU µs/entry": 13, "RSS MB": 7}
    print(f"{'document':<8} " + " ".join(f"{name:>{width}}" for name, width in columns.items()))
    with tempfile.TemporaryDirectory() as directory:
        news = spider(Path(directory))
        for count in args.urls or [50_000]:
            for name, body, callback, url in (
                ("sitemap", sitemap(count), news.parse_sitemap, f"{BASE}/sitemap.xml"),
                ("feed", feed(count), news.parse_feed, f"{BASE}/feed.xml"),
            ):
                seconds, cpu, requests = timed(callback, url, body, name)
                peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # the process's, so far
                print(
                    f"{name:<8} {count:>9,} {len(body) / 1e6:>6.1f} {requests:>9,} {seconds:>8.2f} "
                    f"{cpu:>8.2f} {cpu / count * 1e6:>13.1f} {peak:>7.0f}"
                )


if __name__ == "__main__":
    main()
