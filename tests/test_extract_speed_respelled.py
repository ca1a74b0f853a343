"""trafilatura's and htmldate's expressions respelled (archive/extract/respelled.py, issue
20): name lists as unions of name steps, regular-expression tests guarded by their
attributes. Each selects what its original selects, on real pages and from inner elements,
and pages extract the same."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest
import trafilatura

from archive.extract.decode import decode_html
from archive.extract.handover import RESPELLED
from archive.extract.respelled import respell
from tests.helpers.pages import ROWS, corpus_page, corpus_verdicts

WCXB = Path(__file__).parent / "data" / "wcxb"


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        (".//*[self::div or self::p][@class='x']", "(descendant::div[@class='x']|descendant::p[@class='x'])"),
        ("//*[self::h1 or self::h2][@id]", "(/descendant::h1[@id]|/descendant::h2[@id])"),
        ("(.//*[self::a or self::b][@x])[1]", "((descendant::a[@x]|descendant::b[@x]))[1]"),
        (".//*[self::p or self::li]/text()", "(descendant::p|descendant::li)/text()"),
        (  # brackets in a quoted regular expression are text, not a predicate
            ".//*[self::a or self::span][contains(@class, '[x]')][not(.//h1)]",
            "(descendant::a[contains(@class, '[x]')][not(.//h1)]"
            "|descendant::span[contains(@class, '[x]')][not(.//h1)])",
        ),
        (".//div[re:test(@class, 'nav')]", ".//div[((@class) and re:test(@class, 'nav'))]"),
        (
            ".//*[re:test(@id|@class, '^Foo', 'i') or @x]",
            ".//*[((@id or @class) and re:test(@id|@class, '^Foo', 'i')) or @x]",
        ),
        (".//div[re:test(@id, 'x?')]", ".//div[re:test(@id, 'x?')]"),  # true on "": no guard
        (".//div[re:test(@id, '^$|x')]", ".//div[re:test(@id, '^$|x')]"),
        (".//*[self::div or self::p][1]", ".//*[self::div or self::p][1]"),  # positional: per step
        (".//*[self::div or self::p][@a][last()]", ".//*[self::div or self::p][@a][last()]"),
        (".//*[self::div or self::p][@a='['", ".//*[self::div or self::p][@a='['"),  # unbalanced
        (".//div[@class]|.//*[(self::a or self::b)]", ".//div[@class]|.//*[(self::a or self::b)]"),
    ],
)
def test_respell(path, expected):
    assert respell(path) == expected


def _pages() -> list[str]:
    """The bundled corpus pages and WCXB pages, decoded."""
    charsets = {page_id: f"text/html; charset={row['encoding']}" for page_id, row in sorted(ROWS.items())}
    corpus = [decode_html(corpus_page(page_id), charset)[0] for page_id, charset in charsets.items()]
    return corpus + [gzip.decompress(p.read_bytes()).decode("utf-8") for p in sorted(WCXB.glob("*.html.gz"))]


def test_both_libraries_expressions_are_respelled():
    modules = {r.original.path for r in RESPELLED}
    assert len(modules) >= 20  # trafilatura's body, comment, discard, author, title expressions
    assert any("self::time" in path for path in modules)  # htmldate's free-text expression


def test_each_respelled_expression_selects_what_its_original_selects():
    checked = 0
    for html in _pages():
        tree = trafilatura.load_html(html)
        body = tree.find("body")
        for context in (tree, body):  # trafilatura evaluates them on the page and on parts of it
            for r in RESPELLED:
                original = r.original(context)
                assert r.respelled(context) == original, r.original.path
                checked += len(original)
    assert checked > 1000


@pytest.fixture
def originals():
    """The libraries' own expressions back in place for the test's length."""
    for r in RESPELLED:
        r.put(r.original)
    yield
    for r in RESPELLED:
        r.put(r.respelled)


def test_pages_extract_the_same_with_the_original_expressions(request):
    respelled = corpus_verdicts()
    request.getfixturevalue("originals")
    assert corpus_verdicts() == respelled
