"""The standfirst: the lead under the headline, put back when trafilatura left it out."""

from __future__ import annotations

from collections.abc import Iterable
from html import unescape

from lxml import etree

from archive.document import normalize_block, word_count
from archive.extract.page import spaced_text

# Text nodes of the page's body that contain $word (smart strings: they know their element).
TEXT_WITH = etree.XPath("/descendant::body/descendant::text()[contains(., $word)]")
# Elements that do not show their text as the page's own: scripts, and image captions (a
# description repeated under a photo is not the lead).
NOT_SHOWN = {"script", "style", "noscript", "figcaption"}
# Elements inside a paragraph (a link, a bold word): the paragraph is their parent.
INLINE = set("a abbr b cite em font i mark q small span strong sub sup u".split())


def shown_on_page(tree: etree._Element, text: str) -> bool:
    """Whether ``text`` is a paragraph (or part of one) shown on the page.

    Only the text nodes holding its longest first word are looked at, each in its paragraph:
    reading the whole page's text for every description cost ~1.5 ms a page.
    """
    # A run of characters without a space, so that it also finds Chinese or Japanese text;
    # cut short, so that it rarely runs into a link or a bold word.
    word = max(text.split()[:8], key=len)[:12]
    for node in TEXT_WITH(tree, word=word):
        element = node.getparent()
        if node.is_tail:
            element = element.getparent()
        while element.tag in INLINE and element.getparent() is not None:
            element = element.getparent()
        if element.tag in NOT_SHOWN or any(e.tag in NOT_SHOWN for e in element.iterancestors()):
            continue
        # A standfirst of two paragraphs is one description: their parent holds it.
        shown = spaced_text(element)
        if shown and shown in text and element.getparent() is not None:
            shown = spaced_text(element.getparent())
        if text in shown:
            return True
    return False


def with_standfirst(blocks: list[str], descriptions: Iterable[str | None], tree: etree._Element) -> list[str]:
    """The standfirst (the lead under the headline) first, when trafilatura left it out.

    It is one of the page's descriptions (``<meta>``, ``og:``, JSON-LD: publishers word them
    differently, and one of them is often the lead as shown) shown on the page itself: a
    description found only in metadata is a search-engine summary, not article text.
    """
    for description in dict.fromkeys(normalize_block(unescape(d or "")) for d in descriptions):
        if word_count(description) < 8:
            continue
        if any(description[:60] in normalize_block(b) for b in blocks):
            return blocks
        if shown_on_page(tree, description):
            return [description, *blocks]
    return blocks
