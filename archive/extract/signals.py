"""What a page and its crawl say about whether it is an article, read as numbers.

The page-type decision (``pagetype``) weighs these. They are read from the page's own tree
before trafilatura prunes it (its structure: ``<article>``, ``<h1>``, paragraphs, links; what
its class and id names say it is built of, its forms, its runs of like siblings: a forum's
posts, a listing's cards, a manual's navigation tree), in a few passes lxml makes in C,
from what extraction found (body length and blocks, a date, how its text reads: ``prose``),
from the URL's shape and from how the crawl found the URL (a feed or sitemap entry is the
publisher calling it an article).
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import urlsplit

from lxml import etree

from archive.document import word_count

# Tags counted in one walk of the tree (lxml filters by tag in C).
COUNTED = (
    "article", "h1", "h2", "h3", "p", "li", "time", "form", "input", "nav", "aside", "video", "iframe",
    "pre", "code", "button", "table", "textarea", "select", "label", "dl", "kbd", "img", "blockquote", "svg",
)  # fmt: skip
LONG_PARAGRAPH = 25  # words: a sentence or more, not a teaser line or a menu entry
# What a page's class and id names say it is built of (each name counted once per pattern):
# a forum's posts and their authors, comments, a docs site's sidebar and table of contents,
# a shop, a grid of cards, breadcrumbs. Names, not texts: they are the same in every language.
MARKUP = {
    "comment": r"comment",
    "user": r"avatar|user-?name|userinfo|user-info|member|author-?info|poster|profile",
    "forum": r"reply|replies|answer|vote|thread|topic|forum|message|quote|post-?body|postbit|signature"
    r"|bbcode",
    "post": r"(^|[-_ ])posts?([-_ ]|$)",
    "crumb": r"breadcrumb",
    "docs": r"sidebar|toc|table-of-contents|docs?([-_ ]|$)|sphinx|markdown|md-|highlight|api",
    "shop": r"price|cart|product|sku|checkout|basket|woocommerce|shop",
    "card": r"card|tile|grid|teaser|listing|results?([-_ ]|$)|item",
    "nav": r"nav|menu",
    "story": r"article|entry|story|byline|headline",
}  # fmt: skip
# Case-sensitive over lower-cased names: re.I made these ~5x slower.
MARKUP_PATTERNS = {name: re.compile(rx) for name, rx in MARKUP.items()}
ANY_MARKUP = re.compile("|".join(f"(?:{rx})" for rx in MARKUP.values()))  # most names match none
NAMES = etree.XPath("//@class|//@id", smart_strings=False)
ITEMTYPES = etree.XPath("//@itemtype", smart_strings=False)
REPEATABLE = ("div", "li", "article", "section", "tr")  # the items of a list of posts, cards, rows
REPEATED = 5  # siblings of one tag and class: a list of items
# A thread's posts and comments are stamped "3 days ago"; a story carries its own date.
# Found by "ago" and then what comes before it (in lower case): 4x faster than the pattern
# tried at every place of the page's text.
AGO = re.compile(r"ago\b")
AGO_BEFORE = re.compile(r"\b\d+\s+(minutes?|hours?|days?|weeks?|months?|years?)\s+$")
AGO_REACH = 200  # characters before "ago" that may hold the number and its unit
# The buttons under every post of a thread.
POST_BUTTON = re.compile(r"^\s*(reply|quote|report|like|share|permalink|upvote|flag)\s*$", re.I)
# A landing page's calls to action; a listing's "read more" under every teaser.
CALL_TO_ACTION = re.compile(
    r"^\s*(learn more|read more|get started|contact us|get a quote|request a (demo|quote)|book (now|a demo)"
    r"|sign up|try (it )?(for )?free|start (your )?free trial|buy now|shop now|schedule|apply now"
    r"|enroll now)\W*$",
    re.I,
)

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
# Path segments of a manual and of a forum, and the hosts sites give them (docs.x, forum.x).
DOCS_SEGMENT = re.compile(
    r"(^|/)(docs?|documentation|api|reference|manual|guides?|tutorials?|wiki|kb|knowledge-?base|help|learn"
    r"|sdk|developers?)(/|$)",
    re.I,
)
FORUM_SEGMENT = re.compile(
    r"(^|/)(forums?|threads?|topics?|t|questions?|discussions?|community|discuss|board|viewtopic\.php"
    r"|showthread\.php|r)(/|$)",
    re.I,
)
# Sections of a company's site: what it sells, not what happened. Plural only: a singular
# "service" or "product" is as often a technical path (/service/news_view.htm).
SERVICE_SEGMENT = re.compile(
    r"(^|/)(services|solutions|what-we-do|capabilities|products|pricing|plans|tools|calculators"
    r"|programs|courses|offers|deals|coupons|features|industries|use-cases|careers|jobs)(/|$)",
    re.I,
)
DOCS_HOST = re.compile(r"^(docs|doc|developers?|dev|api|help|support|kb|wiki|learn)\.")
FORUM_HOST = re.compile(r"^(forums?|community|discuss|answers)\.")
SHOP_HOST = re.compile(r"^(shop|store)\.")


@dataclass(frozen=True)
class Structure:
    """Counts read of the page's tree before trafilatura prunes it."""

    tags: dict[str, int]
    long_paragraphs: int  # <p> of LONG_PARAGRAPH words or more
    paragraph_words: int  # words in all <p>
    linked_words: int  # words of links to other pages
    markup: dict[str, int]  # class/id names matching each MARKUP pattern
    itemtypes: frozenset[str]  # schema.org microdata types (itemtype), lower-cased
    inputs: dict[str, int]  # <input> by type (text when none)
    repeated: int  # the most siblings of one tag and class (REPEATABLE tags)
    repeated_lists: int  # parents of REPEATED or more such siblings
    list_depth: int  # deepest nesting of lists (a docs site's navigation tree)
    page_words: int  # white-space separated words of the whole <body>
    ago: int  # relative times ("3 days ago")
    post_buttons: int  # links and buttons that say reply, quote, report...
    calls_to_action: int  # links and buttons that say learn more, get started, contact us...

    @property
    def mostly_links(self) -> bool:
        """More words in links than in paragraphs: a page of links (a home, a section)."""
        return self.linked_words > max(self.paragraph_words, 4)

    @classmethod
    def of(cls, tree: etree._Element, linked: str) -> Structure:
        tags = dict.fromkeys(COUNTED, 0)
        inputs: Counter[str] = Counter()
        long_paragraphs = paragraph_words = post_buttons = calls_to_action = 0
        for element in tree.iter(*COUNTED):
            tags[element.tag] += 1
            if element.tag == "p":
                words = word_count(element.text_content())
                paragraph_words += words
                long_paragraphs += words >= LONG_PARAGRAPH
            elif element.tag == "input":
                inputs[(element.get("type") or "text").lower()] += 1
        for element in tree.iter("a", "button"):
            if label := element.text:
                post_buttons += bool(POST_BUTTON.match(label))
                calls_to_action += bool(CALL_TO_ACTION.match(label))
        markup = _named(NAMES(tree))
        itemtypes = frozenset(t.rstrip("/").rsplit("/", 1)[-1].lower() for t in ITEMTYPES(tree))
        siblings = Counter(
            (e.getparent(), e.tag, e.get("class")) for e in tree.iter(*REPEATABLE) if e.get("class")
        )
        body = tree.find("body")
        text = body.text_content() if body is not None else ""
        return cls(
            tags,
            long_paragraphs,
            paragraph_words,
            word_count(linked),
            markup,
            itemtypes,
            dict(inputs),
            max(siblings.values(), default=0),
            sum(n >= REPEATED for n in siblings.values()),
            _list_depth(tree),
            len(text.split()),
            _relative_times(text.lower()),
            post_buttons,
            calls_to_action,
        )


