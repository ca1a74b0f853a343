"""The page-type decision: is this page an article (a row of the store), and if not, why not?

Walls and challenges are named by what they say (a bot-protection service's interstitial,
a cookie-consent page, a paywall's teaser), and so are pages that say what they are (a
video, ten undated stories); everything else is weighed by a logistic regression over the
page's signals (``signals``), trained on WCXB dev and the news corpus by
``bench/pagetype_train.py`` and evaluated on domains it was not trained on. Its weights are
a small JSON file applied here in plain Python: no learning library at run time.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from archive.extract.signals import Structure, any_case_words, prose, url_shape
from archive.extract.structured import ARTICLE_PAGETYPES

MODEL = Path(__file__).with_name("pagetype_model.json")
MIN_WORDS = 30  # below, not even a news brief: a teaser, a caption, an error line
PAYWALL_TEASER = 250  # words: a paywalled page with fewer shows a teaser, not the article
WALL_WORDS = 200  # a wall or challenge page says little besides
MANY_STORIES = 10  # <article> elements: a page of stories (WCXB dev: 18 non-articles, 1 article)
ROUTES = ("feed", "sitemap", "link", "start", "revisit")
# log-odds; see article_probability. A revisit is an archived article fetched again on schedule:
# the store judged it an article when it first came, as the publisher does by a feed entry.
ROUTE_PRIOR = {"feed": 1.5, "sitemap": 1.5, "revisit": 1.5, "start": -1.5}

# schema.org and og:type kinds that say "not an article": listings, profiles, videos, shops, forums.
LISTING_TYPES = {
    "collectionpage",
    "searchresultspage",
    "profilepage",
    "itemlist",
    "videoobject",
    "mediagallery",
}
PRODUCT_TYPES = {"product", "productgroup", "offer", "aggregateoffer", "softwareapplication"}
FORUM_TYPES = {"discussionforumposting", "qapage", "question"}
# A site's own pages (about, contact, services, FAQ) and manuals: not news, rarely an article.
PAGE_TYPES = {"aboutpage", "contactpage", "faqpage", "service", "localbusiness", "howto", "course", "event"}
TECH_TYPES = {"techarticle", "apireference", "softwaresourcecode"}
# What a shop's, a service's or a forum's text says and a story's rarely does (counted in its start).
COMMERCE = any_case_words(
    "pricing", "add to (cart|basket)", "buy now", "free trial", "sign up", "get started",
    "book (a demo|now)", "contact us", "request a quote", "our (services|team|clients|customers|solutions)",
    "in stock", "shipping",
)  # fmt: skip
FORUM_WORDS = any_case_words(
    "reply", "replies", "replied", "posted", "joined", "quote", "thread", "views", "upvotes?", "members?"
)
TEXT_HEAD = 3000  # characters of the body the word counts read
IMPERATIVES = math.log1p(3)  # sentences telling the reader to act (``text_imperative``, log)
ADDRESSED = 3.0  # "you"/"we" per 100 words: a page talking to its customer

# Markers of the interstitials of the common bot-protection services (Cloudflare, Akamai,
# DataDome, PerimeterX/HUMAN, Imperva, Sucuri): found only on the challenge page itself, not
# in the sensor scripts these services also put on ordinary pages.
CHALLENGE = re.compile(
    r"cf_chl_opt|/cdn-cgi/challenge-platform/h/|cf-browser-verification|<title>just a moment\.\.\.</title>"
    r"|attention required! \| cloudflare|captcha-delivery\.com|errors\.edgesuite\.net"
    r"|px-captcha|_incapsula_resource|incapsula incident id|sucuri website firewall|sucuri_cloudproxy"
)
CHALLENGE_BYTES = 20_000  # an interstitial is small; its markers come early
# A consent wall asks for a choice about cookies: both its subject and its buttons show in its
# little text (an article about cookie law has the one, rarely the other).
CONSENT_SUBJECT = re.compile(r"\b(cookies?|consent|datenschutz|einwilligung|données personnelles)\b", re.I)
CONSENT_CHOICE = re.compile(
    r"\b(accept all|reject all|accept cookies|manage (cookies|options|preferences)"
    r"|privacy (settings|preferences)"
    r"|before you continue|alle akzeptieren|alle ablehnen|tout accepter|tout refuser|aceptar todas?"
    r"|rechazar todas?|accetta tutti|rifiuta tutti)\b",
    re.I,
)


def challenge_in(html: str) -> bool:
    """``html`` is a bot-protection interstitial (also served with 403, 429 or 503)."""
    return bool(CHALLENGE.search(html[:CHALLENGE_BYTES].lower()))


def free_to_read(article: dict | None) -> bool:
    """Not marked ``isAccessibleForFree: false`` by the publisher's JSON-LD (the article or
    one of its parts): Google's markup for paywalled content."""
    if not article:
        return True
    parts = article.get("hasPart")
    marks = [article] + [p for p in (parts if isinstance(parts, list) else [parts]) if isinstance(p, dict)]
    return not any(str(m.get("isAccessibleForFree", "")).strip().lower() == "false" for m in marks)


