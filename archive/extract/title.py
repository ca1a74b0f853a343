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
RELATED = 0.2  # share of words (Jaccard) from which <h1> and metadata title are about one story


def _decoded(text: str | None) -> str:
    """``text`` with its character references decoded, also those encoded twice
    ("And finally&amp;#8230;" in JSON-LD), white space collapsed."""
    text = text or ""
    for _ in range(3):
        text, before = unescape(text), text
        if text == before:
            break
    return normalize_block(text)


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
        if len(heading) < 10:
            continue
        if title[: len(heading)].casefold() == heading.casefold() and SUFFIX_START.match(title, len(heading)):
            return heading
    return None


def _words(text: str) -> list[str]:
    """The words of a title, case folded; soft hyphens (invisible hyphenation hints) dropped."""
    return [w.casefold() for w in WORD.findall(text.replace("\xad", ""))]


def _overlap(one: str, other: str) -> float:
    """Share of words (Jaccard) two titles have in common."""
    mine, theirs = set(_words(one)), set(_words(other))
    return len(mine & theirs) / len(mine | theirs) if mine | theirs else 0.0


def _site_names(own: set[str], titles: list[str]) -> set[str]:
    """The site's names: ``own`` (``_own_names``) and what ``<title>`` and ``og:title``
    carry after their headline, case folded."""
    names = set(own)
    for title in titles:
        while (cut := SITE_SUFFIX.search(title)) is not None:
            names.add(title[cut.start() :].lstrip(" |-–—:·•").casefold())
            title = title[: cut.start()]
    return names


def _own_names(metas: dict[str, str]) -> set[str]:
    """The names the site gives itself in ``og:site_name`` and ``application-name``, case folded."""
    names = {normalize_block(metas.get(key) or "").casefold() for key in ("og:site_name", "application-name")}
    return names - {""}


def _headline_headings(headings: list[str], sites: set[str]) -> list[str]:
    """The page's ``<h1>`` texts that may be a headline: not empty, not the site's name (a logo
    in an ``<h1>``: "Engora Data Blog"), each once."""
    return list(dict.fromkeys(h for h in headings if h and h.casefold() not in sites))


def _under_kicker(heading: str, title: str) -> bool:
    """Whether ``heading`` is ``title`` under a kicker or a date shown in the same ``<h1>``
    ("Minderheit in Syrien - Drusen fordern ...", "Dec 18 2025 Preparing a transition ...")."""
    mine, theirs = _words(heading), _words(title)
    return 0 < len(theirs) < len(mine) and mine[-len(theirs) :] == theirs


def _shown_headline(
    shown: list[str], headline: str | None, others: list[str], raw: list[str], seo: bool
) -> str | None:
    """The headline the page shows in an ``<h1>``, when it is to be trusted over the metadata.

    ``og:title``, ``<title>`` and a JSON-LD headline copied from ``<title>`` (``seo``) are
    often written for search results and social cards; the page's one ``<h1>`` about the
    story (``shown``: the others share under a fifth of their words with every metadata
    title) is the headline its readers see. When it is a reworded version of the metadata's
    (they share at least a fifth of their words) the heading is the headline; when they
    share less, the heading is a label ("Contact Us", "M&A Updates") and the metadata stays.
    When they are the same words (case, quotes, a site name), the metadata's spelling stays,
    ``og:title``'s before ``<title>``'s; a heading that is a metadata title under a kicker or
    a date gives that title. A JSON-LD headline written for the page stays first: on news
    sites the publisher's headline field is the headline (bench/quality.py).
    """
    if len(shown) > 1:
        named = [t for t in (headline, *others) if t]
        shown = [h for h in shown if named and max(_overlap(h, t) for t in named) >= RELATED]
    if len(shown) != 1 or word_count(shown[0]) < SHOWN_WORDS or (headline and not seo):
        return None
    heading = shown[0]
    words = _words(heading)
    # each metadata title as the page gives it, and as it stands without the site's name
    given = [(headline, headline)]
    for text, clean in zip(raw, others, strict=True):
        given += [(text, clean), (clean, clean)]
    given = [(text, clean) for text, clean in given if text]
    same = next((clean for text, clean in given if _words(text) == words), None)
    if same:
        # og:title says something else than the <title> the heading repeats: og:title stays
        return None if others[0] and same == others[1] and _words(others[0]) != words else same
    kicked = next((clean for _, clean in given if _under_kicker(heading, clean)), None)
    if kicked or max((_overlap(heading, clean) for _, clean in given), default=1.0) < RELATED:
        return kicked
    return heading


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
    """The headline: a site's own selector, the headline the page shows in its ``<h1>`` where
    it is to be trusted over the metadata (``_shown_headline``), JSON-LD ``headline``,
    ``og:title`` or ``<title>`` without the site's name, or the first ``<h1>``.

    Publishers disagree with themselves between these fields, so a site that needs another
    one sets ``title_selector``. General corrections: a title that is the page's ``<h1>``
    plus a site name becomes the ``<h1>``, a JSON-LD headline that is ``og:title`` under a
    kicker ("Topic: ...") becomes ``og:title``, one cut short ("...") is found whole, and an
    ``og:title`` or ``<title>`` that is only the site's name is none.
    """
    headline = structured.text("headline")
    headline = _decoded(headline) or None
    raw = [_decoded(t) for t in (metas.get("og:title"), tree.findtext(".//title"))]
    own = _own_names(metas)
    shown = _headline_headings(headings, _site_names(own, raw))
    raw = [t if t.casefold() not in own else "" for t in raw]  # og:title "Robomow"
    others = [_as_shown(value, shown) or _strip_site_name(value) for value in raw]
    seo = bool(headline) and headline == raw[1]  # copied from <title>: the search result's headline
    if headline and headline.endswith(("...", "…")):  # cut to fit a search result: find it whole
        cut = headline.rstrip(".… ")
        headline = next((c for c in [*others, *headings] if c.startswith(cut) and len(c) > len(cut)), None)
    elif headline:
        headline = _without_kicker(_as_shown(headline, shown) or headline, others[0])
    visible = _shown_headline(shown, headline, others, raw, seo)
    candidates = [selected, visible, headline, *others, *headings]
    return next((c for c in candidates if c), None)
