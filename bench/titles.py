"""The headline choice alone, on every page of WCXB dev and of the news corpus, in about a minute.

For each page: the title the markup names (``Page.of(...).title``, ``archive/extract/title.py``)
against the expected one, white space collapsed. The full benches (``bench.wcxb``,
``bench/quality.py``) measure the final document's first line, where a rejected page counts
as a miss and a page whose markup names no title takes trafilatura's; this one isolates the
choice, to weigh a title rule on both corpora at once.

    .venv/bin/python -m bench.titles                          # the rates
    .venv/bin/python -m bench.titles --save before.json       # and every page's title
    .venv/bin/python -m bench.titles --against before.json    # pages fixed and broken since
    .venv/bin/python -m bench.titles --misses 20              # the first misses, with their candidates

Reads ``../shared/wcxb`` and ``../shared/corpus`` beside the repository; exits 2 without them.
"""

from __future__ import annotations

import argparse
import gzip
import json
import sys
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path

import trafilatura

from archive.document import normalize_block
from archive.extract.decode import decode_html
from archive.extract.page import Page
from archive.extract.sites import SiteRules
from bench.quality import SHARED_CORPUS, page_rows
from bench.wcxb import SHARED_WCXB, page_type

MAX_DATE = "2100-01-01"  # no page is dated after this: the title does not depend on it


@dataclass
class TitleResult:
    corpus: str  # "wcxb" or "corpus"
    id: str
    page_type: str
    expected: str
    got: str
    og_title: str  # what the page offered, for --misses
    headings: list[str]

    @property
    def exact(self) -> bool:
        return self.got == self.expected


def title_of(task: tuple[str, str, str, str, Path, str]) -> TitleResult:
    """Worker: one page's chosen title."""
    corpus, page_id, kind, expected, path, content_type = task
    html, _ = decode_html(gzip.decompress(path.read_bytes()), content_type)
    tree = trafilatura.load_html(html)
    page = Page.of(tree, SiteRules(), MAX_DATE) if tree is not None else None
    return TitleResult(
        corpus=corpus,
        id=page_id,
        page_type=kind,
        expected=normalize_block(expected),
        got=normalize_block((page.title if page else None) or ""),
        og_title=normalize_block((page.metas.get("og:title") if page else None) or ""),
        headings=page.headings[:5] if page else [],
    )


def tasks(wcxb: Path, corpus: Path) -> list[tuple[str, str, str, str, Path, str]]:
    found = []
    for truth_path in sorted((wcxb / "dev" / "ground-truth").glob("*.json")):
        truth = json.loads(truth_path.read_text(encoding="utf-8"))
        title = truth["ground_truth"].get("title")
        if title:
            html = wcxb / "dev" / "html" / f"{truth_path.stem}.html.gz"
            found.append(("wcxb", truth_path.stem, page_type(truth), title, html, "text/html"))
    for row in page_rows(corpus):
        if row["expected"].get("title"):
            html = corpus / "pages" / f"{row['id']}.html.gz"
            content_type = f"text/html; charset={row['encoding']}"
            found.append(("corpus", row["id"], "article", row["expected"]["title"], html, content_type))
    return found


def _rate(results: list[TitleResult]) -> str:
    exact = sum(r.exact for r in results)
    return f"{exact / len(results):.3f} ({exact}/{len(results)})"


def report(results: list[TitleResult], against: list[dict] | None, misses: int) -> None:
    wcxb = [r for r in results if r.corpus == "wcxb"]
    articles = [r for r in wcxb if r.page_type == "article"]
    news = [r for r in results if r.corpus == "corpus"]
    print(f"WCXB dev article pages: {_rate(articles)}")
    print(f"WCXB dev all pages:     {_rate(wcxb)}")
    print(f"news corpus:            {_rate(news)}")
    if against is not None:
        before = {(r["corpus"], r["id"]): r["got"] for r in against}
        for name, group in (("WCXB article", articles), ("corpus", news)):
            was = [(r, before.get((r.corpus, r.id))) for r in group]
            fixed = [r.id for r, old in was if r.exact and old != r.expected]
            broken = [r.id for r, old in was if not r.exact and old == r.expected]
            print(f"{name}: {len(fixed)} fixed, {len(broken)} broken since the saved run")
            print(f"  fixed: {' '.join(fixed)}\n  broken: {' '.join(broken)}")
    for r in [r for r in results if not r.exact and r.page_type == "article"][:misses]:
        print(f"{r.corpus} {r.id}\n  expected {r.expected!r}\n  got      {r.got!r}")
        print(f"  og:title {r.og_title!r}\n  <h1>     {r.headings!r}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--wcxb", type=Path, default=SHARED_WCXB, help="the WCXB folder (holds dev/)")
    parser.add_argument("--corpus", type=Path, default=SHARED_CORPUS, help="the news corpus folder")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--save", type=Path, help="write every page's title here (JSON)")
    parser.add_argument("--against", type=Path, help="a --save file: list the pages fixed and broken since")
    parser.add_argument("--misses", type=int, default=0, help="show this many article pages missed")
    args = parser.parse_args(argv)
    if not (args.wcxb / "dev" / "ground-truth").is_dir() or not (args.corpus / "manifest.jsonl").is_file():
        print(f"error: need WCXB dev at {args.wcxb} and the corpus at {args.corpus}", file=sys.stderr)
        return 2
    try:
        against = json.loads(args.against.read_text(encoding="utf-8")) if args.against else None
    except (OSError, ValueError) as exc:
        print(f"error: cannot read {args.against}: {exc}", file=sys.stderr)
        return 2
    with ProcessPoolExecutor(args.workers) as pool:
        results = list(pool.map(title_of, tasks(args.wcxb, args.corpus), chunksize=8))
    report(results, against, args.misses)
    if args.save:
        args.save.write_text(json.dumps([asdict(r) for r in results], ensure_ascii=False), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
