"""`newsarchive report`: the articles-per-day-per-site chart, why captures were not articles,
duplicates, and changed articles (issue 19)."""

from __future__ import annotations

import html
import sqlite3

from lxml import etree

from tests.helpers.cli import newsarchive
from tests.helpers.versions import HOSTILE_VERSION_TITLE, store_with_versions


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


def test_report_shows_why_captures_were_not_articles_duplicates_and_changes(serve_store, tmp_path):
    data = store_with_versions(serve_store, tmp_path / "data")
    newsarchive("report", data=data)
    page = (data / "report.html").read_text()
    db = sqlite3.connect(data / "news.db")
    captures = db.execute("SELECT count(*) FROM captures").fetchone()[0]
    reasons = dict(
        db.execute("SELECT not_article, count(*) FROM captures WHERE not_article != '' GROUP BY 1")
    )
    duplicates = db.execute("SELECT count(*) FROM articles WHERE duplicate_of IS NOT NULL").fetchone()[0]
    articles = db.execute("SELECT count(*) FROM articles").fetchone()[0]
    db.close()
    section = page.split("<h2>Captures that were not articles</h2>")[1].split("<h2>")[0]
    assert f"{sum(reasons.values())} of {captures} captures" in section
    for reason, n in reasons.items():
        assert f"<tr><th>{reason}</th><td>{n}</td>" in section
    section = page.split("<h2>Duplicates</h2>")[1].split("<h2>")[0]
    assert duplicates > 0 and f"{duplicates} of {articles} articles" in section
    section = page.split("<h2>Changed articles</h2>")[1]
    assert "1 article changed after" in section
    assert html.escape(HOSTILE_VERSION_TITLE) in section and "<script>alert" not in page
    assert '<td class="added">+29</td><td class="removed">&minus;6</td>' in section
    assert "<script" not in page
