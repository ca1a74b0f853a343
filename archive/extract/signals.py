"""What a page and its crawl say about whether it is an article, read as numbers.

The page-type decision (``pagetype``) weighs these. They are read from the page's own tree
before trafilatura prunes it (its structure: ``<article>``, ``<h1>``, paragraphs, links),
from what extraction found (body length and blocks, a date), from the URL's shape and from
how the crawl found the URL (a feed or sitemap entry is the publisher calling it an article).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from lxml import etree

from archive.document import word_count

# Tags counted in one walk of the tree (lxml filters by tag in C).
COUNTED = (
    "article", "h1", "h2", "h3", "p", "li", "time", "form", "input", "nav", "aside", "video", "iframe",
    "pre", "code", "button", "table",
)  # fmt: skip
LONG_PARAGRAPH = 25  # words: a sentence or more, not a teaser line or a menu entry

# Path segments that name a page of many pages rather than one story.
LISTING_SEGMENT = re.compile(
    r"^(tags?|topics?|categor(y|ies)|sections?|authors?|autor(en)?|writers?|people|profiles?|search|suche"
    r"|archives?|page|seite|videos?|live|index|latest|all|news|feed|rss|themen?|thema|rubri(que|k)"
    r"|about|contact|kontakt|impressum|privacy|terms|login|register|subscribe|shop|cart|products?)$"
)
# Segments that, anywhere in a path, put the page under a listing: /tag/x/, /author/y/.
LISTING_PARENT = re.compile(r"^(tags?|topics?|categor(y|ies)|authors?|autor(en)?|search|suche|page|seite)$")
DATED_PATH = re.compile(r"/(19|20)\d\d[/-](0?[1-9]|1[0-2])([/-]|$)|/(19|20)\d\d(0[1-9]|1[0-2])\d\d")
LONG_NUMBER = re.compile(r"\d{5,}")
SEARCH_QUERY = re.compile(r"(^|&)(q|s|query|search|keywords?|page|p)=", re.I)


@dataclass(frozen=True)
class Structure:
    """Counts read of the page's tree before trafilatura prunes it."""

    tags: dict[str, int]
    long_paragraphs: int  # <p> of LONG_PARAGRAPH words or more
    paragraph_words: int  # words in all <p>
    linked_words: int  # words of links to other pages

    @property
    def mostly_links(self) -> bool:
        """More words in links than in paragraphs: a page of links (a home, a section)."""
        return self.linked_words > max(self.paragraph_words, 4)

    @classmethod
    def of(cls, tree: etree._Element, linked: str) -> Structure:
        tags = dict.fromkeys(COUNTED, 0)
        long_paragraphs = paragraph_words = 0
        for element in tree.iter(*COUNTED):
            tags[element.tag] += 1
            if element.tag == "p":
                words = word_count(element.text_content())
                paragraph_words += words
                long_paragraphs += words >= LONG_PARAGRAPH
        return cls(tags, long_paragraphs, paragraph_words, word_count(linked))


def url_shape(url: str) -> dict[str, float]:
    """What the URL's path says: a story's slug, id or date, or a listing's name."""
    try:
        parts = urlsplit(url or "")
    except ValueError:  # an invalid URL (a bad IPv6 literal...): no shape to read
        parts = urlsplit("")
    segments = [s for s in parts.path.split("/") if s]
    last = segments[-1].rsplit(".", 1)[0] if segments else ""
    return {
        "url_depth": min(len(segments), 6),
        "url_root": float(not segments),
        "url_slug": float(last.count("-") + last.count("_") >= 3),
        "url_number": float(bool(LONG_NUMBER.search(parts.path))),
        "url_dated": float(bool(DATED_PATH.search(parts.path))),
        "url_listing": float(bool(segments) and bool(LISTING_SEGMENT.match(segments[-1].lower()))),
        "url_listing_parent": float(any(LISTING_PARENT.match(s.lower()) for s in segments[:-1])),
        "url_slash": float(parts.path.endswith("/")),
        "url_query": float(bool(SEARCH_QUERY.search(parts.query))),
        "url_paged": float(bool(re.search(r"/(page|seite)/\d+/?$", parts.path))),
    }