def capture_reason(record_type: str, status: int | None, html: bool, head: Callable[[], str]) -> str | None:
    """Why a capture is no article, known without extracting it; None for a page to extract
    (its verdict comes from ``not_article_reason``). ``head``: the start of the body's text,
    read only for an HTML error page (a challenge is often served as 403 or 503)."""
    if record_type == "revisit":
        return "duplicate"  # the payload of an earlier capture, already read
    if status is not None and status >= 400:
        return "bot_challenge" if html and challenge_in(head()) else "error_page"
    if status == 304:
        return "not_modified"
    if status is not None and 300 <= status < 400:
        return "redirect"
    if not html:
        return "not_html"
    if status is not None and status != 200:
        return "no_content"  # 1xx, 204, 206...: never a whole page
    return None


@dataclass(frozen=True)
class Signals:
    """What the decision weighs, for one page."""

    url: str
    route: str | None  # how the crawl found the URL: feed, sitemap, link, start (None: unknown)
    types: frozenset[str]  # schema.org types of the JSON-LD
    og_type: str  # og:type, lower-cased ("" when none)
    free: bool  # not marked isAccessibleForFree: false
    dated: bool  # a publication date in the markup
    authors: bool  # a byline: the JSON-LD's or trafilatura's author
    words: int  # of the extracted body
    blocks: int  # paragraphs, headings, list items of the extracted body
    title: str
    text_head: str  # the start of the body (TEXT_HEAD characters)
    structure: Structure
    heading: str = ""  # the page's first <h1> ("" when none)

    @property
    def link_share(self) -> float:
        """Share of the page's text that is link text (menus, teasers, tag clouds)."""
        total = self.structure.linked_words + self.structure.paragraph_words
        return self.structure.linked_words / total if total else 1.0