def _named(values: list[str]) -> dict[str, int]:
    """How many of the page's class and id names (``values``: the attributes, split at
    spaces) match each MARKUP pattern.

    A page repeats a few hundred distinct names thousands of times, and a site repeats them
    on every page: each distinct name is matched once per process (``_kinds``), and counted
    by a Counter in C. Matching every element's names as one text cost ~4 ms a page.
    """
    counts = dict.fromkeys(MARKUP, 0)
    for token, n in Counter(" ".join(values).lower().split()).items():
        for kind in _kinds(token):
            counts[kind] += n
    return counts


@lru_cache(maxsize=1 << 16)
def _kinds(token: str) -> tuple[str, ...]:
    """The MARKUP patterns one class or id name matches."""
    if not ANY_MARKUP.search(token):
        return ()
    return tuple(kind for kind, pattern in MARKUP_PATTERNS.items() if pattern.search(token))


def _relative_times(text: str) -> int:
    """How many times ``text`` (lower case) says "<n> minutes/hours/days... ago"."""
    return sum(
        bool(AGO_BEFORE.search(text, max(0, m.start() - AGO_REACH), m.start())) for m in AGO.finditer(text)
    )


def _list_depth(tree: etree._Element) -> int:
    """How deep lists nest in lists: a docs site's navigation tree nests four or five deep."""
    deepest = 0
    for element in tree.iter("ul", "ol"):
        depth, parent = 1, element.getparent()
        while parent is not None:
            depth += parent.tag in ("ul", "ol")
            parent = parent.getparent()
        deepest = max(deepest, depth)
    return deepest


def url_shape(url: str) -> dict[str, float]:
    """What the URL's path says: a story's slug, id or date, or a listing's name."""
    try:
        parts = urlsplit(url or "")
    except ValueError:  # an invalid URL (a bad IPv6 literal...): no shape to read
        parts = urlsplit("")
    segments = [s for s in parts.path.split("/") if s]
    host = (parts.hostname or "").lower()
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
        "url_docs": float(bool(DOCS_SEGMENT.search(parts.path))),
        "url_service": float(bool(SERVICE_SEGMENT.search(parts.path))),
        "url_forum": float(bool(FORUM_SEGMENT.search(parts.path))),
        "host_docs": float(bool(DOCS_HOST.match(host))),
        "host_forum": float(bool(FORUM_HOST.match(host))),
        "host_named": float(bool(DOCS_HOST.match(host) or FORUM_HOST.match(host) or SHOP_HOST.match(host))),
    }


