"""The store phase of ``extract`` made cheaper without changing a stored value (issue 20):
LSH bands and rows given as datasketch chooses them, and versions counting no word that
extract counted already."""

from __future__ import annotations

import gzip
import sqlite3

from archive.demo.site import CORPUS_DIR
from archive.store.copies import LSH_PARAMS, NEAR_DUPLICATE_JACCARD, NUM_PERM
from archive.store.ingest import ingest
from archive.store.versions import body_words
from archive.warc.writer import WarcWriter
from tests.helpers.warc import exchange


def test_lsh_params_are_the_ones_datasketch_chooses():
    from datasketch import MinHashLSH

    lsh = MinHashLSH(threshold=NEAR_DUPLICATE_JACCARD, num_perm=NUM_PERM)
    assert (lsh.b, lsh.r) == LSH_PARAMS


def test_version_word_counts_are_their_texts_body_words(tmp_path):
    """Versions take an extracted text's word count from its article row: the same count."""
    writer = WarcWriter(tmp_path / "warc", warcinfo={"operator": "tests"})
    for n, page in enumerate(sorted((CORPUS_DIR / "pages").glob("*.html.gz"))[:3]):
        writer.write_exchange(exchange(n, gzip.decompress(page.read_bytes())))
    writer.close()
    ingest(tmp_path, show_progress=False)
    rows = (
        sqlite3.connect(tmp_path / "news.db")
        .execute(
            "SELECT v.text, v.word_count, a.word_count FROM article_versions v"
            " JOIN articles a ON a.id = v.article_id"
        )
        .fetchall()
    )
    assert rows
    assert all(version == article == body_words(text) for text, version, article in rows)
