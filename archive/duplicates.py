"""Each story once: exact copies (same text) and near copies (a wire story on two sites).

A syndicated story keeps its paragraphs but gets another headline, byline or footer, so
copies are found on the body alone: the same text hash, or word-shingle sets whose
MinHash estimate of Jaccard similarity reaches NEAR_DUPLICATE_JACCARD (datasketch's LSH
finds the candidates without comparing every pair). A copy points at the earliest
article of its story (first fetch, then id), which is never itself a copy.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

from datasketch import MinHash, MinHashLSH

from archive.document import WORD

NEAR_DUPLICATE_JACCARD = 0.8
NUM_PERM = 128
SHINGLE_WORDS = 5
# Below this many words two different briefs can share most of their shingles.
MIN_WORDS_FOR_NEAR = 50


def body_of(document: str) -> str:
    """The document without its headline."""
    return document.partition("\n\n")[2]


def signature(body: str) -> MinHash | None:
    """MinHash of the body's word 5-grams (case folded); None for a body too short to judge."""
    words = [w.casefold() for w in WORD.findall(body)]
    if len(words) < MIN_WORDS_FOR_NEAR:
        return None
    minhash = MinHash(num_perm=NUM_PERM)
    minhash.update_batch(
        [" ".join(words[i : i + SHINGLE_WORDS]).encode() for i in range(len(words) - SHINGLE_WORDS + 1)]
    )
    return minhash


def find_duplicates(articles: Iterable[tuple[str, str]]) -> dict[str, str]:
    """``{copy id: original id}`` for ``(id, document)`` pairs given oldest first."""
    originals_by_body: dict[str, str] = {}
    signatures: dict[str, MinHash] = {}
    lsh = MinHashLSH(threshold=NEAR_DUPLICATE_JACCARD, num_perm=NUM_PERM)
    duplicate_of: dict[str, str] = {}
    for article_id, document in articles:
        body = body_of(document)
        body_hash = hashlib.sha256(body.encode("utf-8")).hexdigest()
        if body and body_hash in originals_by_body:
            duplicate_of[article_id] = originals_by_body[body_hash]
            continue
        minhash = signature(body)
        if minhash is not None:
            # LSH candidates are probable; the estimate decides. Earliest original wins.
            close = [
                c for c in lsh.query(minhash) if signatures[c].jaccard(minhash) >= NEAR_DUPLICATE_JACCARD
            ]
            if close:
                duplicate_of[article_id] = min(close, key=list(signatures).index)
                continue
            lsh.insert(article_id, minhash)
            signatures[article_id] = minhash
        if body:
            originals_by_body[body_hash] = article_id
    return duplicate_of
