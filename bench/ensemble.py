"""Extractor ensembles, measured before any is chosen (issue 16, body text).

On WCXB dev article pages (WCXB's word-bag F1, a page we reject scoring 0) and on
``../shared/corpus`` (bench/quality.py's word-4-gram F1): our body, bare
``trafilatura.extract``, readability (trafilatura's vendored ``readability_lxml``: the
``readability-lxml`` package is not installed) and jusText (the page language's stoplist
when trafilatura knows it, else jusText's language-independent setting: no stoplist, no
stop-word thresholds), and ensembles of them:

- block votes: each block (paragraph, list item, line) of one extractor counts as found by
  another when most of its word-4-grams are in the other's text (short blocks: its words in
  a row); "ours-none" drops our blocks neither other extractor has, "ours+both" adds the
  blocks readability and jusText both have and we lack, "vote2" does both (each block of the
  union kept when 2 of the 3 have it), "ours+both|doubt" adds them only when they hold
  more than half as many words as ours (the others agree we missed much of the article);
- Bevendorff et al. (SIGIR 2023, ``extractors/ensemble.py`` of their benchmark): every
  white-space token of the page's whole text kept when a 5-token n-gram through it is in
  the output of at least 2 of the 3 extractors ("token-vote");
- "oracle": not a rule, the best of ours, readability and jusText on each page.

Prints, per corpus, each variant's mean F1, its pages more than 5 points below bare
trafilatura, and the pages better / worse than ours by more than a point; the CPU time
(user+sys of the worker, ``time.process_time``) each extractor takes per page; and which
ensemble would ship by issue 16's rule (MIN_GAIN on both corpora, no new page > 5 points
below bare).

    .venv/bin/python -m bench.ensemble              # both corpora (~6 min on 2 cores, cached: ~1 min)
    .venv/bin/python -m bench.ensemble --limit 100  # the first 100 pages of each

Extractor outputs are cached in ``--cache`` (default /tmp/newsarchive-ensemble): a rerun
only scores. Exits 2 when a corpus is missing.
"""

from __future__ import annotations

import gzip
import json
import statistics
import sys
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import justext
import trafilatura
from trafilatura.external import try_readability
from trafilatura.settings import JUSTEXT_LANGUAGES

from archive.document import WORD
from archive.extract.blocks import word_grams
from archive.store.pages import PageJob, extract_page
from bench.ablation import both_corpora_parser, corpora_missing, wcxb_tasks
from bench.quality import body_scores, ours, page_rows
from bench.wcxb import _truth, _url, wcxb_metric

DEFAULT_CACHE = Path("/tmp/newsarchive-ensemble")
# readability's output is HTML: a line ends at each of these (and at <br>).
BLOCK_TAGS = frozenset(
    (
        "p div h1 h2 h3 h4 h5 h6 li dd dt pre blockquote figcaption td th tr table ul ol section article br"
    ).split()
)
EXTRACTORS = ("ours", "bare", "readability", "justext", "page")


def readability_blocks(html: str) -> tuple[list[str], str | None]:
    """readability's text, one string per block, and the page's declared language."""
    tree = trafilatura.load_html(html)
    if tree is None:
        return [], None
    lang = (tree.get("lang") or "").split("-")[0].split("_")[0].lower() or None
    summary = try_readability(tree)
    for element in summary.iter():
        if isinstance(element.tag, str) and element.tag in BLOCK_TAGS:
            element.text = "\n" + (element.text or "")
            element.tail = "\n" + (element.tail or "")
    text = "".join(summary.itertext())
    return [" ".join(line.split()) for line in text.split("\n") if line.strip()], lang


def justext_blocks(html: str, lang: str | None) -> list[str]:
    """jusText's good paragraphs, with the stoplist of ``lang`` when jusText has one."""
    if lang in JUSTEXT_LANGUAGES:
        paragraphs = justext.justext(html, justext.get_stoplist(JUSTEXT_LANGUAGES[lang]))
    else:  # jusText's own language-independent setting (its README)
        paragraphs = justext.justext(html, frozenset(), stopwords_low=0, stopwords_high=0)
    return [p.text for p in paragraphs if not p.is_boilerplate]


