"""The settle pass: what is worked out from the whole store after its articles change.

Copies of a story (copies.py) and site boilerplate (boilerplate.py) depend on each other:
copies count once in the boilerplate model, and removing boilerplate can make two texts
copies. ``settle`` runs both, in that order, as the last step of every ``extract`` and
``merge``, so that both give the same store.
"""

from __future__ import annotations

from archive.document import text_hash
from archive.store.boilerplate import remove_boilerplate
from archive.store.copies import FINGERPRINT_PARAMS, Fingerprint, find_duplicates, keep_fingerprints
from archive.store.db import Store
from archive.store.timings import TIMINGS

FINGERPRINT_PAGE = 200  # articles whose texts are read at once to fingerprint them


def settle(store: Store) -> int:
    """Mark copies, clean boilerplate, and mark copies again where cleaning changed texts.

    Skipped when no article changed since it last ran (a cron run that found nothing new
    then costs nothing per article held). Returns how many articles are copies.
    """
    if not store.settle_pending:
        return store.db.execute("SELECT count(*) FROM articles WHERE duplicate_of IS NOT NULL").fetchone()[0]
    duplicates = mark_duplicates(store)
    with TIMINGS.stage("boilerplate: cleaning"):
        cleaned = remove_boilerplate(store)
    if cleaned:  # texts changed: copies may have become visible
        duplicates = mark_duplicates(store)
    store.mark_settled()
    return duplicates


def mark_duplicates(store: Store) -> int:
    """Point every exact or near copy at the earliest article of its story, NULL for the
    others; returns how many are copies.

    Hashing is the costly part, so fingerprints are kept in the store: made only for texts
    that have none yet (new or changed articles) and dropped with the last article of
    their text. The comparison is redone over all of them, and only rows whose value
    changes are written.
    """
    with TIMINGS.stage("copies: fingerprints (MinHash)"):
        _add_fingerprints(store)
    with TIMINGS.stage("copies: comparison (LSH)"):
        return _compare(store)


def _compare(store: Store) -> int:
    articles = store.db.conn.execute(
        """
        SELECT a.id, f.body_hash, f.minhash
        FROM articles a JOIN fingerprints f ON f.text_hash = a.text_hash
        ORDER BY a.first_seen, a.id
        """
    )
    duplicate_of = find_duplicates((row[0], Fingerprint.stored(row[1], row[2])) for row in articles)
    current = dict(store.db.execute("SELECT id, duplicate_of FROM articles").fetchall())
    changes = [(duplicate_of.get(i), i) for i, was in current.items() if duplicate_of.get(i) != was]
    store.db.conn.executemany("UPDATE articles SET duplicate_of = ? WHERE id = ?", changes)
    store.db.execute(
        "DELETE FROM fingerprints WHERE NOT EXISTS"
        " (SELECT 1 FROM articles a WHERE a.text_hash = fingerprints.text_hash)"
    )
    return len(duplicate_of)


def _add_fingerprints(store: Store) -> None:
    """Fingerprint the texts that have none (with the current parameters), a page of
    articles at a time so that a first extract does not hold every text at once."""
    last = 0
    while True:
        missing = store.db.execute(
            """
            SELECT rowid, id, text, text_hash FROM articles a WHERE rowid > ? AND NOT EXISTS
                (SELECT 1 FROM fingerprints f WHERE f.text_hash = a.text_hash AND f.params = ?)
            ORDER BY rowid LIMIT ?
            """,
            [last, FINGERPRINT_PARAMS, FINGERPRINT_PAGE],
        ).fetchall()
        if not missing:
            return
        last = missing[-1][0]
        made = set()
        for _, article_id, text, stored_hash in missing:
            key = text_hash(text)
            if key != stored_hash:  # a row of an older store without (or with a stale) text_hash
                store.db.execute("UPDATE articles SET text_hash = ? WHERE id = ?", [key, article_id])
            if key in made:  # the same text twice
                continue
            made.add(key)
            fingerprint = Fingerprint.of(text)
            keep_fingerprints(store.db.conn, [(key, fingerprint.body_hash, fingerprint.minhash_bytes())])
