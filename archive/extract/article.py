"""From one archived HTML page to an article row, or None when the page is not an article.

Pure functions of the archived bytes, so extraction can run in worker processes and be
re-run over old WARCs whenever it improves. The stages: page facts (``page``), trafilatura
(``handover``), body rules (``body``), fields (``title``, ``date``,
``structured``), the page-type decision (``pagetype``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from copy import deepcopy
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from urllib.parse import urldefrag, urljoin, urlsplit

import tldextract
import trafilatura
from w3lib.url import safe_url_string

from archive.document import article_id, build_document, text_hash, word_count
from archive.extract.body import BodyFacts, body_of
from archive.extract.date import choose_published
from archive.extract.handover import run_trafilatura
from archive.extract.page import Page
from archive.extract.pagetype import TEXT_HEAD, Signals, challenge_in, free_to_read, not_article_reason
from archive.extract.signals import Structure
from archive.extract.sites import SiteRules, apply_site_rules
from archive.extract.structured import split_list

# The registrable domain (eTLD+1) from tldextract's bundled Public Suffix List, private
# suffixes included (two github.io sites are two publishers); never fetched, never cached.
_REGISTRABLE = tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None, include_psl_private_domains=True)


def canonical_url_of(declared: str | None, fetched_url: str) -> str:
    """The page's declared canonical URL when it is usable, else the URL it was fetched from."""
    if declared:
        candidate = urldefrag(urljoin(fetched_url, declared.strip()))[0]
        parts = urlsplit(candidate)
        if parts.scheme in ("http", "https") and parts.hostname and parts.path not in ("", "/"):
            return candidate
    return urldefrag(fetched_url)[0]


def _host(url: str) -> str:
    """The URL's host as requests carry it: lowercase, IDNA, no final dot."""
    return (urlsplit(safe_url_string(url)).hostname or "").rstrip(".")


def same_publisher(canonical: str, fetched_url: str, domains: Iterable[str] = ()) -> bool:
    """Whether a page fetched from ``fetched_url`` may name ``canonical`` as itself: the
    same registrable domain (an IP or single-label host: the same host), or a host under
    one of its site's ``allowed_domains`` (one publisher's several domains)."""
    host, own = _host(canonical), _host(fetched_url)
    if host == own or any(host == d or host.endswith("." + d) for d in map(str.lower, domains)):
        return True
    registrable = _REGISTRABLE(host).top_domain_under_public_suffix
    return bool(registrable) and registrable == _REGISTRABLE(own).top_domain_under_public_suffix


def _language(value: str | None) -> str | None:
    if not value:
        return None
    primary = re.split(r"[-_]", value.strip().lower())[0]
    return primary if re.fullmatch(r"[a-z]{2}", primary) else None


@dataclass
class Article:
    id: str
    url: str
    canonical_url: str  # the declared one on the page's own site, else the URL itself: the id's
    claims_canonical: str | None  # a canonical the page declared on another site (not trusted)
    title: str
    text: str
    author: str  # JSON list
    published: str | None
    sitename: str | None
    language: str | None
    description: str | None
    categories: str  # JSON list
    tags: str  # JSON list
    image: str | None
    word_count: int
    pagetype: str | None

    def row(self) -> dict:
        row = asdict(self)
        row.pop("pagetype")
        row["text_hash"] = text_hash(self.text)
        return row


@dataclass
class Verdict:
    """An article, or why the page is not one (a ``pagetype`` reason) and the signals weighed."""

    article: Article | None
    reason: str | None
    signals: Signals | None = None


def _no_text(html: str, structure: Structure | None = None) -> Verdict:
    """A page with no main text at all: a challenge page says so, a page of links is a
    listing, anything else is empty."""
    if challenge_in(html):
        return Verdict(None, "bot_challenge")
    return Verdict(None, "listing" if structure and structure.mostly_links else "empty")


def extract_article(
    html: str, url: str, fetched_at: str = "", rules: SiteRules | None = None
) -> Article | None:
    """The article in ``html``, or None when the page is not an article."""
    return examine_page(html, url, fetched_at, rules).article


def examine_page(
    html: str,
    url: str,
    fetched_at: str = "",
    rules: SiteRules | None = None,
    route: str | None = None,
    domains: tuple[str, ...] = (),
) -> Verdict:
    """The article in ``html``, or why the page is not one. ``route``: how the crawl found
    the URL (``pagetype.ROUTES``), a sign the decision weighs. ``domains``: its site's
    ``allowed_domains``, where its canonical URL may be too.

    The canonical URL (and so the id) is the declared one only when that is on the page's
    own site (``same_publisher``): a copy, or a hostile page, naming another site's article
    as its canonical keeps its own URL (the claim is kept as ``claims_canonical``), so it
    cannot overwrite that article; ``archive.store.canonical`` marks it a copy."""
    tree = trafilatura.load_html(html)
    if tree is None:
        return _no_text(html)
    rules = rules or SiteRules()
    max_date = (fetched_at or datetime.now(UTC).isoformat())[:10]
    page = Page.of(tree, rules, max_date)
    structure = Structure.of(tree, page.linked)  # before trafilatura prunes the tree
    selectors = rules.content_selector or rules.remove_selectors
    body_tree = apply_site_rules(deepcopy(tree), rules) if selectors else None  # cut before pruning
    dates = {"original_date": True, "extensive_search": True, "max_date": max_date}
    meta = run_trafilatura(tree, url=url, with_metadata=True, date_extraction_params=dates)
    if meta is None:
        return _no_text(html, structure)
    doc = meta if body_tree is None else run_trafilatura(body_tree, url=url)
    if doc is None or doc.body is None:
        return _no_text(html, structure)
    structured = page.structured
    title = page.title or meta.title
    authors = structured.authors() or split_list(meta.author)
    text = build_document(title, body_of(doc.body, BodyFacts.of(page, meta)))
    if text is None:
        return _no_text(html, structure)
    words = word_count(text.split("\n\n", 1)[1]) if "\n\n" in text else 0
    published = choose_published(
        [structured.text("datePublished"), page.metas.get("article:published_time"), meta.date], fetched_at
    )
    signals = Signals(
        url=url,
        route=route,
        types=frozenset(structured.types),
        og_type=(meta.pagetype or "").lower(),
        free=free_to_read(structured.article),
        dated=published is not None and page.dated,
        authors=bool(authors),
        words=words,
        blocks=text.count("\n\n"),
        title=text.split("\n", 1)[0],
        text_head=text[:TEXT_HEAD],
        structure=structure,
        heading=page.headings[0] if page.headings else "",
    )
    reason = not_article_reason(signals, html, text)
    if reason is not None:
        return Verdict(None, reason, signals)
    canonical = canonical_url_of(meta.url, url)
    trusted = same_publisher(canonical, url, domains)
    own = canonical if trusted else urldefrag(url)[0]
    article = Article(
        id=article_id(own),
        url=url,
        canonical_url=own,
        claims_canonical=None if trusted else canonical,
        title=text.split("\n", 1)[0],
        text=text,
        author=json.dumps(authors, ensure_ascii=False),
        published=published,
        sitename=meta.sitename or None,
        language=_language(page.lang or meta.language),
        description=" ".join((meta.description or "").split()) or None,
        categories=json.dumps(split_list(meta.categories), ensure_ascii=False),
        tags=json.dumps(split_list(meta.tags), ensure_ascii=False),
        image=meta.image or None,
        word_count=words,
        pagetype=meta.pagetype,
    )
    return Verdict(article, None, signals)