def _timed(function: Callable, *args):
    started = time.process_time()
    value = function(*args)
    return value, time.process_time() - started


def extract_all(html: str, url: str, our_text: Callable[[], tuple[str, bool]]) -> dict:
    """Every extractor's output on one page, and the CPU seconds each took."""
    (our, kept), ours_s = _timed(our_text)
    bare, bare_s = _timed(lambda: trafilatura.extract(html, url=url) or "")
    (readability, lang), readability_s = _timed(readability_blocks, html)
    jt, justext_s = _timed(justext_blocks, html, lang)
    page, page_s = _timed(lambda: trafilatura.html2txt(html) or "")
    return {
        "kept": kept,
        "lang": lang,
        "ours": our,
        "bare": bare,
        "readability": readability,
        "justext": jt,
        "page": page,
        "seconds": dict(zip(EXTRACTORS, (ours_s, bare_s, readability_s, justext_s, page_s), strict=True)),
    }


def _cached(cache: Path, compute: Callable[[], dict]) -> dict:
    if cache.is_file():
        return json.loads(cache.read_text(encoding="utf-8"))
    result = compute()
    cache.parent.mkdir(parents=True, exist_ok=True)
    cache.write_text(json.dumps(result, ensure_ascii=False), encoding="utf-8")
    return result


def wcxb_page(task: tuple[Path, str, Path]) -> dict:
    """Worker: one WCXB page through every extractor (our body as bench/wcxb.py gets it)."""
    wcxb, page_id, cache = task

    def compute() -> dict:
        truth = _truth(wcxb, page_id)
        body = gzip.decompress((wcxb / "dev" / "html" / f"{page_id}.html.gz").read_bytes())
        url = _url(wcxb, page_id, truth)

        def our_text() -> tuple[str, bool]:
            article = extract_page(PageJob(url, "", body, "text/html", [])).article
            return (article["text"].partition("\n\n")[2], True) if article else ("", False)

        result = extract_all(body.decode("utf-8", errors="replace"), url, our_text)
        return {"id": page_id, "expected": truth["ground_truth"].get("main_content") or "", **result}

    return _cached(cache / "wcxb" / f"{page_id}.json", compute)


def corpus_page(task: tuple[Path, dict, Path]) -> dict:
    """Worker: one corpus page through every extractor (our body as bench/quality.py gets it)."""
    corpus, row, cache = task

    def compute() -> dict:
        body = gzip.decompress((corpus / "pages" / f"{row['id']}.html.gz").read_bytes())

        def our_text() -> tuple[str, bool]:
            got = ours(row, body)
            return got.body, got.title is not None

        result = extract_all(body.decode(row["encoding"], errors="replace"), row["url"], our_text)
        return {"id": row["id"], "expected": row["expected"]["body"], **result}

    return _cached(cache / "corpus" / f"{row['id']}.json", compute)


ENSEMBLES = (
    "ours-none",
    "ours-none<=10w",
    "ours&readability",
    "ours&justext",
    "ours+both",
    "vote2",
    "ours+both|doubt",
)
# The rule of issue 16: an ensemble ships only with this gain on both corpora and no page newly
# more than 5 points below bare trafilatura.
MIN_GAIN = 0.005


# -- the ensembles --------------------------------------------------------------------------


def _words(text: str) -> list[str]:
    return [w.casefold() for w in WORD.findall(text)]


class Found:
    """Whether a block's text is in an extractor's output: most of its word-4-grams are
    (a block of under 4 words: its words, in a row)."""

    def __init__(self, text: str) -> None:
        self.grams = word_grams(text)
        self.joined = f" {' '.join(_words(text))} "

    def has(self, block: str) -> bool:
        words = _words(block)
        if not words:
            return True
        if len(words) < 4:
            return f" {' '.join(words)} " in self.joined
        grams = word_grams(block)
        return len(grams & self.grams) >= len(grams) / 2


def _blocks(text: str) -> list[str]:
    return [b for b in text.split("\n") if b.strip()]


