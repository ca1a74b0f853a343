"""Search ranks by relevance, a title match above text matches (issue 19, "search that
reads well"): the canned *Search articles* query and the articles page's own ``_search``,
checked on the real ``newsarchive serve``."""

from __future__ import annotations

import json
import re
import urllib.parse
import urllib.request

import pytest

from tests.helpers.search import IN_TEXT, IN_TITLE, QUERY, add_two_matches, copy_store
from tests.helpers.serve import running_server


@pytest.fixture(scope="module")
def ranked(serve_store, tmp_path_factory):
    data = copy_store(serve_store, tmp_path_factory.mktemp("rank") / "data")
    add_two_matches(data / "news.db")
    with running_server(data) as base:
        yield base


def _get(url: str) -> str:
    with urllib.request.urlopen(url, timeout=30) as response:
        return response.read().decode()


def test_search_ranks_a_title_match_first_and_shows_the_passage(ranked):
    url = f"{ranked}/news/search_articles.json?" + urllib.parse.urlencode({"q": QUERY, "_shape": "array"})
    rows = json.loads(_get(url))
    assert [row["article_id"] for row in rows] == [IN_TITLE[0], IN_TEXT[0]]
    assert "<mark>zorblat</mark>" in rows[0]["snippet"].lower()


def test_articles_page_search_ranks_by_relevance_with_passage_and_facets(ranked):
    html = _get(f"{ranked}/news/articles?" + urllib.parse.urlencode({"_search": QUERY}))
    titles = re.findall(r'<a class="article-title" href="[^"]*">(.*?)</a>', html, re.S)
    plain = [re.sub(r"</?mark>", "", title) for title in titles]
    assert plain == [IN_TITLE[1], IN_TEXT[1]]  # both words in the title beat both words, often, in the text
    assert titles[0] == "<mark>Zorblat</mark> <mark>quennic</mark> talks resume"
    passages = re.findall(r'<p class="article-passage">(.*?)</p>', html, re.S)
    assert "<mark>zorblat</mark>" in passages[0] and not passages[0].startswith(
        "<mark>Zorblat</mark> <mark>q"
    )
    assert "2 rows" in html and "best matches first" in html and "sorted by published" not in html
    for facet in ("site", "language", "published"):  # Datasette's facets, over the same rows
        assert f'data-column="{facet}"' in html
    assert (
        '<a href="http://' not in html.split('class="article-list')[1].split("</ol>")[0]
    )  # no wide URL columns


def test_ranked_search_keeps_the_facet_filters(ranked):
    html = _get(f"{ranked}/news/articles?" + urllib.parse.urlencode({"_search": QUERY, "site": "nowhere"}))
    assert "article-title" not in html and "No article matches." in html
    # the search form sends the default sort back: still ranked
    query = urllib.parse.urlencode({"_search": QUERY, "_sort_desc": "published"})
    html = _get(f"{ranked}/news/articles?{query}")
    assert "best matches first" in html and "ranked-results" in html
    html = _get(f"{ranked}/news/articles?" + urllib.parse.urlencode({"_search": QUERY, "_order": "newest"}))
    assert "sorted by published descending" in html and "ranked-results" not in html  # Datasette's order


def test_month_facet_selects_a_month(ranked):
    page = json.loads(_get(f"{ranked}/news/articles.json?_shape=objects"))
    months = page["facet_results"]["published"]["results"]
    assert months and all(re.fullmatch(r"\d{4}-\d\d", m["value"]) for m in months)
    assert [m["value"] for m in months] == sorted((m["value"] for m in months), reverse=True)
    chosen = next(m for m in months if m["value"] == "2024-05")
    narrowed = json.loads(_get(chosen["toggle_url"]))
    assert narrowed["filtered_table_rows_count"] == chosen["count"] >= 2
    assert all(row["published"].startswith("2024-05") for row in narrowed["rows"])


def test_wide_table_and_column_descriptions_are_one_click_away(ranked):
    html = _get(f"{ranked}/news/articles")
    help_block = html.split('<details class="column-help">')[1].split("</details>")[0]
    assert "First 16 hex digits of the SHA-256 of the canonical URL" in help_block
    assert 'class="rows-and-columns"' not in html  # a list to read by default
    wide = _get(f"{ranked}/news/articles?_layout=table")
    assert 'class="rows-and-columns"' in wide and 'td class="col-url' in wide
    picked = _get(f"{ranked}/news/articles?_col=title&_col=url")
    assert 'class="rows-and-columns"' in picked
