"""`newsarchive report`: the articles-per-day-per-site chart."""

from __future__ import annotations

import sqlite3

from lxml import etree

from tests.helpers.cli import newsarchive


def test_report_charts_every_non_duplicate_article(routes_crawl):
    data = routes_crawl.data  # the session's crawl of every route, extracted (conftest.py)
    result = newsarchive("report", "--days", "3660", data=data)
    page = (data / "report.html").read_text()
    db = sqlite3.connect(data / "news.db")
    total = db.execute(
        "SELECT count(*) FROM articles WHERE duplicate_of IS NULL"
        " AND substr(coalesce(published, first_seen), 1, 10)"
        " >= (SELECT date(max(substr(coalesce(published, first_seen), 1, 10)), '-3659 days') FROM articles)"
    ).fetchone()[0]
    assert f"report: {total} articles charted" in result.stdout
    svg = etree.fromstring(page[page.index("<svg") : page.index("</svg>") + 6].encode())
    bars = svg.findall("{http://www.w3.org/2000/svg}rect")
    counts = [int(bar.findtext("{http://www.w3.org/2000/svg}title").rsplit(": ", 1)[1]) for bar in bars]
    assert sum(counts) == total and total > 0
    for site in ("links", "rss", "atom", "sitemap", "robots"):
        assert f"{site} (" in page
    assert "<script" not in page


def test_report_without_a_store_is_a_clear_error(tmp_path):
    result = newsarchive("report", data=tmp_path, check=False)
    assert result.returncode == 3 and "no store at" in result.stderr
