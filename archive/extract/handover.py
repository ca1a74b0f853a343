"""The trafilatura hand-over: ``bare_extraction`` on the page's own tree, not on a copy,
and trafilatura's parser giving its elements their classes without a Python call."""

from __future__ import annotations

from typing import NamedTuple

import lxml.html
import trafilatura
import trafilatura.core
import trafilatura.utils
from lxml import etree

from archive.extract.respelled import respell_libraries

TRAFILATURA_OPTIONS = {"include_comments": False, "include_tables": True, "include_images": False}


class _HandedOver(NamedTuple):
    tree: lxml.html.HtmlElement


def _load_html(htmlobject, max_size: int | None = None) -> lxml.html.HtmlElement | None:
    """trafilatura's ``load_html``, which also takes a tree handed over (``run_trafilatura``)."""
    if isinstance(htmlobject, _HandedOver):
        return htmlobject.tree
    return _trafilatura_load_html(htmlobject, max_size)


_trafilatura_load_html = trafilatura.core.load_html
trafilatura.core.load_html = _load_html


def element_classes() -> etree.ElementNamespaceClassLookup:
    """lxml.html's element classes (``HtmlElementClassLookup``) chosen in C.

    lxml.html picks the class of every element proxy lxml makes (each time a walk or an
    XPath hands over an element) in a Python method, ``HtmlElementClassLookup.lookup``:
    ~5,000 calls and ~5% of a page's extraction (cProfile over the bench site's pages).
    The same choice made by lxml's own lookups, in C: the classes lxml.html registers
    by tag name (``form``, ``input``...; the HTML parser lower-cases names, which its
    lookup does itself), ``HtmlElement`` for any other element, and its comment, PI and
    entity classes. tests/test_extract_speed_lookup.py checks they give the same classes.
    """
    lookup = etree.ElementNamespaceClassLookup(
        etree.ElementDefaultClassLookup(
            element=lxml.html.HtmlElement,
            comment=lxml.html.HtmlComment,
            pi=lxml.html.HtmlProcessingInstruction,
            entity=lxml.html.HtmlEntity,
        )
    )
    lookup.get_namespace(None).update(lxml.html.HtmlElementClassLookup._default_element_classes)
    return lookup


# Every tree trafilatura parses (``load_html``: the page's own, the copies it parses) and so
# every tree extraction walks. Only the speed differs; trafilatura is pinned.
trafilatura.utils.HTML_PARSER.set_element_class_lookup(element_classes())

# trafilatura's and htmldate's expressions with their lists of names as name steps and their
# regular-expression tests called only where the attribute is (respelled.py). Only the speed differs.
RESPELLED = respell_libraries()


def run_trafilatura(tree: lxml.html.HtmlElement, **options) -> trafilatura.settings.Document | None:
    """``trafilatura.bare_extraction`` on ``tree`` itself, not on a copy.

    trafilatura deep-copies a tree it is given, because it prunes it (comment sections,
    stories appended below the article); the copy and freeing it cost ~1 ms a page, 5% of
    all extraction. What the rules read of the page is read before (``Page``), so the tree
    is handed over instead: wrapped, it gets past ``bare_extraction``'s copy, and
    ``_load_html`` unwraps it; nothing reads the tree afterwards. No public option does
    this; trafilatura is pinned, and tests/test_extract_rules.py checks that it works on
    the tree itself and gives what it gives on a copy.
    """
    return trafilatura.bare_extraction(_HandedOver(tree), as_dict=False, **TRAFILATURA_OPTIONS, **options)
