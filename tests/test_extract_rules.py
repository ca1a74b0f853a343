"""The general body rules of archive/extract.py, each on a small page and on a bundled one.

How much each rule gains on the development corpus is measured by bench/quality.py, not
here: these tests pin what each rule does and what it must leave alone.
"""

from __future__ import annotations

from copy import deepcopy

import lxml.html
import trafilatura
from lxml import etree

from archive.extract.body import without_headline
from archive.extract.decode import decode_html
from archive.extract.handover import TRAFILATURA_OPTIONS, run_trafilatura
from tests.helpers.pages import ROWS, corpus_page, extract_corpus_page

ARTICLE = [
    "The council approved the new budget on Tuesday after a debate that lasted six hours.",
    "Opposition members said the plan cut too deeply into spending on schools and libraries.",
    "The mayor said the city had no choice after two years of falling tax income.",
]


def page(body: str) -> etree._Element:
    return lxml.html.fromstring(f"<html><head><title>t</title></head><body>{body}</body></html>")


def result(*elements: str) -> etree._Element:
    """A trafilatura result tree (``<body>`` of ``<p>``, ``<head>``, ``<list>``)."""
    return etree.fromstring(f"<body>{''.join(elements)}</body>")


def paragraphs(*texts: str) -> list[str]:
    return [f"<p>{text}</p>" for text in texts]


# -- the headline repeated above the text -------------------------------------------------------


def test_the_headline_as_shown_is_not_body_text():
    title = "Council: Budget passes after six-hour debate"
    blocks = ["Council Budget passes after six-hour debate", ARTICLE[0], ARTICLE[1]]
    assert without_headline(blocks, title, []) == ARTICLE[:2]
    # The page's <h1> words the headline otherwise than the metadata does.
    blocks = ["City council passes a leaner budget", ARTICLE[0]]
    assert without_headline(blocks, title, ["City council passes a leaner budget"]) == [ARTICLE[0]]
    # Further down, or in a longer paragraph, the same words stay.
    blocks = [ARTICLE[0], ARTICLE[1], ARTICLE[2], "x", "Council Budget passes after six-hour debate"]
    assert without_headline(blocks, title, []) == blocks


def test_headline_with_other_quotes_is_not_repeated_in_a_bundled_page():
    text = extract_corpus_page("fundus-us-apnews-2023-04-28").text
    assert text.split("\n\n")[1].startswith("MEXICO CITY (AP)")


# -- trafilatura works on the page's own tree ----------------------------------------------------


def _fields(document) -> dict:
    """What extraction uses of a trafilatura result, comparable across two runs."""
    plain = {name: getattr(document, name) for name in document.__slots__}
    plain["body"] = etree.tostring(document.body)
    return {k: v for k, v in plain.items() if isinstance(v, str | bytes | list | int | type(None))}


def test_trafilatura_is_handed_the_tree_and_extracts_what_it_does_from_a_copy():
    pruned = 0
    for page_id, row in sorted(ROWS.items()):
        html, _ = decode_html(corpus_page(page_id), f"text/html; charset={row['encoding']}")
        tree = trafilatura.load_html(html)
        before = etree.tostring(tree)
        on_a_copy = trafilatura.bare_extraction(
            deepcopy(tree), url=row["url"], with_metadata=True, as_dict=False, **TRAFILATURA_OPTIONS
        )
        handed_over = run_trafilatura(tree, url=row["url"], with_metadata=True)
        assert _fields(handed_over) == _fields(on_a_copy), page_id
        pruned += etree.tostring(tree) != before
    # trafilatura pruned the tree it was handed (comments, stories below): not a copy of it.
    assert pruned > 0
