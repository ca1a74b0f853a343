"""The headline: which of the page's titles to trust, and what to cut from it."""

from __future__ import annotations

import re
from html import unescape

from lxml import etree

from archive.document import normalize_block
from archive.extract.structured import StructuredData

# Separators before a site name in <title> and og:title ("Headline | Site", "Headline - Site").
SITE_SUFFIX = re.compile(r"\s+[|\-–—:·•]\s+[^|\-–—:·•]{1,40}$")
# What may follow a headline before a site or section name, spaced or not ("Headline | Site-Name").
SUFFIX_START = re.compile(r"\s*[|\-–—:·•/]")
# A kicker before a headline ("Olympics: Headline"): a short label and a colon.
KICKER = re.compile(r"^[^:]{2,60}:\s+(?=\S)")


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
    """The headline: a site's own selector, JSON-LD ``headline``, ``og:title`` or ``<title>``
    without the site's name, or the first ``<h1>``.

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
    candidates = [selected, headline, *others, *headings]
    return next((c for c in candidates if c), None)
