"""Two articles that match the same two-word search, one with both words in its title and
one that repeats them in its text only: bm25 with the title weighted must rank the first
first, FTS5's plain rank the second (issue 19)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

QUERY = "zorblat quennic"  # two words no corpus page has
IN_TITLE = ("rank-title", "Zorblat quennic talks resume")
IN_TEXT = ("rank-text", "Weather for the week")
TEXTS = {
    "rank-title": "Zorblat quennic talks resume\n\nOfficials met on Monday to discuss the zorblat "
    "and the quennic. Other matters filled the rest of a long day, from budgets to roads and sport.",
    "rank-text": "Weather for the week\n\nzorblat quennic zorblat quennic zorblat quennic. "
    "The zorblat quennic went on.",
}


def add_two_matches(db_path: Path) -> None:
    """Insert both articles into the store at ``db_path`` (site ``rank``; the FTS triggers index
    them) and check that FTS5's unweighted rank puts the text-only one first."""
    db = sqlite3.connect(db_path)
    for article_id, title in (IN_TITLE, IN_TEXT):
        db.execute(
            "INSERT INTO articles (id, url, canonical_url, site, title, text, published)"
            " VALUES (?, ?, ?, 'rank', ?, ?, '2024-05-01')",
            (
                article_id,
                f"http://127.0.0.1:1/{article_id}",
                f"http://127.0.0.1:1/{article_id}",
                title,
                TEXTS[article_id],
            ),
        )
    db.commit()
    plain = [
        row[0]
        for row in db.execute(
            "SELECT a.id FROM articles_fts JOIN articles a ON a.rowid = articles_fts.rowid "
            "WHERE articles_fts MATCH ? ORDER BY rank",
            (QUERY,),
        )
    ]
    db.close()
    assert plain == ["rank-text", "rank-title"]


def copy_store(serve_store: Path, data: Path) -> Path:
    """A copy of the session's store (shared: never changed in place) in ``data``."""
    data.mkdir(parents=True, exist_ok=True)
    source, copy = sqlite3.connect(serve_store / "news.db"), sqlite3.connect(data / "news.db")
    source.backup(copy)
    source.close()
    copy.close()
    return data
