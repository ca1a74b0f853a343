"""What each page-type signal costs, against bare trafilatura with metadata on the same pages.

Times, per page and in CPU (``process_time``), over the first ``--pages`` WCXB dev pages:
``trafilatura.bare_extraction(html, with_metadata=True)`` (the cost ``extract`` is held to),
and each signal the decision adds: the tree counts (``Structure.of``), the URL's shape, the
challenge and consent patterns, how the body's text reads (``prose``, also inside the model's
features), and the model (features and logistic regression).

    .venv/bin/python -m bench.pagetype_cost --pages 300
"""

from __future__ import annotations

import argparse
import gzip
import sys
import time
from collections.abc import Callable
from pathlib import Path

import trafilatura

from archive.extract.article import examine_page
from archive.extract.page import linked_text
from archive.extract.pagetype import CONSENT_CHOICE, CONSENT_SUBJECT, article_probability, challenge_in
from archive.extract.signals import Structure, prose, url_shape
from bench.wcxb import SHARED_WCXB, _truth, _url


def _cpu_ms(step: Callable, *args: object, repeat: int = 1, **kwargs: object) -> tuple[float, object]:
    """CPU milliseconds of one ``step(*args, **kwargs)`` (the mean of ``repeat``), and its result."""
    started = time.process_time()
    for _ in range(repeat):
        result = step(*args, **kwargs)
    return (time.process_time() - started) * 1000 / repeat, result


def _walls(html: str, text: str) -> tuple:
    return challenge_in(html), CONSENT_SUBJECT.search(text), CONSENT_CHOICE.search(text)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--wcxb", type=Path, default=SHARED_WCXB)
    parser.add_argument("--pages", type=int, default=300)
    args = parser.parse_args(argv)
    if not (args.wcxb / "dev" / "html").is_dir():
        print(f"no WCXB development split at {args.wcxb}", file=sys.stderr)
        return 2
    ids = sorted(p.name.split(".")[0] for p in (args.wcxb / "dev" / "html").glob("*.html.gz"))[: args.pages]
    totals = dict.fromkeys(("bare", "extract", "structure", "url", "walls", "prose", "model"), 0.0)
    for page_id in ids:
        url = _url(args.wcxb, page_id, _truth(args.wcxb, page_id))
        html = gzip.decompress((args.wcxb / "dev" / "html" / f"{page_id}.html.gz").read_bytes()).decode(
            "utf-8", errors="replace"
        )
        timed = {
            "bare": _cpu_ms(trafilatura.bare_extraction, html, url=url, with_metadata=True),
            "extract": _cpu_ms(examine_page, html, url),
            "url": _cpu_ms(url_shape, url, repeat=10),
        }
        verdict = timed["extract"][1]
        tree = trafilatura.load_html(html)
        if tree is not None:
            timed["structure"] = _cpu_ms(Structure.of, tree, linked_text(tree), repeat=3)
        text = verdict.article.text if verdict.article else ""
        timed["walls"] = _cpu_ms(_walls, html, text, repeat=3)
        if verdict.signals:
            timed["prose"] = _cpu_ms(prose, verdict.signals.text_head, repeat=10)
            timed["model"] = _cpu_ms(article_probability, verdict.signals, repeat=10)
        for name, (ms, _) in timed.items():
            totals[name] += ms
    n = len(ids)
    bare = totals["bare"] / n
    print(f"== {n} WCXB dev pages: CPU ms per page (share of bare trafilatura with metadata)")
    for name, total in totals.items():
        print(f"  {name:<10}{total / n:8.3f} ms  {total / n / bare:6.1%}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