def block_variants(page: dict) -> dict[str, str]:
    """The block-vote ensembles of one page's outputs."""
    own = _blocks(page["ours"])
    readability, jt = page["readability"], page["justext"]
    in_r, in_j, in_own = Found("\n".join(readability)), Found("\n".join(jt)), Found(page["ours"])
    has_r = [in_r.has(b) for b in own]
    has_j = [in_j.has(b) for b in own]
    kept = [b for b, r, j in zip(own, has_r, has_j, strict=True) if r or j]
    short_kept = [b for b, r, j in zip(own, has_r, has_j, strict=True) if r or j or len(_words(b)) > 10]
    # blocks readability and jusText agree on that we lack (readability's, in its order)
    both = [b for b in readability if in_j.has(b) and not in_own.has(b)] if own else []
    # the others agree we missed much of the article: their agreed blocks hold more than
    # half as many words as ours (0.25 and 1.0 were tried too: see the report of issue 16)
    doubt = len(_words(" ".join(both))) > len(_words(page["ours"])) / 2
    return {
        "ours-none": "\n".join(kept),
        "ours-none<=10w": "\n".join(short_kept),
        "ours&readability": "\n".join(b for b, r in zip(own, has_r, strict=True) if r),
        "ours&justext": "\n".join(b for b, j in zip(own, has_j, strict=True) if j),
        "ours+both": "\n".join(own + both),
        "vote2": "\n".join(kept + both),
        "ours+both|doubt": "\n".join(own + both) if doubt else page["ours"],
    }


def token_vote(page: dict, voters: list[str], threshold: int = 2, n: int = 5) -> str:
    """Bevendorff et al.'s majority vote: a token (white-space separated, as theirs) of the
    page's whole text is kept when an n-gram through it (the one ending or the one starting
    at it) is in ``threshold`` of the voters' outputs. Both sides are padded, as theirs, so
    that the first and last tokens of an output can match."""
    pad = ["\0"] * (n - 1)
    tokens = [*pad, *page["page"].split(), *pad]
    answers = []
    for voter in voters:
        words = [*pad, *voter.split(), *pad]
        answers.append({tuple(words[i : i + n]) for i in range(len(words) - n + 1)})
    kept = []
    for i in range(n - 1, len(tokens) - n + 1):
        left, right = tuple(tokens[i - n + 1 : i + 1]), tuple(tokens[i : i + n])
        if sum(left in answer or right in answer for answer in answers) >= threshold:
            kept.append(tokens[i])
    return " ".join(kept)


def variants(page: dict) -> dict[str, str]:
    """Every variant's text for one page: the extractors alone and the ensembles. A page
    we reject stays rejected (the ensembles change the text, not the decision)."""
    alone = {
        "ours": page["ours"],
        "bare": page["bare"],
        "readability": "\n".join(page["readability"]),
        "justext": "\n".join(page["justext"]),
    }
    if not page["kept"]:
        return {**alone, **dict.fromkeys((*ENSEMBLES, "token-vote"), "")}
    voters = [page["ours"], alone["readability"], alone["justext"]]
    return {**alone, **block_variants(page), "token-vote": token_vote(page, voters)}


def table(name: str, pages: list[dict], score: Callable[[str, str], float]) -> dict[str, list[float]]:
    """One corpus's table: every variant's mean F1 and how it compares with bare and ours."""
    f1s: dict[str, list[float]] = {}
    combine_s = 0.0
    for page in pages:
        started = time.process_time()
        texts = variants(page)
        combine_s += time.process_time() - started
        for variant, text in texts.items():
            f1s.setdefault(variant, []).append(score(text, page["expected"]))
    # not a rule: the best of ours, readability and jusText on each page, the room left
    f1s["oracle"] = [
        max(o, r, j) if page["kept"] else 0.0
        for page, o, r, j in zip(pages, f1s["ours"], f1s["readability"], f1s["justext"], strict=True)
    ]
    kept = [i for i, page in enumerate(pages) if page["kept"]]
    print(f"\n== {name}: {len(pages)} pages ({len(kept)} kept by the page-type decision)")
    print(
        f"{'variant':<18}{'F1':>7}{'kept F1':>9}{'vs ours':>9}{'>5 below bare':>15}{'better':>8}{'worse':>7}"
    )
    for variant, values in f1s.items():
        bare, own = f1s["bare"], f1s["ours"]
        below = sum(v < b - 0.05 for v, b in zip(values, bare, strict=True))
        better = sum(v > o + 0.01 for v, o in zip(values, own, strict=True))
        worse = sum(v < o - 0.01 for v, o in zip(values, own, strict=True))
        kept_f1 = statistics.fmean(values[i] for i in kept) if kept else 0.0
        mean = statistics.fmean(values)
        print(
            f"{variant:<18}{mean:>7.4f}{kept_f1:>9.4f}{mean - statistics.fmean(own):>+9.4f}"
            f"{below:>15}{better:>8}{worse:>7}"
        )
    print(
        "CPU ms per page (worker user+sys; ours: the whole extract_page, metadata and page type"
        " included; bare: trafilatura.extract; page: the whole-page text the token vote reads):"
    )
    print(
        "  "
        + ", ".join(f"{e} {1000 * statistics.fmean(p['seconds'][e] for p in pages):.1f}" for e in EXTRACTORS)
        + f", combining (all variants) {1000 * combine_s / len(pages):.1f}"
    )
    pregate = [p for p in pages if p["kept"] and readability_adds_half(p)]
    print(
        f"doubt pre-gate (readability holds > half our words more; free if trafilatura's own readability"
        f" run were kept): {len(pregate)} pages; jusText on those alone "
        f"{1000 * sum(p['seconds']['justext'] for p in pregate) / len(pages):.1f} ms/page"
    )
    return f1s


