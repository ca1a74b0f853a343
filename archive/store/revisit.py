"""Revisit records and 304s: each revisit's original capture, and the article seen again.

A revisit (a crawler's "not modified" or "same payload as before") stores no body of its
own; replay and the capture view serve its original's, and the article made from that
original was still there at the revisit's date. A 304 answer to a conditional request
says the same of the article at its URL.
"""

from __future__ import annotations

from archive.store.db import Store
from archive.warc.reader import WarcRecord


def resolve_revisits(store: Store, revisits: list[tuple[dict, WarcRecord]]) -> None:
    """Each revisit's original capture (by ``WARC-Refers-To``, else by payload digest, the
    same URL first), and the article made from it seen again: ``last_seen`` moves on."""
    for row, record in revisits:
        original = (
            store.db.execute(
                "SELECT id, url FROM captures WHERE id = ?", [record.headers.get("WARC-Refers-To") or ""]
            ).fetchone()
            or store.db.execute(
                "SELECT id, url FROM captures WHERE payload_digest = ? AND record_type IS NOT 'revisit'"
                " ORDER BY url = ? DESC, fetched_at LIMIT 1",
                [row["payload_digest"], record.headers.get("WARC-Refers-To-Target-URI") or record.url],
            ).fetchone()
        )
        if original is None:
            continue
        store.db.execute("UPDATE captures SET refers_to = ? WHERE id = ?", [original[0], row["id"]])
        store.db.execute(
            "UPDATE articles SET last_seen = ? WHERE (capture_id = ? OR url = ?) AND last_seen < ?",
            [record.date, original[0], original[1], record.date],
        )


def seen_unchanged(store: Store, captures: list[dict]) -> None:
    """A 304 of an article's URL (a conditional revisit answered "not modified") shows the
    article still there at its date: ``last_seen`` moves on. An article read only later
    counts the 304 when its versions are derived (versions.py)."""
    store.db.conn.executemany(
        "UPDATE articles SET last_seen = ?1 WHERE last_seen < ?1 AND id IN"
        " (SELECT article_id FROM captures WHERE url = ?2 AND article_id IS NOT NULL)",
        [(row["fetched_at"], row["url"]) for row in captures if row["status"] == 304],
    )
