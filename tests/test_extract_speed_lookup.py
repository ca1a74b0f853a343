"""trafilatura's parser picks lxml.html's element classes in C (archive/extract/handover.py,
issue 20): the same classes as lxml.html's own lookup, and so the same extraction."""

from __future__ import annotations

import lxml.html
import pytest
import trafilatura.utils
from lxml import etree

from archive.extract.handover import element_classes
from tests.helpers.pages import corpus_verdicts

FORMS = """<!DOCTYPE html><html><head><title>t</title><?php echo 1; ?></head><body>
<!-- a comment --><form action="/s"><label for="q">Search</label><input name="q" type="text">
<select name="s"><option>a</option></select><textarea name="t">x</textarea></form>
<FORM><INPUT name="upper"></FORM><fb:like></fb:like><svg><path d="M0"/></svg>
<p>Text &amp; more &nbsp; &#169;</p></body></html>"""


def _classes(html: str, lookup: etree.ElementClassLookup) -> list[tuple[str, type]]:
    """Every node's tag and class, the page parsed by trafilatura's parser with ``lookup``."""
    parser = lxml.html.HTMLParser(collect_ids=False, default_doctype=False, encoding="utf-8")
    parser.set_element_class_lookup(lookup)
    tree = lxml.html.fromstring(html.encode(), parser=parser)
    nodes = [(str(n.tag), type(n)) for n in tree.iter()]
    made = etree.SubElement(tree.find("body"), "input")  # an element made later, as trafilatura does
    return [*nodes, (made.tag, type(made))]


def test_the_lookup_gives_lxml_htmls_classes():
    mine = _classes(FORMS, element_classes())
    assert mine == _classes(FORMS, lxml.html.HtmlElementClassLookup())
    kinds = {cls.__name__ for _, cls in mine}
    assert {"FormElement", "InputElement", "SelectElement", "TextareaElement", "LabelElement"} <= kinds
    assert {"HtmlElement", "HtmlComment"} <= kinds


def test_trafilaturas_parser_makes_elements_without_the_python_lookup(monkeypatch):
    calls = []
    stock = lxml.html.HtmlElementClassLookup.lookup
    monkeypatch.setattr(lxml.html.HtmlElementClassLookup, "lookup", lambda *a: calls.append(a) or stock(*a))
    tree = trafilatura.utils.load_html(FORMS)
    assert [type(e).__name__ for e in tree.iter("form", "p")] == ["FormElement", "FormElement", "HtmlElement"]
    assert calls == []


@pytest.fixture
def stock_lookup():
    """trafilatura's parser with lxml.html's own (Python) lookup, for the test's length."""
    trafilatura.utils.HTML_PARSER.set_element_class_lookup(lxml.html.HtmlElementClassLookup())
    yield
    trafilatura.utils.HTML_PARSER.set_element_class_lookup(element_classes())


def test_pages_extract_the_same_with_either_lookup(request):
    fast = corpus_verdicts(3)  # a third of the bundled pages: a few seconds
    request.getfixturevalue("stock_lookup")
    assert corpus_verdicts(3) == fast
