"""Each story once: exact copies (same text) and near copies (a wire story on two sites).

A syndicated story keeps its paragraphs but gets another headline, byline or footer, so
copies are found on the body alone: the same text hash, or word-shingle sets whose
MinHash estimate of Jaccard similarity reaches NEAR_DUPLICATE_JACCARD (datasketch's LSH
finds the candidates without comparing every pair). A copy points at the earliest
article of its story (first fetch, then id), which is never itself a copy.

Hashing a body's shingles is the costly part, so a body's fingerprint (its hash and
MinHash) is kept by the store and made once per text (settle.py); the comparison in
story order is redone over the fingerprints on every run.
"""

from __future__ import annotations

import hashlib
import sqlite3
import struct
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING

from archive.document import words as words_of

if TYPE_CHECKING:  # datasketch imports scipy (~0.5 s of start-up): the functions that need it load it
    from datasketch import LeanMinHash

NEAR_DUPLICATE_JACCARD = 0.8
NUM_PERM = 128
SHINGLE_WORDS = 5
# Below this many words two different briefs can share most of their shingles.
MIN_WORDS_FOR_NEAR = 50
# Stored fingerprints made with other parameters are made again.
FINGERPRINT_PARAMS = (
    f"minhash {NUM_PERM} perm, {SHINGLE_WORDS}-word shingles, from {MIN_WORDS_FOR_NEAR} words"
)
# The (bands, rows) datasketch's MinHashLSH chooses for NEAR_DUPLICATE_JACCARD and NUM_PERM
# (tests/test_store_phase_cost.py checks it), given so that it does not integrate its false
# positive and negative rates over every choice again in each run.
LSH_PARAMS = (9, 13)
FINGERPRINT_INSERT = (
    "INSERT OR REPLACE INTO fingerprints (text_hash, params, body_hash, minhash) VALUES (?, ?, ?, ?)"
)


def body_of(document: str) -> str:
    """The document without its headline."""
    return document.partition("\n\n")[2]


@cache
def _permutations() -> object:
    """datasketch's permutations for NUM_PERM (seed 1), made once: ``MinHash()`` draws them
    again on every call, 14% of a fingerprint."""
    from datasketch import MinHash

    return MinHash(num_perm=NUM_PERM).permutations


def signature(body: str) -> LeanMinHash | None:
    """MinHash of the body's word 5-grams (case folded); None for a body too short to judge.

    The same MinHash as ``MinHash(num_perm=NUM_PERM).update_batch(shingles)``
    (tests/test_extract_speed_store.py): its ``sha1_hash32`` (the first 4 bytes of each
    shingle's SHA-1, little-endian) taken here in one ``struct.unpack`` instead of one call
    a shingle, and its permutations made once (``_permutations``).
    """
    from datasketch import LeanMinHash, MinHash

    words = [w.casefold() for w in words_of(body)]
    if len(words) < MIN_WORDS_FOR_NEAR:
        return None
    count = len(words) - SHINGLE_WORDS + 1
    digests = b"".join(
        hashlib.sha1(" ".join(words[i : i + SHINGLE_WORDS]).encode()).digest()[:4] for i in range(count)
    )
    minhash = MinHash(num_perm=NUM_PERM, permutations=_permutations(), scheme="affine32", hashfunc=int)
    minhash.update_batch(struct.unpack(f"<{count}I", digests))
    return LeanMinHash(minhash)


@dataclass(frozen=True)
class Fingerprint:
    """What duplicate detection needs of a document: its body's hash and MinHash."""

    body_hash: str | None  # None for an empty body, which is nobody's copy
    minhash: LeanMinHash | None

    @classmethod
    def of(cls, document: str) -> Fingerprint:
        body = body_of(document)
        return cls(hashlib.sha256(body.encode("utf-8")).hexdigest() if body else None, signature(body))

    def minhash_bytes(self) -> bytes | None:
        """The MinHash in datasketch's own byte format, for the store."""
        if self.minhash is None:
            return None
        buffer = bytearray(self.minhash.bytesize())
        self.minhash.serialize(buffer)
        return bytes(buffer)

    @classmethod
    def stored(cls, body_hash: str | None, minhash: bytes | None) -> Fingerprint:
        if minhash is None:
            return cls(body_hash, None)
        from datasketch import LeanMinHash

        return cls(body_hash, LeanMinHash.deserialize(minhash))


def keep_fingerprints(conn: sqlite3.Connection, made: Iterable[tuple[str, str | None, bytes | None]]) -> None:
    """Store fingerprints made with the current parameters: ``(text_hash, body_hash,
    minhash bytes)`` each (``Fingerprint.of``'s, as ``minhash_bytes`` gives them)."""
    rows = [(key, FINGERPRINT_PARAMS, body, minhash) for key, body, minhash in made]
    conn.executemany(FINGERPRINT_INSERT, rows)


def fingerprint_articles(conn: sqlite3.Connection, ids: list[str]) -> None:
    """Fingerprint the texts of these articles that have no fingerprint yet, each text once.

    ``extract`` calls it as it stores each batch, so the MinHashes are made while the
    worker processes extract the next pages, not one after another once they are done
    (settle.py then finds them made: it makes only those of texts changed since).
    """
    if not ids:
        return
    marks = ",".join("?" * len(ids))
    texts = conn.execute(
        f"SELECT DISTINCT text_hash, text FROM articles a WHERE id IN ({marks}) AND NOT EXISTS"
        " (SELECT 1 FROM fingerprints f WHERE f.text_hash = a.text_hash AND f.params = ?)",
        [*ids, FINGERPRINT_PARAMS],
    ).fetchall()
    made = [(key, *_stored_form(Fingerprint.of(text))) for key, text in texts]
    keep_fingerprints(conn, made)


def _stored_form(fingerprint: Fingerprint) -> tuple[str | None, bytes | None]:
    return fingerprint.body_hash, fingerprint.minhash_bytes()


def find_duplicates(articles: Iterable[tuple[str, Fingerprint]]) -> dict[str, str]:
    """``{copy id: original id}`` for ``(id, fingerprint)`` pairs given oldest first."""
    from datasketch import MinHashLSH

    originals_by_body: dict[str, str] = {}
    signatures: dict[str, LeanMinHash] = {}
    order: dict[str, int] = {}  # originals with a MinHash, oldest first
    lsh = MinHashLSH(threshold=NEAR_DUPLICATE_JACCARD, num_perm=NUM_PERM, params=LSH_PARAMS)
    duplicate_of: dict[str, str] = {}
    for article_id, fingerprint in articles:
        body_hash, minhash = fingerprint.body_hash, fingerprint.minhash
        if body_hash in originals_by_body:
            duplicate_of[article_id] = originals_by_body[body_hash]
            continue
        if minhash is not None:
            # LSH candidates are probable; the estimate decides. Earliest original wins.
            close = [
                c for c in lsh.query(minhash) if signatures[c].jaccard(minhash) >= NEAR_DUPLICATE_JACCARD
            ]
            if close:
                duplicate_of[article_id] = min(close, key=order.__getitem__)
                continue
            lsh.insert(article_id, minhash)
            signatures[article_id] = minhash
            order[article_id] = len(order)
        if body_hash is not None:
            originals_by_body[body_hash] = article_id
    return duplicate_of