def features(s: Signals) -> dict[str, float]:
    """The model's inputs: counts compressed by log, flags as 0/1."""
    tags = s.structure.tags
    kind = s.og_type.replace("_", "")
    return {
        "type_article": float(bool(s.types & ARTICLE_PAGETYPES) or kind in ARTICLE_PAGETYPES),
        "type_listing": float(bool(s.types & LISTING_TYPES) or kind in LISTING_TYPES),
        "type_product": float(bool(s.types & PRODUCT_TYPES) or kind in PRODUCT_TYPES),
        "type_forum": float(bool(s.types & FORUM_TYPES)),
        "og_other": float(kind not in ("", "website", "webpage") and kind not in ARTICLE_PAGETYPES),
        "dated": float(s.dated),
        "log_words": math.log1p(s.words),
        "log_blocks": math.log1p(s.blocks),
        "words_per_block": math.log1p(s.words / max(s.blocks, 1)),
        "long_paragraphs": math.log1p(s.structure.long_paragraphs),
        "link_share": s.link_share,
        "articles": math.log1p(tags["article"]),
        "one_h1": float(tags["h1"] == 1),
        "teasers": math.log1p(tags["h2"] + tags["h3"]),
        "list_items": math.log1p(tags["li"]),
        "times": math.log1p(tags["time"]),
        "forms": math.log1p(tags["form"] + tags["input"]),
        "media": math.log1p(tags["video"] + tags["iframe"]),
        "code": math.log1p(tags["pre"] + tags["code"]),
        "buttons": math.log1p(tags["button"]),
        "tables": math.log1p(tags["table"]),
        "authors": float(s.authors),
        "og_article": float(kind == "article"),
        "type_page": float(bool(s.types & PAGE_TYPES)),
        "type_tech": float(bool(s.types & TECH_TYPES)),
        "commerce": math.log1p(len(COMMERCE.findall(s.text_head))),
        "forum_words": math.log1p(len(FORUM_WORDS.findall(s.text_head))),
        "asides": math.log1p(tags["aside"] + tags["nav"]),
        **url_shape(s.url),
        **_markup(s),
        **prose(s.text_head),
    }


def _markup(s: Signals) -> dict[str, float]:
    """What the page is built of (forum posts, a docs tree, a shop, a grid of cards) and how
    its text reads (a story's sentences, a service page's "you" and "our")."""
    st, tags = s.structure, s.structure.tags
    head = s.text_head.lower().split()
    return {
        **{f"names_{name}": math.log1p(n) for name, n in st.markup.items()},
        "microdata_product": float(bool(st.itemtypes & PRODUCT_TYPES)),
        "microdata_listing": float(bool(st.itemtypes & (LISTING_TYPES | {"listitem"}))),
        "password": float(st.inputs.get("password", 0) > 0),
        "search_box": float(st.inputs.get("search", 0) > 0),
        "email_box": float(st.inputs.get("email", 0) > 0),
        "text_boxes": math.log1p(st.inputs.get("text", 0)),
        "checkboxes": math.log1p(st.inputs.get("checkbox", 0)),
        "textareas": math.log1p(tags["textarea"]),
        "selects": math.log1p(tags["select"]),
        "labels": math.log1p(tags["label"]),
        "definitions": math.log1p(tags["dl"]),
        "keys": math.log1p(tags["kbd"]),
        "images": math.log1p(tags["img"]),
        "quotes": math.log1p(tags["blockquote"]),
        "icons": math.log1p(tags["svg"]),
        "repeated": math.log1p(st.repeated),
        "repeated_lists": math.log1p(st.repeated_lists),
        "list_depth": float(min(st.list_depth, 5)),
        "h1_count": float(min(tags["h1"], 3)),
        "h1_words": math.log1p(len(s.heading.split())),
        "title_words": math.log1p(len(s.title.split())),
        "body_share": s.words / st.page_words if st.page_words else 0.0,
        "ago": math.log1p(st.ago),
        "post_buttons": math.log1p(st.post_buttons),
        "calls_to_action": math.log1p(st.calls_to_action),
        "sentences": math.log1p(s.text_head.count(". ") + s.text_head.count(".\n")),
        "first_person": math.log1p(sum(head.count(w) for w in ("i", "my", "i'm", "me"))),
        "second_person": math.log1p(sum(head.count(w) for w in ("you", "your", "we", "our"))),
    }


@cache
def _model() -> dict:
    return json.loads(MODEL.read_text(encoding="utf-8"))


