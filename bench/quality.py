"""Extraction quality on real news pages: our documents against the corpus's expected values.

Scores every page that has an expected body (the fundus pages): body precision, recall
and F1 over word-4-gram shingles (macro average over pages, the headline excluded), and
exact-match rates for the title (white space collapsed), the published date (the day, and
the full timestamp) and the author list. The same figures for bare ``trafilatura.extract``
with default settings are measured in the same run, so the ratio holds on any machine.

    .venv/bin/python bench/quality.py                      # ../shared/corpus and archive/demo/corpus
    .venv/bin/python bench/quality.py --corpus archive/demo/corpus --worst 10

Reads ``../shared/corpus`` (beside the repository) when present; says so and exits 2 when
it is not there, since the target is measured on its 258 pages.
"""

from __future__ import annotations

import argparse
import gzip
import json
import statistics
import sys
import unicodedata
from collections.abc import Iterable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import trafilatura

from archive.document import WORD, normalize_block
from archive.store.pages import PageJob, extract_page

REPO = Path(__file__).resolve().parent.parent
SHARED_CORPUS = REPO.parent / "shared" / "corpus"
TESTS_CORPUS = REPO / "archive" / "demo" / "corpus"
SHINGLE = 4


def shingles(text: str) -> set[tuple[str, ...]]:
    """Word-4-grams of ``text`` (CJK characters count as words, case folded).

    NFC first: a few expected bodies are stored decomposed (NFD), while documents are NFC
    (FORMAT.md) and bare trafilatura keeps the page's form; the same words must match.
    """
    words = [w.casefold() for w in WORD.findall(unicodedata.normalize("NFC", text))]
    if len(words) < SHINGLE:
        return {tuple(words)} if words else set()
    return {tuple(words[i : i + SHINGLE]) for i in range(len(words) - SHINGLE + 1)}


def body_scores(got: str, expected: str) -> tuple[float, float, float]:
    """Precision, recall and F1 of ``got`` against ``expected`` over word-4-gram shingles."""
    got_set, expected_set = shingles(got), shingles(expected)
    if not got_set or not expected_set:
        return 0.0, 0.0, 0.0
    common = len(got_set & expected_set)
    precision, recall = common / len(got_set), common / len(expected_set)
    f1 = 2 * precision * recall / (precision + recall) if common else 0.0
    return precision, recall, f1


@dataclass
class Extraction:
    body: str
    title: str | None
    published: str | None
    authors: list[str]


@dataclass
class PageScore:
    id: str
    precision: float
    recall: float
    f1: float
    title: bool
    day: bool
    timestamp: bool
    authors: bool | None  # None: the corpus has no author expectation


def page_rows(corpus: Path) -> list[dict]:
    """Manifest rows with an expected body."""
    with open(corpus / "manifest.jsonl", encoding="utf-8") as fh:
        rows = [json.loads(line) for line in fh if line.strip()]
    return [r for r in rows if r["expected"].get("body")]


def _fetched_at(row: dict) -> str:
    crawl = row.get("crawl_date")
    return f"{crawl[:19]}+00:00" if crawl else ""


def ours(row: dict, body: bytes) -> Extraction:
    """Our pipeline, as ``extract`` runs it on an archived response."""
    job = PageJob(row["url"], _fetched_at(row), body, f"text/html; charset={row['encoding']}", None)
    article = extract_page(job).article
    if article is None:
        return Extraction("", None, None, [])
    title, _, text = article["text"].partition("\n\n")
    return Extraction(text, title, article["published"], json.loads(article["author"]))


def bare(row: dict, body: bytes) -> Extraction:
    """``trafilatura.extract`` with default settings (its metadata for the other fields)."""
    html = body.decode(row["encoding"], errors="replace")
    text = trafilatura.extract(html, url=row["url"]) or ""
    meta = trafilatura.extract_metadata(html, default_url=row["url"])
    authors = [a.strip() for a in (meta.author or "").split(";") if a.strip()] if meta else []
    return Extraction(text, meta.title if meta else None, meta.date if meta else None, authors)


def score(row: dict, got: Extraction) -> PageScore:
    expected = row["expected"]
    precision, recall, f1 = body_scores(got.body, expected["body"])
    want_published = expected.get("published") or ""
    want_authors = expected.get("authors")
    return PageScore(
        id=row["id"],
        precision=precision,
        recall=recall,
        f1=f1,
        title=normalize_block(got.title or "") == normalize_block(expected.get("title") or ""),
        day=bool(got.published) and got.published[:10] == want_published[:10],
        timestamp=bool(got.published) and got.published == want_published,
        authors=None
        if want_authors is None
        else [normalize_block(a) for a in got.authors] == [normalize_block(a) for a in want_authors],
    )