# Letters that match an ASCII letter under re.I besides its two cases (Python's re docs).
_OTHER_CASES = {"i": "\u0130\u0131", "k": "\u212a", "s": "\u017f"}


def any_case_words(*alternatives: str) -> re.Pattern:
    r"""``re.compile(rf"\b({'|'.join(alternatives)})\b", re.I)``, matching the same spans ~2x faster.

    Each alternative starts with an ASCII letter. Under re.I, sre tries the pattern at every
    place of the text; written case-sensitively with the possible first letters as a set
    (every case of them), sre skips in C to the places where one stands. The word boundary
    before it is ``(?<!\w.)`` (what precedes the letter is no word character), and each
    alternative is tried, in its order, only after a letter it starts with (re.I's own
    comparison, in a lookbehind): the same match at the same places.
    """
    by_first: dict[str, list[str]] = {}
    for alternative in alternatives:
        by_first.setdefault(alternative[0].lower(), []).append(alternative[1:])
    first = "".join(f"{c}{c.upper()}{_OTHER_CASES.get(c, '')}" for c in by_first)
    branches = "|".join(f"(?<=(?i:{c}))(?i:{'|'.join(rests)})" for c, rests in by_first.items())
    return re.compile(rf"[{first}](?<!\w.)(?:{branches})\b")


# How a body's text reads (``prose``). A story reports: dates, years, who said what, quotes,
# sentences of twenty words. A company's page sells: prices, "we" and "you", imperatives,
# "contact us", short lines; a forum asks questions; a manual instructs.
# Read over the start of the extracted body only (``pagetype.TEXT_HEAD``): ~1 ms a page
# to 1.5 (``bench.pagetype_cost``, loaded machine); ``_named`` saved ~4 ms a page.
CURRENCY = re.compile(
    r"[$€£¥₹]\s?\d|\d\s?(€|eur|usd)\b|\b(usd|eur|gbp)\s?\d|/(mo|month|year|yr)\b|per (month|year)", re.I
)
YEAR = re.compile(r"\b(19|20)\d\d\b")
MONTH = any_case_words(
    "jan(uary)?", "feb(ruary)?", "march", "april", "june", "july", "aug(ust)?", "sept?(ember)?", "oct(ober)?",
    "nov(ember)?", "dec(ember)?",
)  # fmt: skip
SAID = any_case_words("said", "says", "told", "according to", "reported", "announced")
QUOTE_MARK = re.compile(r"[“”«»„\"]")
WE = any_case_words("we", "our", "us")
YOU = any_case_words("you", "your", "you're")
SELF = any_case_words("i", "my", "me", "i'm", "i've")
# A sentence that starts with a verb telling the reader what to do.
IMPERATIVE = re.compile(
    r"(^|\n|[.!?] )(get|contact|call|book|try|discover|learn|find|explore|choose|start|join|shop|buy|order"
    r"|download|sign|click|request|visit|see|check|read|let)\b",
    re.I,
)
PAST = re.compile(r"\b\w{3,}ed\b")  # English past tense and participles: a report of what happened
SENTENCE_END = re.compile(r"[.!?](\s|$)")
DIGIT = re.compile(r"\d")
SHORT_BLOCK = 8  # words: a heading, a button, a bullet, not a paragraph


def prose(text: str) -> dict[str, float]:
    """How ``text`` (a document: the title, a blank line, the body) reads, as numbers."""
    body = text.split("\n\n", 1)[1] if "\n\n" in text else ""
    blocks = [b for b in body.split("\n\n") if b.strip()] or [""]
    words = max(len(body.split()), 1)
    sentences = max(len(SENTENCE_END.findall(body)), 1)
    return {
        "text_currency": math.log1p(len(CURRENCY.findall(body))),
        "text_year": math.log1p(len(YEAR.findall(body))),
        "text_month": math.log1p(len(MONTH.findall(body))),
        "text_said": math.log1p(len(SAID.findall(body))),
        "text_quote": math.log1p(len(QUOTE_MARK.findall(body))),
        "text_we": len(WE.findall(body)) / words * 100,
        "text_you": len(YOU.findall(body)) / words * 100,
        "text_i": len(SELF.findall(body)) / words * 100,
        "text_imperative": math.log1p(len(IMPERATIVE.findall(body))),
        "text_past": len(PAST.findall(body)) / words * 100,
        "text_question": body.count("?") / sentences,
        "text_exclaim": body.count("!") / sentences,
        "text_sentlen": math.log1p(words / sentences),
        "text_short_blocks": sum(len(b.split()) < SHORT_BLOCK for b in blocks) / len(blocks),
        "text_digits": len(DIGIT.findall(body)) / max(len(body), 1) * 100,
    }
