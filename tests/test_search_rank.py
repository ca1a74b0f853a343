"""The canned *Search articles* query ranks by relevance, a title match above text matches
(issue 19, "search that reads well"): checked on the real ``newsarchive serve``."""

from __future__ import annotations

import json
import sqlite3
import urllib.parse
import urllib.request

from tests.helpers.serve import running_server

QUERY = "zorblat quennic"  # two words no corpus page has
IN_TITLE = ("rank-title", "Zorblat quennic talks resume")
IN_TEXT = ("rank-text", "Weather for the week")
TEXTS = {
    "rank-title": "Zorblat quennic talks resume\n\nOfficials met on Monday to discuss the zorblat "
    "and the quennic. Other matters filled the rest of a long day, from budgets to roads and sport.",
    "rank-text": "Weather for the week\n\nzorblat quennic zorblat quennic zorblat quennic. "
    "The zorblat quennic went on.",
}


def _store_with_two_matches(serve_store, tmp_path):
    """A copy of the session's store (shared: never changed in place) with one article that has
    both words in its title and one that repeats them in its text only."""
    data = tmp_path / "data"
    data.mkdir()
    source, copy = sqlite3.connect(serve_store / "news.db"), sqlite3.connect(data / "news.db")
    source.backup(copy)
    source.close()
    for article_id, title in (IN_TITLE, IN_TEXT):
        copy.execute(
            "INSERT INTO articles (id, url, canonical_url, site, title, text) VALUES (?, ?, ?, 'rank', ?, ?)",
            (
                article_id,
                f"http://127.0.0.1:1/{article_id}",
                f"http://127.0.0.1:1/{article_id}",
                title,
                TEXTS[article_id],
            ),
        )
    copy.commit()
    # FTS5's rank weighs title and text alike: the text that repeats the words comes first
    plain = [
        row[0]
        for row in copy.execute(
            "SELECT a.id FROM articles_fts JOIN articles a ON a.rowid = articles_fts.rowid "
            "WHERE articles_fts MATCH ? ORDER BY rank",
            (QUERY,),
        )
    ]
    copy.close()
    assert plain == ["rank-text", "rank-title"]
    return data


def test_search_ranks_a_title_match_first_and_shows_the_passage(serve_store, tmp_path):
    data = _store_with_two_matches(serve_store, tmp_path)
    with running_server(data) as base:
        url = f"{base}/news/search_articles.json?" + urllib.parse.urlencode({"q": QUERY, "_shape": "array"})
        with urllib.request.urlopen(url, timeout=30) as response:
            rows = json.load(response)
    assert [row["article_id"] for row in rows] == ["rank-title", "rank-text"]
    assert "<mark>zorblat</mark>" in rows[0]["snippet"].lower()
