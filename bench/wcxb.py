"""Extraction on pages from sites nobody here tuned for: the WCXB development split.

For every one of WCXB's 1,497 pages (``../shared/wcxb``, ~1,300 domains, read its README):
whether our page-type decision keeps it (an article row) or rejects it, and for the
article pages, body word-bag F1 (WCXB's own ``evaluate.py`` metric; a page we reject
scores 0, since its article is lost) against bare ``trafilatura.extract`` with default
settings in the same run, and title, author and date exact-match rates where WCXB has them.

    .venv/bin/python -m bench.wcxb                 # the tables
    .venv/bin/python -m bench.wcxb --save R.json   # and every page's result, for ablations

Reads ``../shared/wcxb`` beside the repository (or ``--wcxb DIR``); exits 2 without it.
"""

from __future__ import annotations

import argparse
import gzip
import importlib.util
import json
import statistics
import sys
from collections import Counter, defaultdict
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path

import trafilatura

from archive.document import normalize_block
from archive.store.pages import PageJob, extract_page

REPO = Path(__file__).resolve().parent.parent
SHARED_WCXB = REPO.parent / "shared" / "wcxb"
NOT_ARTICLE_TYPES = ("service", "product", "collection", "forum", "listing", "documentation")


def wcxb_metric(wcxb: Path):
    """WCXB's own ``evaluate.py`` (its tokenizer and word F1), loaded from the benchmark's folder."""
    spec = importlib.util.spec_from_file_location("wcxb_evaluate", wcxb / "evaluate.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@dataclass
class PageResult:
    id: str
    page_type: str
    kept: bool  # our decision: an article row
    reason: str | None  # why not (pagetype's reasons)
    f1: float  # ours, 0 when rejected
    bare_f1: float
    title: bool | None  # None: WCXB has no title for the page
    author: bool | None
    date: bool | None
    text: str  # our body, for ablations and error analysis


def _truth(wcxb: Path, page_id: str) -> dict:
    return json.loads((wcxb / "dev" / "ground-truth" / f"{page_id}.json").read_text(encoding="utf-8"))


def _url(wcxb: Path, page_id: str, truth: dict) -> str:
    """The page's URL: in its ground truth, or for a few pages only in ``metadata.json``."""
    if truth.get("url"):
        return truth["url"]
    files = json.loads((wcxb / "metadata.json").read_text(encoding="utf-8"))["files"]
    return files[page_id]["url"]


def page_type(truth: dict) -> str:
    kind = ((truth.get("_internal") or {}).get("page_type") or {}).get("primary", "article")
    return "collection" if kind == "category" else kind


def _same(got: str | None, want: str | None) -> bool | None:
    if not want:
        return None
    return normalize_block(got or "") == normalize_block(want)


def score_page(task: tuple[Path, str]) -> PageResult:
    """Worker: one page through our pipeline and bare trafilatura, scored."""
    wcxb, page_id = task
    metric = wcxb_metric(wcxb)
    truth = _truth(wcxb, page_id)
    expected = truth["ground_truth"]
    body = gzip.decompress((wcxb / "dev" / "html" / f"{page_id}.html.gz").read_bytes())
    url = _url(wcxb, page_id, truth)
    result = extract_page(PageJob(url, "", body, "text/html", []))
    article = result.article
    title, text = None, ""
    if article is not None:
        title, _, text = article["text"].partition("\n\n")
    html = body.decode("utf-8", errors="replace")
    bare = trafilatura.extract(html, url=url) or ""
    authors = json.loads(article["author"]) if article else []
    return PageResult(
        id=page_id,
        page_type=page_type(truth),
        kept=article is not None,
        reason=result.reason,
        f1=metric.word_f1(text, expected.get("main_content") or "")[2],
        bare_f1=metric.word_f1(bare, expected.get("main_content") or "")[2],
        title=_same(title, expected.get("title")),
        author=_same("; ".join(authors), expected.get("author")),
        date=None if not expected.get("publish_date") else bool(article and article["published"])
        and article["published"][:10] == expected["publish_date"][:10],
        text=text,
    )


def score_all(wcxb: Path, workers: int = 2) -> list[PageResult]:
    ids = sorted(p.name.split(".")[0] for p in (wcxb / "dev" / "html").glob("*.html.gz"))
    tasks = [(wcxb, page_id) for page_id in ids]
    if workers <= 1:
        return [score_page(task) for task in tasks]
    with ProcessPoolExecutor(workers) as pool:
        return list(pool.map(score_page, tasks, chunksize=8))


def _rate(values: list[bool | None]) -> str:
    known = [v for v in values if v is not None]
    return f"{sum(known) / len(known):.3f} ({len(known)})" if known else "-"


def reasons_table(by_type: dict[str, list[PageResult]]) -> None:
    """Why pages were rejected, per WCXB page type: where the decision goes wrong, and how."""
    reasons = sorted({r.reason for group in by_type.values() for r in group if r.reason})
    if not reasons:
        return
    print("rejected, by reason:")
    print(f"{'type':<14}" + "".join(f"{reason[:13]:>14}" for reason in reasons))
    for kind in ("article", *NOT_ARTICLE_TYPES):
        counts = Counter(r.reason for r in by_type.get(kind, []))
        print(f"{kind:<14}" + "".join(f"{counts.get(reason, 0):>14}" for reason in reasons))


def report(results: list[PageResult]) -> None:
    by_type: dict[str, list[PageResult]] = defaultdict(list)
    for result in results:
        by_type[result.page_type].append(result)
    articles = by_type["article"]
    others = [r for r in results if r.page_type != "article"]
    print(f"== WCXB dev: {len(results)} pages, {len(articles)} articles, {len(others)} not articles")
    kept = sum(r.kept for r in articles) / len(articles)
    rejected = sum(not r.kept for r in others) / len(others) if others else 0.0
    print(f"page type: article pages kept {kept:.3f}, non-article pages rejected {rejected:.3f}")
    print(f"{'type':<14}{'pages':>6}{'kept':>8}{'F1 ours':>9}{'F1 bare':>9}")
    for kind in ("article", *NOT_ARTICLE_TYPES):
        group = by_type.get(kind, [])
        if group:
            kept_share = sum(r.kept for r in group) / len(group)
            f1, bare_f1 = statistics.fmean(r.f1 for r in group), statistics.fmean(r.bare_f1 for r in group)
            print(f"{kind:<14}{len(group):>6}{kept_share:>8.3f}{f1:>9.3f}{bare_f1:>9.3f}")
    reasons_table(by_type)
    ours, bare = statistics.fmean(r.f1 for r in articles), statistics.fmean(r.bare_f1 for r in articles)
    kept_pages = [r for r in articles if r.kept]
    print(f"article body F1 (rejected = 0): ours {ours:.3f}, bare {bare:.3f}, difference {ours - bare:+.3f}")
    if kept_pages:
        print(
            f"  on the {len(kept_pages)} kept: ours {statistics.fmean(r.f1 for r in kept_pages):.3f}, "
            f"bare {statistics.fmean(r.bare_f1 for r in kept_pages):.3f}"
        )
    behind = [r for r in articles if r.f1 < r.bare_f1 - 0.05]
    lost = sum(not r.kept for r in behind)
    print(f"article pages more than 5 points below bare: {len(behind)} ({lost} of them rejected)")
    print(
        f"article pages exact: title {_rate([r.title for r in articles])}, "
        f"author {_rate([r.author for r in articles])}, date (day) {_rate([r.date for r in articles])}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--wcxb", type=Path, default=SHARED_WCXB, help="the WCXB folder (holds dev/)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--save", type=Path, help="write every page's result here (JSON)")
    args = parser.parse_args(argv)
    if not (args.wcxb / "dev" / "html").is_dir():
        print(f"no WCXB development split at {args.wcxb}: see its README in ../shared/wcxb", file=sys.stderr)
        return 2
    results = score_all(args.wcxb, args.workers)
    report(results)
    if args.save:
        args.save.write_text(json.dumps([asdict(r) for r in results], ensure_ascii=False), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
