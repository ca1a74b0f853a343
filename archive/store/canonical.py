"""Copies that name another site's article as their canonical URL.

``examine_page`` trusts a canonical URL only on the page's own site; a page naming a
foreign one keeps its own URL as id and canonical URL, and the claim as ``claims_canonical``.
Such a page is a syndicated copy (or a hostile one): it is marked ``duplicate_of`` the
article of that canonical when the store holds it. ``settle`` finds copies by text and
rewrites ``duplicate_of`` from scratch, so this runs after it, every time.
"""

from __future__ import annotations

from archive.document import article_id
from archive.store.db import Store


def mark_foreign_copies(store: Store) -> int:
    """Point each foreign-canonical copy at its canonical's article; returns how many."""
    held = dict(store.db.execute("SELECT id, duplicate_of FROM articles").fetchall())
    changes: list[tuple[str | None, str]] = []
    for id_, claimed, was in store.db.execute(
        "SELECT id, claims_canonical, duplicate_of FROM articles WHERE claims_canonical IS NOT NULL"
    ).fetchall():
        original = article_id(claimed)
        if original == id_ or original not in held:
            continue
        if original != was:
            changes.append((original, id_))
        if held[original] == id_:  # the text pass took the copy for the original
            changes.append((None, original))
    store.db.conn.executemany("UPDATE articles SET duplicate_of = ? WHERE id = ?", changes)
    return len({id_ for _, id_ in changes})
