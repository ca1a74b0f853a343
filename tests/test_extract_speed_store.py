"""Fingerprints made faster stay datasketch's own (archive/store/copies.py, issue 20): a store
made before keeps its fingerprints, and copies are found as before."""

from __future__ import annotations

import lxml.html
from datasketch import LeanMinHash, MinHash

from archive.document import WORD
from archive.store.copies import MIN_WORDS_FOR_NEAR, NUM_PERM, SHINGLE_WORDS, Fingerprint, signature
from tests.helpers.pages import ROWS, corpus_page


def datasketch_signature(body: str) -> LeanMinHash | None:
    """The MinHash as datasketch makes it: ``update_batch`` over the shingles' bytes."""
    words = [w.casefold() for w in WORD.findall(body)]
    if len(words) < MIN_WORDS_FOR_NEAR:
        return None
    minhash = MinHash(num_perm=NUM_PERM)
    shingles = range(len(words) - SHINGLE_WORDS + 1)
    minhash.update_batch([" ".join(words[i : i + SHINGLE_WORDS]).encode() for i in shingles])
    return LeanMinHash(minhash)


def test_signatures_are_datasketchs():
    bodies = [lxml.html.fromstring(corpus_page(page_id)).text_content() for page_id in sorted(ROWS)[:6]]
    bodies += ["中文新闻报道" * 20, "word " * (MIN_WORDS_FOR_NEAR - 1), ""]
    for body in bodies:
        ours, theirs = Fingerprint(None, signature(body)), Fingerprint(None, datasketch_signature(body))
        assert ours.minhash_bytes() == theirs.minhash_bytes()
    assert signature("word " * (MIN_WORDS_FOR_NEAR - 1)) is None
