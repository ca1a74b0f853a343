"""Speed-ups of ``extract`` that must not change a stored value (issue 20): fingerprints made
as each batch is stored (while the workers extract the next pages) are the settle pass's
own, the faster word split is ``WORD``'s, and the faster text patterns of ``prose`` and of the
page-type features match where the plain case-insensitive ones do."""

from __future__ import annotations

import gzip
import random
import re
import sqlite3

from archive.demo.site import CORPUS_DIR
from archive.document import _CJK, WORD, words
from archive.extract import pagetype, signals
from archive.store.copies import fingerprint_articles
from archive.store.db import Store
from archive.store.ingest import ingest
from archive.store.settle import _add_fingerprints
from archive.store.timings import TIMINGS
from archive.warc.writer import WarcWriter
from tests.helpers.warc import exchange

STORED = "SELECT text_hash, params, body_hash, minhash FROM fingerprints ORDER BY text_hash"


def _archive(data, pages: int = 3) -> None:
    writer = WarcWriter(data / "warc", warcinfo={"operator": "tests"})
    for n, page in enumerate(sorted((CORPUS_DIR / "pages").glob("*.html.gz"))[:pages]):
        writer.write_exchange(exchange(n, gzip.decompress(page.read_bytes())))
    writer.close()


def test_fingerprints_are_made_as_batches_are_stored_and_are_settles_own(tmp_path):
    _archive(tmp_path)
    ingest(tmp_path, show_progress=False)
    assert TIMINGS.seconds["store: fingerprints (MinHash)"] > 0  # made in the batches, not by settle
    db_path = tmp_path / "news.db"
    made = sqlite3.connect(db_path).execute(STORED).fetchall()
    assert made and all(minhash for *_, minhash in made)

    store = Store(db_path)  # the settle pass's own, made afresh from the same texts
    store.db.execute("DELETE FROM fingerprints")
    _add_fingerprints(store)
    assert store.db.execute(STORED).fetchall() == made
    ids = [row[0] for row in store.db.execute("SELECT id FROM articles")]
    fingerprint_articles(store.db.conn, ids)  # every text has one: nothing made again
    assert store.db.execute(STORED).fetchall() == made
    store.close()


def test_word_split_is_words_for_every_character():
    """``words`` takes a faster pattern for a text without CJK: the same words for any character."""
    cjk = re.compile(f"[{_CJK}]")
    for point in range(0x110000):
        char = chr(point)
        if cjk.match(char):
            continue
        text = f"a{char}b {char}"
        assert words(text) == WORD.findall(text), hex(point)
    mixed = "Peking 北京 said: ｆｕｌｌ-width, naïve café, 東京タワー and a_b 12.5"
    assert words(mixed) == WORD.findall(mixed)


def test_any_case_words_match_as_re_ignorecase_does():
    """signals' word patterns, written for speed, find the spans ``\\b(...)\\b`` under re.I finds,
    the letters re.I folds beyond ASCII (İ ı ſ K) included."""
    rng = random.Random(20)
    pieces = ["i", "I", "İ", "ı", "'m", "’", "'ve", "ſaid", "SAID", "you're", "YOUR", "us", "Our", "we", "me",
              "my", "Sept", "september", "juNe", "according to", "aug", "augusts", "K", "x", "_", "1", "é",
              "add to cart", "Our Team", "sign up", "replied", "Quote", "ſhipping", "Members",
              " ", ".", "\n"]  # fmt: skip
    texts = ["".join(rng.choice(pieces) for _ in range(rng.randint(1, 12))) for _ in range(4000)]
    for words_of_pattern, pattern in [
        (("jan(uary)?", "feb(ruary)?", "march", "april", "june", "july", "aug(ust)?", "sept?(ember)?",
          "oct(ober)?", "nov(ember)?", "dec(ember)?"), signals.MONTH),
        (("said", "says", "told", "according to", "reported", "announced"), signals.SAID),
        (("we", "our", "us"), signals.WE),
        (("you", "your", "you're"), signals.YOU),
        (("i", "my", "me", "i'm", "i've"), signals.SELF),
        (("pricing", "add to (cart|basket)", "buy now", "free trial", "sign up", "get started",
          "book (a demo|now)", "contact us", "request a quote",
          "our (services|team|clients|customers|solutions)", "in stock", "shipping"), pagetype.COMMERCE),
        (("reply", "replies", "replied", "posted", "joined", "quote", "thread", "views", "upvotes?",
          "members?"), pagetype.FORUM_WORDS),
    ]:  # fmt: skip
        plain = re.compile(rf"\b({'|'.join(words_of_pattern)})\b", re.I)
        for text in texts:
            spans = [m.span() for m in pattern.finditer(text)]
            assert spans == [m.span() for m in plain.finditer(text)], text