def score_page(task: tuple[Path, dict]) -> tuple[PageScore, PageScore]:
    """Worker: one page scored for our extractor and for bare trafilatura."""
    corpus, row = task
    body = gzip.decompress((corpus / "pages" / f"{row['id']}.html.gz").read_bytes())
    return score(row, ours(row, body)), score(row, bare(row, body))


def score_corpus(corpus: Path, workers: int = 1) -> tuple[list[PageScore], list[PageScore]]:
    """Scores of every page with an expected body: (ours, bare trafilatura), in manifest order."""
    tasks = [(corpus, row) for row in page_rows(corpus)]
    if workers > 1:
        with ProcessPoolExecutor(workers) as pool:
            pairs = list(pool.map(score_page, tasks, chunksize=4))
    else:
        pairs = [score_page(task) for task in tasks]
    return [p[0] for p in pairs], [p[1] for p in pairs]


@dataclass
class Summary:
    pages: int
    precision: float
    recall: float
    f1: float
    title: float
    day: float
    timestamp: float
    authors: float


def summarize(scores: list[PageScore]) -> Summary:
    def rate(values: Iterable[bool | None]) -> float:
        known = [v for v in values if v is not None]
        return sum(known) / len(known) if known else 0.0

    return Summary(
        pages=len(scores),
        precision=statistics.fmean(s.precision for s in scores),
        recall=statistics.fmean(s.recall for s in scores),
        f1=statistics.fmean(s.f1 for s in scores),
        title=rate(s.title for s in scores),
        day=rate(s.day for s in scores),
        timestamp=rate(s.timestamp for s in scores),
        authors=rate(s.authors for s in scores),
    )


def report(name: str, corpus: Path, workers: int, worst: int) -> Summary:
    our_scores, bare_scores = score_corpus(corpus, workers)
    a, b = summarize(our_scores), summarize(bare_scores)
    print(f"\n== {name}: {corpus} ({a.pages} pages with an expected body)")
    print(f"{'':24}{'ours':>9}{'bare':>9}{'ratio':>8}")
    for field_name in ("precision", "recall", "f1", "title", "day", "timestamp", "authors"):
        ours_value, bare_value = getattr(a, field_name), getattr(b, field_name)
        ratio = f"{ours_value / bare_value:8.3f}" if bare_value else f"{'-':>8}"
        label = {"f1": "body F1", "precision": "body precision", "recall": "body recall"}.get(
            field_name, f"{field_name} exact"
        )
        print(f"{label:24}{ours_value:9.3f}{bare_value:9.3f}{ratio}")
    behind = [(o, b_) for o, b_ in zip(our_scores, bare_scores, strict=True) if o.f1 < b_.f1 - 0.05]
    print(f"pages more than 5 points below bare trafilatura: {len(behind)}")
    for o, b_ in sorted(behind, key=lambda pair: pair[0].f1 - pair[1].f1):
        print(f"  {o.id:48} ours {o.f1:.3f}  bare {b_.f1:.3f}")
    print(f"worst {worst} pages (ours): F1 P R | bare F1")
    pairs = sorted(zip(our_scores, bare_scores, strict=True), key=lambda pair: pair[0].f1)
    for o, b_ in pairs[:worst]:
        print(f"  {o.id:48} {o.f1:.3f} {o.precision:.3f} {o.recall:.3f} | {b_.f1:.3f}")
    untitled = [o.id for o in our_scores if not o.title]
    print(f"titles not matching ({len(untitled)}): {', '.join(untitled[:worst])}")
    return a


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", type=Path, action="append", help="corpus directory (repeatable)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--worst", type=int, default=10, help="how many of the worst pages to list")
    args = parser.parse_args(argv)
    corpora = args.corpus or [SHARED_CORPUS, TESTS_CORPUS]
    for corpus in corpora:
        if not (corpus / "manifest.jsonl").is_file():
            print(
                f"error: no corpus at {corpus} (manifest.jsonl missing). The quality target is "
                "measured on ../shared/corpus beside the repository; pass --corpus archive/demo/corpus "
                "for the bundled pages.",
                file=sys.stderr,
            )
            return 2
    for corpus in corpora:
        name = "shared corpus" if corpus.resolve() == SHARED_CORPUS.resolve() else "corpus"
        report(name, corpus, args.workers, args.worst)
    return 0


if __name__ == "__main__":
    sys.exit(main())
