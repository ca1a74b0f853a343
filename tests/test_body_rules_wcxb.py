"""Body text and titles on real pages from sites outside the development corpus (WCXB,
CC-BY-4.0: tests/data/wcxb/README.md), and on the bad inputs each piece meets."""

from __future__ import annotations

import gzip
import importlib.util
import json
from copy import deepcopy
from pathlib import Path

import trafilatura
from lxml import etree

from archive.document import build_document
from archive.extract.blocks import body_blocks, word_grams
from archive.extract.body import RULE_NAMES, BodyFacts, body_of, publisher_checked_body
from archive.extract.handover import run_trafilatura
from archive.extract.page import Page
from archive.extract.sites import SiteRules
from archive.extract.structured import StructuredData
from archive.extract.title import choose_title

DATA = Path(__file__).parent / "data" / "wcxb"
EVALUATE = Path(__file__).resolve().parent / "data" / "wcxb" / "evaluate.py"  # WCXB's own scorer


def _page(page_id: str) -> tuple[str, dict]:
    html = gzip.decompress((DATA / f"{page_id}.html.gz").read_bytes()).decode("utf-8")
    return html, json.loads((DATA / f"{page_id}.json").read_text(encoding="utf-8"))


def _body(page_id: str, off: frozenset[str] = frozenset()) -> str:
    """The page's body text through the rules not in ``off``, as ``examine_page`` makes it
    (the page-type decision aside: these tests are about the text)."""
    html, truth = _page(page_id)
    tree = trafilatura.load_html(html)
    page = Page.of(tree, SiteRules(), "2026-01-01")
    meta = run_trafilatura(tree, url=truth["url"], with_metadata=True)
    text = build_document(
        BodyFacts.of(page, meta).title, body_of(deepcopy(meta.body), BodyFacts.of(page, meta), off)
    )
    return text.partition("\n\n")[2]


def _word_f1(got: str, expected: str) -> float:
    """WCXB's own metric (word-bag F1), by its evaluate.py (copied into tests/data/wcxb)."""
    spec = importlib.util.spec_from_file_location("wcxb_evaluate", EVALUATE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.word_f1(got, expected)[2]


def test_a_list_in_a_list_item_comes_once():
    body = _body("0249")
    _, truth = _page("0249")
    assert body.count("Cash flow: This is a bit of an overused term") == 1
    assert "Advantages\n\nCash flow:" in body  # the outer item, then its own list's items
    assert _word_f1(body, truth["main_content"]) > 0.99  # 0.92 with the items twice


def test_every_rule_can_be_switched_off_by_name():
    every = _body("0249")
    assert _body("0249", frozenset({"no such rule"})) == every
    assert set(RULE_NAMES) == {"publisher", "headline"}


def test_nested_lists_line_breaks_and_comments():
    body = etree.fromstring(
        "<body><list><item>Advantages<list><item>One</item><item>Two<lb/>lines</item></list></item>"
        "<item>Three</item></list><p>A <hi>b</hi><lb/>c<!-- note -->d</p></body>"
    )
    assert [b for b in body_blocks(body) if b] == ["Advantages ", "One", "Two lines", "Three", "A b cd"]


# Bad inputs.


def test_empty_results():
    assert body_blocks(etree.fromstring("<body/>")) == [""]
    assert body_blocks(etree.fromstring("<body><list/><table/></body>")) == ["", "", ""]
    assert word_grams("") == set()
    assert word_grams("one two") == {("one", "two")}


def test_publisher_body_absent_short_or_unrelated():
    blocks = ["A first paragraph of the article, as trafilatura found it on the page."]
    assert publisher_checked_body(blocks, []) == blocks
    assert publisher_checked_body(blocks, ["Something else entirely."]) == blocks
    assert publisher_checked_body([], []) == []


def test_title_is_the_heading_as_shown_whatever_the_case_of_the_metadata():
    html = (
        "<html><head><title>Video Review And Approval Process - MASV</title></head>"
        "<body><h1>Video Review and Approval Process</h1></body></html>"
    )
    tree = trafilatura.load_html(html)
    headings = ["Video Review and Approval Process"]
    assert choose_title(StructuredData(set(), None), {}, tree, headings) == headings[0]
    # a heading that is only the start of the title's first words is not the title
    assert choose_title(StructuredData(set(), None), {}, tree, ["Video Review"]) != "Video Review"


def test_no_title_anywhere():
    tree = trafilatura.load_html("<html><body><p>Text only.</p></body></html>")
    assert choose_title(StructuredData(set(), None), {}, tree, []) is None


def test_paragraphs_inside_a_list_item_are_words_apart():
    item = "<item><p>March 16, 2026</p><p>FABCON</p>Atlanta</item>"
    body = etree.fromstring(f"<body><list>{item}</list></body>")
    assert " ".join(body_blocks(body)[1].split()) == "March 16, 2026 FABCON Atlanta"
