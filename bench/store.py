"""Store speed: full-text search and ``newsarchive serve`` on a store of 100k articles.

    .venv/bin/python -m bench.store --articles 100000
    .venv/bin/python -m bench.store --store /tmp/bench-store   # reuse a store built before

Builds ``news.db`` with the project's own schema (``archive.store.Store``: articles, FTS5
with its triggers, captures) from synthetic articles: windows of 150–700 words of the
corpus pages' own text, so word frequencies are those of real news. One word is planted
in every 10,000th article, the rare word; the common word is the corpus's most frequent
word of five letters or more. Prints FTS query p50/p95 and the latency of Datasette's
articles table page, a search and one article page, as ``newsarchive serve`` serves them.
"""

from __future__ import annotations

import argparse
import hashlib
import random
import re
import sqlite3
import statistics
import subprocess
import tempfile
import time
import urllib.request
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import quote

from archive.store.db import Store
from archive.store.readonly import DB_NAME
from bench.common import PYTHON, REPO, free_port, header, load, load_corpus

RARE_WORD = "quokkaburg"
RARE_EVERY = 10_000
TAGS = re.compile(rb"<script.*?</script>|<style.*?</style>|<[^>]+>", re.DOTALL | re.IGNORECASE)
WORD = re.compile(r"[^\W\d_]{2,}")
SITES = ("tass", "global_times", "reuters", "bbc", "spiegel", "le_monde", "nhk", "abc_au")


def corpus_words() -> list[str]:
    """The words of the corpus pages' text, in reading order."""
    _, pages = load_corpus()
    words: list[str] = []
    for page in pages:
        text = TAGS.sub(b" ", page.html).decode("utf-8", errors="ignore")
        words.extend(WORD.findall(text))
    return words


