"""What each body rule earns: body F1 with every rule, and with each one switched off, on
both corpora (WCXB dev article pages and ../shared/corpus).

A rule stays only if it helps on both: a rule that helps one corpus and costs the other
fits that corpus, not news pages in general. Every page is scored, whatever the page-type
decision says of it: this is the body rules' share, not the decision's.

    .venv/bin/python -m bench.ablation                 # the table (~1.3 extractions a page)
    .venv/bin/python -m bench.ablation --limit 200     # the first 200 pages of each, quicker

Metrics are each corpus's own: WCXB's word-bag F1 (its ``evaluate.py``) and bench/quality.py's
word-4-gram F1. Exits 2 when a corpus is missing.
"""

from __future__ import annotations

import argparse
import gzip
import json
import statistics
import sys
from concurrent.futures import ProcessPoolExecutor
from copy import deepcopy
from datetime import UTC, datetime
from pathlib import Path

import trafilatura

from archive.document import build_document
from archive.extract.body import RULE_NAMES, BodyFacts, body_of
from archive.extract.decode import decode_html
from archive.extract.handover import run_trafilatura
from archive.extract.page import Page
from archive.extract.sites import SiteRules
from bench.quality import SHARED_CORPUS, body_scores, page_rows
from bench.wcxb import SHARED_WCXB, _truth, _url, page_type, wcxb_metric

# The variants: every rule on ("" switches none off), then each one off.
VARIANTS = ("", *RULE_NAMES)


def _f1s(html: str, url: str, fetched_at: str, score) -> list[float]:
    """Body F1 of the page under every variant, by ``score(text)``.

    trafilatura runs once and every variant runs the rules on a copy of its result, as
    ``examine_page`` does (site rules aside: these pages have none). The page-type
    decision is left out: this measures the text, on every page.
    """
    tree = trafilatura.load_html(html)
    if tree is None:
        return [0.0] * len(VARIANTS)
    max_date = (fetched_at or datetime.now(UTC).isoformat())[:10]
    page = Page.of(tree, SiteRules(), max_date)
    dates = {"original_date": True, "extensive_search": True, "max_date": max_date}
    meta = run_trafilatura(tree, url=url, with_metadata=True, date_extraction_params=dates)
    if meta is None or meta.body is None:
        return [0.0] * len(VARIANTS)
    facts = BodyFacts.of(page, meta)
    f1s = []
    for off in VARIANTS:
        text = build_document(facts.title, body_of(deepcopy(meta.body), facts, frozenset([off])))
        f1s.append(score(text.partition("\n\n")[2]) if text else 0.0)
    return f1s


def wcxb_page(task: tuple[Path, str]) -> list[float]:
    wcxb, page_id = task
    truth = _truth(wcxb, page_id)
    expected = truth["ground_truth"].get("main_content") or ""
    body = gzip.decompress((wcxb / "dev" / "html" / f"{page_id}.html.gz").read_bytes())
    html, _ = decode_html(body, "text/html")
    metric = wcxb_metric(wcxb)
    return _f1s(html, _url(wcxb, page_id, truth), "", lambda text: metric.word_f1(text, expected)[2])


def corpus_page(task: tuple[Path, dict]) -> list[float]:
    corpus, row = task
    body = gzip.decompress((corpus / "pages" / f"{row['id']}.html.gz").read_bytes())
    html, _ = decode_html(body, f"text/html; charset={row['encoding']}")
    fetched_at = f"{row['crawl_date'][:19]}+00:00" if row.get("crawl_date") else ""
    return _f1s(html, row["url"], fetched_at, lambda text: body_scores(text, row["expected"]["body"])[2])


def wcxb_tasks(wcxb: Path, limit: int | None) -> list[tuple[Path, str]]:
    ids = sorted(p.stem for p in (wcxb / "dev" / "ground-truth").glob("*.json"))
    ids = [i for i in ids if page_type(_truth(wcxb, i)) == "article"]
    return [(wcxb, i) for i in ids[:limit]]


def table(results: dict[str, list[list[float]]]) -> list[dict]:
    """One row per rule: mean F1 lost when it is off, and pages it helps / hurts by > 0.01."""
    rows = []
    for column, rule in enumerate(RULE_NAMES, start=1):
        row = {"rule": rule}
        for name, pages in results.items():
            gains = [page[0] - page[column] for page in pages]
            row[name] = (
                statistics.fmean(gains),
                sum(g > 0.01 for g in gains),
                sum(g < -0.01 for g in gains),
            )
        rows.append(row)
    return rows


def both_corpora_parser(description: str) -> argparse.ArgumentParser:
    """The options of a bench over WCXB dev and the news corpus (this one and bench.ensemble)."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--wcxb", type=Path, default=SHARED_WCXB)
    parser.add_argument("--corpus", type=Path, default=SHARED_CORPUS)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--limit", type=int, help="only the first N pages of each corpus")
    return parser


def corpora_missing(args: argparse.Namespace) -> bool:
    """True, and says so in one line, when either corpus is not where ``args`` point."""
    if (args.wcxb / "dev" / "html").is_dir() and (args.corpus / "manifest.jsonl").is_file():
        return False
    print(f"need both corpora: {args.wcxb} (WCXB dev) and {args.corpus}", file=sys.stderr)
    return True


def main(argv: list[str] | None = None) -> int:
    parser = both_corpora_parser(__doc__.split("\n\n")[0])
    parser.add_argument("--save", type=Path, help="write every page's F1 per variant here (JSON)")
    args = parser.parse_args(argv)
    if corpora_missing(args):
        return 2
    with ProcessPoolExecutor(args.workers) as pool:
        corpus_tasks = [(args.corpus, row) for row in page_rows(args.corpus)][: args.limit]
        results = {
            "wcxb": list(pool.map(wcxb_page, wcxb_tasks(args.wcxb, args.limit), chunksize=4)),
            "corpus": list(pool.map(corpus_page, corpus_tasks, chunksize=4)),
        }
    for name, pages in results.items():
        every = statistics.fmean(page[0] for page in pages)
        print(f"{name}: {len(pages)} pages, body F1 with every rule {every:.4f}")
    print(f"{'rule':<14}{'WCXB gain':>11}{'helps':>7}{'hurts':>7}{'corpus gain':>13}{'helps':>7}{'hurts':>7}")
    for row in table(results):
        (wg, wh, wl), (cg, ch, cl) = row["wcxb"], row["corpus"]
        verdict = "" if wg > 0 and cg > 0 else "  <- does not help both"
        print(f"{row['rule']:<14}{wg:>+11.4f}{wh:>7}{wl:>7}{cg:>+13.4f}{ch:>7}{cl:>7}{verdict}")
    if args.save:
        args.save.write_text(json.dumps({"variants": VARIANTS, **results}), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
