"""Site boilerplate learned from the archive: paragraphs a site repeats on many of its pages.

House ads ("Support us on Patreon!"), author blurbs, newsletter prompts and "Read more"
lines pass any single-page extractor, because on one page they look like text. Across a
site's pages they give themselves away: the same paragraph, verbatim, under different
stories. Every article's paragraphs are recorded per site (``site_blocks``, from the
text as extracted, so the model survives cleaning), and a paragraph found in at least
MIN_PAGES different stories of a site is removed from that site's documents. Copies of
one story (``duplicate_of``) count once, so a wire story run twice does not make its own
paragraphs boilerplate; and a cleaning that would take more than MAX_REMOVED_SHARE of an
article's words is not applied (that is a story, not a footer). The model grows with the
archive; ``extract --rebuild`` learns it anew from the WARCs.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

from archive.document import text_hash, word_count
from archive.store.db import Store
from archive.store.timings import TIMINGS

MIN_PAGES = 3
MAX_REMOVED_SHARE = 0.5


def block_key(block: str) -> str:
    return hashlib.sha256(block.encode("utf-8")).hexdigest()[:16]


def record_blocks(store: Store, articles: Iterable[dict]) -> None:
    """Remember which paragraphs these articles of their sites had as extracted."""
    with TIMINGS.stage("store: boilerplate blocks"):
        _record_blocks(store, articles)


def _record_blocks(store: Store, articles: Iterable[dict]) -> None:
    store.db.conn.executemany(
        "INSERT OR IGNORE INTO site_blocks (site, block, article_id) VALUES (?, ?, ?)",
        (
            (article["site"], block_key(block), article["id"])
            for article in articles
            if article.get("site")
            for block in article["text"].split("\n\n")[1:]
        ),
    )


def learned(store: Store) -> dict[str, set[str]]:
    """Per site, the keys of paragraphs seen in at least MIN_PAGES different stories."""
    rows = store.db.execute(
        """
        SELECT b.site, b.block FROM site_blocks b JOIN articles a ON a.id = b.article_id
        GROUP BY b.site, b.block HAVING count(DISTINCT coalesce(a.duplicate_of, a.id)) >= ?
        """,
        [MIN_PAGES],
    )
    model: dict[str, set[str]] = {}
    for site, block in rows:
        model.setdefault(site, set()).add(block)
    return model


def clean_document(document: str, boilerplate: set[str]) -> str:
    """``document`` without its boilerplate paragraphs (the headline always stays)."""
    headline, *blocks = document.split("\n\n")
    kept = [b for b in blocks if block_key(b) not in boilerplate]
    if len(kept) == len(blocks):
        return document
    removed_words = word_count(" ".join(blocks)) - word_count(" ".join(kept))
    if removed_words > MAX_REMOVED_SHARE * word_count(" ".join(blocks)):
        return document
    return "\n\n".join([headline, *kept])


def remove_boilerplate(store: Store) -> int:
    """Apply the current model to every article that holds a boilerplate paragraph; returns
    how many documents changed."""
    changed = 0
    for site, boilerplate in learned(store).items():
        marks = ",".join("?" * len(boilerplate))
        rows = store.db.execute(
            f"""
            SELECT id, text FROM articles WHERE site = ? AND id IN (
                SELECT article_id FROM site_blocks WHERE site = ? AND block IN ({marks}))
            """,
            [site, site, *boilerplate],
        ).fetchall()
        for article_id, text in rows:
            cleaned = clean_document(text, boilerplate)
            if cleaned != text:
                body = cleaned.partition("\n\n")[2]
                store.db.execute(
                    "UPDATE articles SET text = ?, text_hash = ?, word_count = ? WHERE id = ?",
                    [cleaned, text_hash(cleaned), word_count(body), article_id],
                )
                changed += 1
    return changed
