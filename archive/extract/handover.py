"""The trafilatura hand-over: ``bare_extraction`` on the page's own tree, not on a copy."""

from __future__ import annotations

from typing import NamedTuple

import lxml.html
import trafilatura
import trafilatura.core

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
