"""Shared fixtures: the loopback news site and the crawls of it that several modules read.

Helpers (the CLI, ports, pages) are in tests/helpers/. A crawl fixture shared here is only
read by the tests that use it: a test that changes an archive works on a copy of it.
"""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from archive.demo.site import NewsSite
from tests.helpers.cli import FAST, newsarchive
from tests.helpers.pages import BAD_SITE, add_bad_pages
from tests.helpers.serve import build_store


@pytest.fixture(scope="session")
def news_site():
    """One loopback site for the session: tests add pages under paths of their own and look
    at what it served after a mark (``len(news_site.served())``), never at all of it."""
    site = NewsSite()
    with site:
        add_bad_pages(site)
        yield site


@pytest.fixture(scope="session")
def routes_crawl(news_site, tmp_path_factory):
    """One site per discovery route plus the bad pages, crawled once and extracted."""
    data = tmp_path_factory.mktemp("routes")
    sites = data / "sites.toml"
    sites.write_text(news_site.sites_toml(per_route=True, extra=BAD_SITE.format(base=news_site.base)))
    mark = len(news_site.served())
    crawl = newsarchive("crawl", "--sites", sites, *FAST, data=data, check=False)
    served = news_site.served()[mark:]
    extract = newsarchive("extract", data=data)
    return SimpleNamespace(data=data, sites=sites, crawl=crawl, extract=extract, served=served)


@pytest.fixture(scope="session")
def serve_store(news_site, tmp_path_factory):
    """The store ``newsarchive serve`` is tested on (tests/helpers/serve.py), built once."""
    return build_store(news_site, tmp_path_factory.mktemp("serve"))


@pytest.fixture(scope="session")
def rotated_crawl(news_site, tmp_path_factory):
    """The loopback site crawled once into many small WARC files (100 kB each, about 9)."""
    data = tmp_path_factory.mktemp("rotated")
    sites = data / "sites.toml"
    sites.write_text(news_site.sites_toml())
    newsarchive("crawl", "--sites", sites, *FAST, "-s", "WARC_MAX_SIZE=100000", data=data)
    return SimpleNamespace(data=data, sites=sites)