def readability_adds_half(page: dict) -> bool:
    """Whether readability's blocks that ours lacks hold more than half as many words as ours:
    needed for "ours+both|doubt" to fire (its added blocks are some of those), so jusText
    need only run on such pages."""
    own = Found(page["ours"])
    missing = [b for b in page["readability"] if not own.has(b)]
    return len(_words(" ".join(missing))) > len(_words(page["ours"])) / 2


def _warm() -> None:
    """Worker start: import what the first page would, so its CPU time is the page's alone."""
    import archive.extract.article  # noqa: F401  (extract_page imports it on the first page)


def main(argv: list[str] | None = None) -> int:
    parser = both_corpora_parser(__doc__.split("\n\n")[0])
    parser.add_argument(
        "--cache", type=Path, default=DEFAULT_CACHE, help="extractor outputs, kept between runs"
    )
    args = parser.parse_args(argv)
    if corpora_missing(args):
        return 2
    wcxb_jobs = [(wcxb, page_id, args.cache) for wcxb, page_id in wcxb_tasks(args.wcxb, args.limit)]
    corpus_jobs = [(args.corpus, row, args.cache) for row in page_rows(args.corpus)][: args.limit]
    with ProcessPoolExecutor(args.workers, initializer=_warm) as pool:
        wcxb_pages = list(pool.map(wcxb_page, wcxb_jobs, chunksize=4))
        corpus_pages = list(pool.map(corpus_page, corpus_jobs, chunksize=4))
    metric = wcxb_metric(args.wcxb)
    results = {
        "WCXB": table(
            "WCXB dev articles (word-bag F1)", wcxb_pages, lambda got, want: metric.word_f1(got, want)[2]
        ),
        "corpus": table("corpus (word-4-gram F1)", corpus_pages, lambda got, want: body_scores(got, want)[2]),
    }
    verdicts(results)
    return 0


def verdicts(results: dict[str, dict[str, list[float]]]) -> None:
    """Which ensemble would ship: gains >= MIN_GAIN over ours on every corpus, and no page
    more than 5 points below bare that ours is not already."""
    print(f"\n== verdict (ships: gain >= {MIN_GAIN} on every corpus, no new page > 5 points below bare)")
    for variant in (*ENSEMBLES, "token-vote"):
        parts, ships = [], True
        for name, f1s in results.items():
            gain = statistics.fmean(f1s[variant]) - statistics.fmean(f1s["ours"])
            new_below = sum(
                v < b - 0.05 <= o for v, b, o in zip(f1s[variant], f1s["bare"], f1s["ours"], strict=True)
            )
            ships = ships and gain >= MIN_GAIN and new_below == 0
            parts.append(f"{name} {gain:+.4f} ({new_below} new below bare)")
        print(f"{variant:<18}{'; '.join(parts)}  -> {'ships' if ships else 'does not ship'}")


if __name__ == "__main__":
    sys.exit(main())