def articles(count: int, words: list[str]) -> Iterator[tuple[dict, dict]]:
    rng = random.Random(42)
    for i in range(count):
        length = rng.randrange(150, 700)
        start = rng.randrange(0, len(words) - length)
        body = words[start : start + length]
        if i % RARE_EVERY == 0:
            body.insert(length // 2, RARE_WORD)
        title = " ".join(words[start : start + 8]).capitalize()
        text = f"{title}\n\n" + "\n".join(" ".join(body[j : j + 60]) for j in range(0, len(body), 60))
        url = f"https://news.example/{SITES[i % len(SITES)]}/{i:07d}"
        capture_id = f"<urn:uuid:{hashlib.md5(url.encode()).hexdigest()}>"
        fetched = f"2026-{1 + i % 12:02d}-{1 + i % 28:02d}T{i % 24:02d}:00:00Z"
        article = {
            "id": hashlib.sha256(url.encode()).hexdigest()[:16],
            "url": url,
            "canonical_url": url,
            "site": SITES[i % len(SITES)],
            "title": title,
            "text": text,
            "author": "[]",
            "published": fetched[:10],
            "sitename": SITES[i % len(SITES)],
            "language": "en",
            "description": " ".join(body[:25]),
            "categories": "[]",
            "tags": "[]",
            "image": None,
            "word_count": len(body) + 8,
            "first_seen": fetched,
            "last_seen": fetched,
            "capture_id": capture_id,
            "text_hash": hashlib.sha256(text.encode()).hexdigest(),
            "duplicate_of": None,
        }
        capture = {
            "id": capture_id,
            "url": url,
            "status": 200,
            "mime": "text/html",
            "fetched_at": fetched,
            "warc_file": f"bench-{i // 5000:05d}.warc.gz",
            "warc_offset": (i % 5000) * 30_000,
            "warc_length": 30_000,
            "payload_digest": None,
            "site": SITES[i % len(SITES)],
        }
        yield article, capture


def build_store(data: Path, count: int) -> tuple[str, str]:
    """Write ``count`` articles into ``data/news.db``; returns (rare word, common word)."""
    words = corpus_words()
    common = Counter(w.lower() for w in words if len(w) >= 5).most_common(1)[0][0]
    db_path = data / DB_NAME
    if db_path.exists():
        return RARE_WORD, common
    started = time.monotonic()
    store = Store(db_path)
    batch_articles, batch_captures = [], []
    for article, capture in articles(count, words):
        batch_articles.append(article)
        batch_captures.append(capture)
        if len(batch_articles) == 2000:
            with store.db.atomic():
                store.db.table("articles").insert_all(batch_articles, pk="id")
                store.add_captures(batch_captures)
            batch_articles, batch_captures = [], []
    with store.db.atomic():
        store.db.table("articles").insert_all(batch_articles, pk="id")
        store.add_captures(batch_captures)
    store.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    store.close()
    size = db_path.stat().st_size
    print(f"built {count} articles in {time.monotonic() - started:.0f} s: {size / 1e6:.0f} MB", flush=True)
    return RARE_WORD, common


def percentiles(timings: list[float]) -> str:
    ms = sorted(1000 * t for t in timings)
    p95 = ms[min(len(ms) - 1, round(0.95 * (len(ms) - 1)))]
    return f"p50 {statistics.median(ms):7.1f} ms  p95 {p95:7.1f} ms  (n={len(ms)})"


def timed(action: Callable[[], object], repeat: int) -> list[float]:
    action()  # warm the page cache and SQLite's: a served store is warm
    timings = []
    for _ in range(repeat):
        started = time.perf_counter()
        action()
        timings.append(time.perf_counter() - started)
    return timings


FTS_QUERIES = {
    "top 20 by rank": (
        "SELECT a.id, a.title FROM articles_fts JOIN articles a ON a.rowid = articles_fts.rowid"
        " WHERE articles_fts MATCH ? ORDER BY rank LIMIT 20"
    ),
    "newest 20": (
        "SELECT id, title FROM articles WHERE rowid IN (SELECT rowid FROM articles_fts WHERE articles_fts"
        " MATCH ?) ORDER BY published DESC LIMIT 20"
    ),
    "count": "SELECT count(*) FROM articles_fts WHERE articles_fts MATCH ?",
}


def bench_fts(db_path: Path, words: dict[str, str], repeat: int) -> None:
    conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    for label, word in words.items():
        hits = conn.execute(FTS_QUERIES["count"], [word]).fetchone()[0]
        for name, sql in FTS_QUERIES.items():
            timings = timed(lambda sql=sql, word=word: conn.execute(sql, [word]).fetchall(), repeat)
            print(f"FTS {label:<6} {word!r:<14} ({hits:>6} hits) {name:<15} {percentiles(timings)}")
    conn.close()


def bench_serve(data: Path, words: dict[str, str], repeat: int) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        [PYTHON, "-m", "archive", "serve", "--data", data, "--port", str(port)],
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        for _ in range(300):  # up to 30 s to start
            try:
                urllib.request.urlopen(f"{base}/-/versions.json", timeout=2).read()
                break
            except OSError:
                if server.poll() is not None:
                    raise SystemExit(f"newsarchive serve stopped: {server.stderr.read().decode()}") from None
                time.sleep(0.1)
        else:
            raise SystemExit("newsarchive serve did not answer within 30 s")
        conn = sqlite3.connect(f"file:{data / DB_NAME}?mode=ro", uri=True)
        middle = "SELECT id FROM articles WHERE rowid = (SELECT max(rowid) / 2 FROM articles)"
        article_id = conn.execute(middle).fetchone()[0]
        conn.close()
        pages = {
            "articles table page": "/news/articles",
            f"search {words['rare']!r}": f"/news/articles?_search={quote(words['rare'])}",
            f"search {words['common']!r}": f"/news/articles?_search={quote(words['common'])}",
            "one article": f"/news/articles/{article_id}",
        }
        for name, path in pages.items():

            def get(path: str = path) -> None:
                with urllib.request.urlopen(base + path, timeout=60) as response:
                    if response.status != 200:
                        raise RuntimeError(f"{path}: HTTP {response.status}")
                    response.read()

            print(f"serve {name:<28} {percentiles(timed(get, repeat))}   GET {path}", flush=True)
    finally:
        server.terminate()
        server.wait(timeout=10)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--articles", type=int, default=100_000, help="articles in the store")
    parser.add_argument("--store", type=Path, help="data dir to build the store in, or to reuse it from")
    parser.add_argument("--repeat", type=int, default=30, help="timed repetitions of each query and page")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bench-store-") as tmp:
        data = args.store or Path(tmp)
        data.mkdir(parents=True, exist_ok=True)
        header("store benchmark", store=data / DB_NAME)
        rare, common = build_store(data, args.articles)
        count = sqlite3.connect(data / DB_NAME).execute("SELECT count(*) FROM articles").fetchone()[0]
        print(f"{count} articles; {load()}", flush=True)
        words = {"rare": rare, "common": common}
        bench_fts(data / DB_NAME, words, args.repeat)
        bench_serve(data, words, args.repeat)
        print("targets: FTS p50 < 20 ms for a rare word; table, search and article pages < 300 ms each")
        print(f"   {load()} (at the end)")


if __name__ == "__main__":
    main()
