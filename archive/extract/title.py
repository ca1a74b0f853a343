"""The headline: which of the page's titles to trust, and what to cut from it."""

from __future__ import annotations

import re
from html import unescape

from lxml import etree

from archive.document import WORD, normalize_block, word_count
from archive.extract.structured import StructuredData

# Separators before a site name in <title> and og:title ("Headline | Site", "Headline - Site").
SITE_SUFFIX = re.compile(r"\s+[|\-–—:·•]\s+[^|\-–—:·•]{1,40}$")
# What may follow a headline before a site or section name, spaced or not ("Headline | Site-Name").
SUFFIX_START = re.compile(r"\s*[|\-–—:·•/]")
# A kicker before a headline ("Olympics: Headline"): a short label and a colon.
KICKER = re.compile(r"^[^:]{2,60}:\s+(?=\S)")
SHOWN_WORDS = 3  # a sole <h1> shorter than this is a label ("Blog", "Video Review"), not a headline
SAME_HEADLINE = 0.5  # share of words (Jaccard) from which <h1> and metadata title are one headline


def _strip_site_name(title: str) -> str:
    while SITE_SUFFIX.search(title) and len(SITE_SUFFIX.sub("", title)) >= 20:
        title = SITE_SUFFIX.sub("", title)
    return title


def _as_shown(title: str, headings: list[str]) -> str | None:
    """The visible ``<h1>`` when ``title`` is that heading plus a site or section name.

    A metadata title followed by " - Site" or " | Section | Site" whose first part is the
    page's own heading: the heading is the headline, whatever the site name looks like,
    and as the page shows it, whatever case the metadata gives it ("Review And Approval").
    """
    for heading in headings:
        shown = len(heading) >= 10 and title[: len(heading)].casefold() == heading.casefold()
        if shown and SUFFIX_START.match(title, len(heading)):
            return heading
    return None


def _words(text: str) -> set[str]:
    """The words of a title, case folded; soft hyphens (invisible hyphenation hints) dropped."""
    return {w.casefold() for w in WORD.findall(text.replace("\xad", ""))}


def _sole_heading(headings: list[str], title: str | None) -> str | None:
    """The page's one ``<h1>``, when it reads as a headline and is another headline than ``title``.

    Without a JSON-LD headline, ``og:title`` and ``<title>`` are often written for search results
    and social cards, a different headline from the one the page shows ("Top 11 SEO Strategies
    for 2025" against "11 SEO Strategies for 2025 to Boost Rankings and Stay Ahead"); a page
    with a single ``<h1>`` shows its headline there. When the two share half their words or
    more, the metadata title is the same headline edited (shortened, a kicker dropped, quotes
    straightened): the publisher's metadata stays, as the news corpus expects (bench/quality.py).
    """
    shown = [h for h in headings if h]
    if len(shown) != 1 or word_count(shown[0]) < SHOWN_WORDS:
        return None
    if title:
        mine, theirs = _words(shown[0]), _words(title)
        if len(mine & theirs) >= SAME_HEADLINE * len(mine | theirs):
            return None
    return shown[0]


def _without_kicker(headline: str, other: str) -> str:
    """``other`` when ``headline`` is ``other`` under a kicker ("Topic: Headline")."""
    kicker = KICKER.match(headline)
    return other if kicker and headline[kicker.end() :] == other else headline


def choose_title(
    structured: StructuredData,
    metas: dict[str, str],
    tree: etree._Element,
    headings: list[str],
    selected: str | None = None,
) -> str | None:
    """The headline: a site's own selector, JSON-LD ``headline``, the page's sole ``<h1>``
    (``_sole_heading``), ``og:title`` or ``<title>`` without the site's name, or the first ``<h1>``.

    The order is the one that matched the expected titles of the development corpus best
    (bench/quality.py); publishers disagree with themselves between these fields, so a
    site that needs another one sets ``title_selector``. Two general corrections: a title
    that is the page's ``<h1>`` plus a site name becomes the ``<h1>``, and a JSON-LD
    headline that is ``og:title`` under a kicker ("Topic: ...") becomes ``og:title``.
    """
    headline = structured.text("headline")
    headline = normalize_block(unescape(headline)) if headline else None
    others = []
    for value in (metas.get("og:title"), tree.findtext(".//title")):
        value = normalize_block(value or "")
        others.append(_as_shown(value, headings) or _strip_site_name(value))
    if headline and headline.endswith(("...", "…")):  # cut to fit a search result: find it whole
        cut = headline.rstrip(".… ")
        headline = next((c for c in [*others, *headings] if c.startswith(cut) and len(c) > len(cut)), None)
    elif headline:
        headline = _without_kicker(_as_shown(headline, headings) or headline, others[0])
    shown = None if headline else _sole_heading(headings, next((o for o in others if o), None))
    candidates = [selected, headline, shown, *others, *headings]
    return next((c for c in candidates if c), None)
