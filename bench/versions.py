"""What keeping versions costs ``extract``: the store's work per article capture.

    .venv/bin/python -m bench.versions --articles 5000

Stores synthetic articles (texts of 300-600 words of the corpus's own vocabulary) the way
``extract`` does, in batches of 200 (``Store.add_captures``, ``add_articles``,
``versions.record_captures``), three times: first captures, captures again with the same
text, and captures with an edited text (a paragraph added, a word changed), and prints the
seconds per 1,000 captures of the article upserts and of the versions, with the versions
made.
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
from pathlib import Path

from archive.document import text_hash
from archive.store.db import Store
from archive.store.versions import record_captures

BATCH = 200


def _texts(articles: int, seed: int = 7) -> list[str]:
    rng = random.Random(seed)
    words = [f"w{n}" for n in range(5000)]
    texts = []
    for n in range(articles):
        paragraphs = [" ".join(rng.choices(words, k=rng.randint(40, 80))) for _ in range(rng.randint(5, 9))]
        texts.append("\n\n".join([f"Headline number {n}", *paragraphs]))
    return texts


def _edit(text: str) -> str:
    headline, *paragraphs = text.split("\n\n")
    paragraphs[1] = paragraphs[1].replace(paragraphs[1].split()[3], "corrected", 1)
    return "\n\n".join([headline, *paragraphs, "A paragraph added later, with more of what was said."])


def _round(store: Store, texts: list[str], day: int) -> tuple[float, float]:
    upserts = versions = 0.0
    when = f"2026-11-{day:02d}T08:00:00Z"
    for start in range(0, len(texts), BATCH):
        captures, rows = [], []
        for n, text in enumerate(texts[start : start + BATCH], start):
            capture = f"<urn:bench:{day}:{n}>"
            url = f"http://bench.test/{n}"
            captures.append({"id": capture, "url": url, "status": 200, "fetched_at": when})
            rows.append(
                {
                    "id": f"{n:016x}",
                    "url": f"http://bench.test/{n}",
                    "title": text.partition("\n\n")[0],
                    "text": text,
                    "text_hash": text_hash(text),
                    "first_seen": when,
                    "last_seen": when,
                    "capture_id": capture,
                }
            )
        with store.db.atomic():
            store.add_captures(captures)
            started = time.perf_counter()
            store.add_articles(rows)
            upserts += time.perf_counter() - started
            started = time.perf_counter()
            record_captures(store, rows)
            versions += time.perf_counter() - started
    return upserts, versions


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=5000)
    args = parser.parse_args()
    texts = _texts(args.articles)
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(Path(tmp) / "news.db")
        per = 1000 / args.articles
        edited = [_edit(text) for text in texts]
        rounds = (("first captures", texts), ("same text again", texts), ("edited text", edited))
        for day, (label, round_texts) in enumerate(rounds, start=1):
            upserts, versions = _round(store, round_texts, day)
            made = store.db.execute("SELECT count(*) FROM article_versions").fetchone()[0]
            print(
                f"{label:16}  article upserts {upserts * per:6.3f} s/1k  versions {versions * per:6.3f} s/1k"
                f"  ({made:,} versions in the store)"
            )
        store.close()


if __name__ == "__main__":
    main()