def article_probability(s: Signals, x: dict[str, float] | None = None) -> float:
    """The model's probability that the page is an article, the crawl's route weighed in
    (``x``: the page's ``features``, when already read).

    WCXB pages come with no route, so its weight is not learned but set: a feed or sitemap
    entry is the publisher listing the page as a story (odds x4.5), a start page is a home
    or section page the site list names (odds /4.5).
    """
    model = _model()
    x = dict(x or features(s))
    for a, b in model["interactions"]:
        x[f"{a}*{b}"] = x[a] * x[b]
    z = model["bias"] + sum(
        w * (x[name] - model["mean"][name]) / model["scale"][name] for name, w in model["weights"].items()
    )
    z += ROUTE_PRIOR.get(s.route or "", 0.0)
    return 1 / (1 + math.exp(-max(-50.0, min(50.0, z))))


def _typed_article(s: Signals) -> bool:
    return bool(s.types & ARTICLE_PAGETYPES) or s.og_type.replace("_", "") in ARTICLE_PAGETYPES


def _video(s: Signals) -> bool:
    """The publisher calls the page a video (og:type video.*, a VideoObject) and not an article."""
    return not _typed_article(s) and (s.og_type.startswith("video") or "videoobject" in s.types)


def _named_listing(x: dict[str, float]) -> bool:
    """A page of many pages by name: so typed, a site's root, /tag/, /page/2, ?q=."""
    return bool(x["type_listing"] or x["url_root"] or x["url_listing"] or x["url_paged"] or x["url_query"])


def _shaped_like_listing(s: Signals) -> bool:
    """A page of many stories by its shape: mostly links, or several teasers or times."""
    tags = s.structure.tags
    return s.link_share > 0.5 or tags["article"] >= 3 or tags["time"] >= 3


def _looks_like_docs(s: Signals, x: dict[str, float]) -> bool:
    """A manual's page: under docs/help/api (path or host), or code blocks and key names."""
    tags = s.structure.tags
    return bool(x["url_docs"] or x["host_docs"] or x["type_tech"]) or tags["pre"] + tags["kbd"] >= 3


def _looks_like_service(s: Signals, x: dict[str, float]) -> bool:
    """A company's page about what it offers (services, pricing, courses, careers, about,
    contact): so named by its path or its schema.org type, or its text selling rather than
    reporting (prices, calls to action, "our services", the reader told what to do)."""
    selling = (x["commerce"] > 0) + (x["text_currency"] > 0) + (s.structure.calls_to_action > 0)
    selling += x["text_imperative"] >= IMPERATIVES and x["text_you"] + x["text_we"] >= ADDRESSED
    return bool(x["url_service"] or x["type_page"]) or selling >= 2


def not_article_reason(s: Signals, html: str, body_text: str) -> str | None:
    """Why the page is not an article, or None when it is one.

    In order: walls and challenges (what they say), an empty or tiny body, a paywall's
    teaser, a video or a page of stories (what the page says it is), then the model; a page
    the model rejects is named by its strongest sign (``product``, ``forum``,
    ``documentation``, ``service``, ``listing``, ``too_short``) or ``not_article``.
    """
    if s.words < WALL_WORDS:
        if challenge_in(html):
            return "bot_challenge"
        said = f"{s.title} {body_text}"
        if CONSENT_SUBJECT.search(said) and CONSENT_CHOICE.search(said):
            return "consent_wall"
    if s.words == 0:
        return "listing" if s.structure.mostly_links else "empty"
    if not s.free and s.words < PAYWALL_TEASER:
        return "paywall"
    if s.words < MIN_WORDS:
        return "too_short"
    if _video(s):
        return "video"
    if s.structure.tags["article"] >= MANY_STORIES and not s.dated and not _typed_article(s):
        return "listing"  # ten stories or more, undated, and nothing calls the page an article
    x = features(s)
    if article_probability(s, x) >= _model()["threshold"]:
        return None
    if x["type_product"] or x["microdata_product"]:
        return "product"
    if x["type_forum"] or x["url_forum"] or x["host_forum"]:
        return "forum"
    if _looks_like_docs(s, x):
        return "documentation"
    if _named_listing(x) or _shaped_like_listing(s):
        return "listing"
    if _looks_like_service(s, x):
        return "service"
    return "too_short" if s.words < 150 else "not_article"
