"""From one archived HTTP response to an article: decoding, trafilatura, the document.

Pure functions of the archived bytes, so extraction can run in worker processes and be
re-run over old WARCs whenever it improves.
"""

from __future__ import annotations

import json
import re
import zlib
from collections import Counter
from collections.abc import Iterable, Iterator
from copy import deepcopy
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from html import unescape
from typing import NamedTuple
from urllib.parse import urldefrag, urljoin, urlsplit

import brotli
import charset_normalizer
import lxml.html
import trafilatura
import trafilatura.core
from cssselect import GenericTranslator
from extruct.jsonld import JsonLdExtractor
from htmldate import find_date
from lxml import etree
from w3lib.encoding import (
    html_body_declared_encoding,
    http_content_type_encoding,
    read_bom,
    resolve_encoding,
)

from archive.document import WORD, article_id, build_document, normalize_block, text_hash, word_count

HTML_TYPES = ("text/html", "application/xhtml+xml")
ARTICLE_PAGETYPES = {
    "article",
    "newsarticle",
    "reportagenewsarticle",
    "blogposting",
    "analysisnewsarticle",
    "opinionnewsarticle",
    "liveblogposting",
    "backgroundnewsarticle",
    "reviewnewsarticle",
    "satiricalarticle",
    "report",
}
MIN_WORDS = 40  # shorter "articles" are teasers, cookie walls or error pages
MIN_WORDS_WITHOUT_ARTICLE_SIGNS = 150


class BodyDecodingError(ValueError):
    """The archived body could not be decoded at all."""


def undo_content_encoding(body: bytes, coding: str | None) -> tuple[bytes, str | None]:
    """Remove ``Content-Encoding``; a truncated stream yields what arrived plus a warning."""
    coding = (coding or "").strip().lower()
    if coding in ("", "identity"):
        return body, None
    try:
        if coding in ("gzip", "x-gzip"):
            decoder = zlib.decompressobj(16 + zlib.MAX_WBITS)
        elif coding == "deflate":
            try:
                return zlib.decompress(body), None
            except zlib.error:
                decoder = zlib.decompressobj(-zlib.MAX_WBITS)  # raw deflate, as some servers send
        elif coding == "br":
            return brotli.decompress(body), None
        else:
            raise BodyDecodingError(f"unsupported Content-Encoding {coding!r}")
        data = decoder.decompress(body)
        if not decoder.eof:
            return data, f"{coding} stream truncated after {len(data)} bytes"
        return data, None
    except (zlib.error, brotli.error) as exc:
        raise BodyDecodingError(f"{coding} body is corrupt: {exc}") from None


def decode_html(body: bytes, content_type: str | None) -> tuple[str, str]:
    """Text of an HTML body: BOM, then the HTTP charset, then ``<meta>``, then UTF-8.

    w3lib reads the declarations as browsers do and maps labels as the WHATWG Encoding
    standard does (ISO-8859-1 read as windows-1252). When the bytes do not decode in the
    declared charset (a windows-1252 page served as "utf-8"), charset-normalizer decides.
    """
    bom_encoding, bom = read_bom(body)
    if bom_encoding:
        return body[len(bom) :].decode(bom_encoding, errors="replace"), bom_encoding
    declared = http_content_type_encoding(content_type) or html_body_declared_encoding(body) or "utf-8"
    try:
        return body.decode(declared), declared
    except (UnicodeDecodeError, LookupError):
        pass
    best = charset_normalizer.from_bytes(body).best()
    encoding = resolve_encoding(best.encoding) if best else None
    encoding = encoding or declared
    return body.decode(encoding, errors="replace"), encoding


def _block_text(element: etree._Element) -> str:
    """Text of a block; ``<lb/>`` (a line break inside it) becomes a space."""
    parts: list[str] = []
    for node in element.iter():
        if node is not element and node.tag == "lb":
            parts.append(" ")
        elif node.text and node.tag is not etree.Comment:
            parts.append(node.text)
        if node is not element and node.tail:
            parts.append(node.tail)
    return "".join(parts)


def _element_blocks(element: etree._Element) -> list[str]:
    if element.tag == "list":
        return [_block_text(item) for item in element.iter("item")]
    if element.tag == "table":
        rows = []
        for row in element.iter("row"):
            cells = [" ".join(_block_text(c).split()) for c in row if c.tag == "cell"]
            rows.append(" | ".join(c for c in cells if c))
        return rows
    return [_block_text(element)]


def body_blocks(body: etree._Element) -> list[str]:
    """One string per paragraph, sub-heading, list item, quote or table row.

    Text trafilatura leaves loose between blocks (an element's tail) is a paragraph too.
    """
    blocks = [body.text or ""]
    for element in body:
        blocks.extend(_element_blocks(element))
        blocks.append(element.tail or "")
    return blocks


def canonical_url_of(declared: str | None, fetched_url: str) -> str:
    """The page's own canonical URL when it is usable, else the URL it was fetched from."""
    if declared:
        candidate = urldefrag(urljoin(fetched_url, declared.strip()))[0]
        parts = urlsplit(candidate)
        if parts.scheme in ("http", "https") and parts.hostname and parts.path not in ("", "/"):
            return candidate
    return urldefrag(fetched_url)[0]


def _split_list(value: str | list | None) -> list[str]:
    if not value:
        return []
    items = value if isinstance(value, list) else value.split(";")
    seen: list[str] = []
    for item in items:
        item = " ".join(str(item).split())
        if item and item not in seen:
            seen.append(item)
    return seen


def _language(value: str | None) -> str | None:
    if not value:
        return None
    primary = re.split(r"[-_]", value.strip().lower())[0]
    return primary if re.fullmatch(r"[a-z]{2}", primary) else None


# -- the publisher's structured data -------------------------------------------------


def _types(node: dict) -> set[str]:
    kinds = node.get("@type")
    return {str(k).lower() for k in (kinds if isinstance(kinds, list) else [kinds]) if k}


def _nodes(items: list) -> Iterator[dict]:
    """Every schema.org object of the page's JSON-LD, ``@graph`` members included."""
    for item in items:
        if isinstance(item, dict):
            yield item
            graph = item.get("@graph")
            if isinstance(graph, list):
                yield from _nodes(graph)
            elif isinstance(graph, dict):
                yield from _nodes([graph])


@dataclass
class StructuredData:
    """What the page's JSON-LD says about itself (read by extruct)."""

    types: set[str]
    article: dict | None  # the first article-typed object

    @classmethod
    def of(cls, tree: etree._Element) -> StructuredData:
        try:
            items = JsonLdExtractor().extract_items(tree)
        except ValueError:  # a broken script: the page still has its HTML
            items = []
        nodes = list(_nodes(items))
        article = next((n for n in nodes if _types(n) & ARTICLE_PAGETYPES), None)
        return cls(set().union(*(_types(n) for n in nodes)) if nodes else set(), article)

    def text(self, key: str) -> str | None:
        value = self.article.get(key) if self.article else None
        if isinstance(value, list):
            value = next((v for v in value if isinstance(v, str)), None)
        return " ".join(value.split()) if isinstance(value, str) and value.strip() else None

    def article_body(self) -> list[str]:
        """The publisher's ``articleBody``, one block per line."""
        body = self.article.get("articleBody") if self.article else None
        return body.splitlines() if isinstance(body, str) else []

    def authors(self) -> list[str]:
        found = self.article.get("author") if self.article else None
        names = []
        for author in found if isinstance(found, list) else [found]:
            if isinstance(author, dict) and "organization" not in _types(author):
                author = author.get("name")
            if isinstance(author, str) and author.strip() and not author.startswith("http"):
                names.append(author)
        return _split_list(names)


# -- title, date, page type ----------------------------------------------------------

# Separators before a site name in <title> and og:title ("Headline | Site", "Headline - Site").
SITE_SUFFIX = re.compile(r"\s+[|\-–—:·•]\s+[^|\-–—:·•]{1,40}$")
# What may follow a headline before a site or section name, spaced or not ("Headline | Site-Name").
SUFFIX_START = re.compile(r"\s*[|\-–—:·•/]")
# A kicker before a headline ("Olympics: Headline"): a short label and a colon.
KICKER = re.compile(r"^[^:]{2,60}:\s+(?=\S)")


def _headings(h1s: Iterable[etree._Element]) -> list[str]:
    return [normalize_block(h.text_content()) for h in h1s]


def _strip_site_name(title: str) -> str:
    while SITE_SUFFIX.search(title) and len(SITE_SUFFIX.sub("", title)) >= 20:
        title = SITE_SUFFIX.sub("", title)
    return title


def _as_shown(title: str, headings: list[str]) -> str | None:
    """The visible ``<h1>`` when ``title`` is that heading plus a site or section name.

    A metadata title followed by " - Site" or " | Section | Site" whose first part is the
    page's own heading: the heading is the headline, whatever the site name looks like.
    """
    for heading in headings:
        if len(heading) >= 10 and title.startswith(heading) and SUFFIX_START.match(title, len(heading)):
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


def _parse_time(value: str) -> datetime | None:
    try:
        return datetime.fromisoformat(value.strip().replace(" ", "T", 1))
    except ValueError:
        return None


def _not_after_fetch(moment: datetime, fetched: datetime | None) -> bool:
    """A page's date may not be later than its fetch; a time without offset may be in any
    zone, so it is allowed up to UTC+14."""
    if fetched is None:
        return True
    if moment.tzinfo is None:
        return moment <= fetched.replace(tzinfo=None) + timedelta(hours=14)
    return moment <= fetched


def choose_published(candidates: list[str | None], fetched_at: str) -> str | None:
    """The first candidate that parses as ISO 8601 and is not after the fetch.

    Full timestamps (JSON-LD ``datePublished``, ``article:published_time``) keep their time
    and offset; a bare day stays a day. Anything else stays unknown (None), never guessed.
    """
    fetched = _parse_time(fetched_at) if fetched_at else None
    if fetched is not None and fetched.tzinfo is None:
        fetched = fetched.replace(tzinfo=UTC)
    for value in candidates:
        moment = _parse_time(value) if value else None
        if moment is None or not _not_after_fetch(moment, fetched):
            continue
        if len(value.strip()) <= 10:
            return moment.date().isoformat()
        return moment.isoformat()
    return None


def _metas(tree: etree._Element) -> dict[str, str]:
    """The ``content`` of the page's ``<meta>`` elements by property and by name, the first
    of each (``og:title``, ``description``...).

    One loop over ``iter("meta")`` (lxml walks the tree in C and hands over only the meta
    elements) for all of them: the XPath ``//meta[@property=$p or @name=$p]`` took ~0.07 ms
    a call on a news page.
    """
    found: dict[str, str] = {}
    for element in tree.iter("meta"):
        content = element.get("content")
        if content is not None:
            for key in (element.get("property"), element.get("name")):
                if key and key not in found:
                    found[key] = content
    return found


# schema.org and og:type kinds that say "not an article": listings, profiles, videos.
LISTING_TYPES = {
    "collectionpage",
    "searchresultspage",
    "profilepage",
    "itemlist",
    "videoobject",
    "mediagallery",
}


def is_article(
    pagetype: str | None, dated: bool, word_count: int, schema_types: frozenset[str] = frozenset()
) -> bool:
    """Only article pages become rows: home, section, tag, author, search and video pages do not.

    A page whose JSON-LD or og:type calls it an article needs MIN_WORDS. One that calls
    itself a listing, profile or video, or whose og:type is something else than "website"
    (which many article pages say too), is not an article. A page that says nothing needs
    a date in its markup (``dated``) and a longer body.
    """
    kind = (pagetype or "").lower().replace("_", "")
    if schema_types & ARTICLE_PAGETYPES or kind in ARTICLE_PAGETYPES:
        return word_count >= MIN_WORDS
    if schema_types & LISTING_TYPES or kind not in ("", "website", "webpage"):
        return False
    return dated and word_count >= MIN_WORDS_WITHOUT_ARTICLE_SIGNS


def _dated(tree: etree._Element, max_date: str) -> bool:
    """The page's markup carries a date (htmldate without its search through the text,
    which finds some date on nearly any page, listings included)."""
    return find_date(tree, extensive_search=False, max_date=max_date) is not None


# -- per-site rules ------------------------------------------------------------------


@dataclass(frozen=True)
class SiteRules:
    """A site's own selectors from sites.toml (CSS), for pages the general extractor gets wrong."""

    content_selector: str | None = None
    remove_selectors: tuple[str, ...] = ()
    title_selector: str | None = None


def _select(tree: etree._Element, selector: str) -> list[etree._Element]:
    return tree.xpath(GenericTranslator().css_to_xpath(selector))


def rules_by_site(sites: Iterable) -> dict[str, SiteRules]:
    """The selectors of a loaded site list (``crawler.sites.Site``) by name; sites without any left out."""
    return {
        site.name: SiteRules(site.content_selector, tuple(site.remove_selectors), site.title_selector)
        for site in sites
        if site.content_selector or site.remove_selectors or site.title_selector
    }


def _selected_title(tree: etree._Element, selector: str | None) -> str | None:
    found = [normalize_block(e.text_content()) for e in _select(tree, selector)] if selector else []
    return next((t for t in found if t), None)


def _body_tree(tree: etree._Element, rules: SiteRules) -> etree._Element:
    """``tree`` (changed in place) without the removed parts, or a page of the selected content."""
    for selector in rules.remove_selectors:
        for element in _select(tree, selector):
            element.drop_tree()
    selected = _select(tree, rules.content_selector) if rules.content_selector else []
    if not selected:
        return tree
    page = lxml.html.fromstring("<html><body></body></html>")
    page.find("body").extend(deepcopy(e) for e in selected)
    return page


# -- the article -----------------------------------------------------------------------


@dataclass
class Article:
    id: str
    url: str
    canonical_url: str
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


def _word_grams(text: str) -> set[tuple[str, ...]]:
    words = [w.casefold() for w in WORD.findall(text)]
    return {tuple(words[i : i + 4]) for i in range(max(1, len(words) - 3))} if words else set()


def _publisher_checked_body(extracted: list[str], published: list[str]) -> list[str]:
    """trafilatura's blocks, checked against the publisher's ``articleBody`` when there is one.

    If ``articleBody`` holds twice as many words, trafilatura missed the article (a page
    built by scripts, an unusual layout): take it. If it covers most of what trafilatura
    found, the article ends where it ends: blocks after the last one it contains are
    related links, footers and the like.
    """
    if not published:
        return extracted
    published_words, extracted_words = word_count(" ".join(published)), word_count(" ".join(extracted))
    if published_words >= MIN_WORDS and published_words >= 2 * extracted_words:
        return published
    reference = _word_grams(" ".join(published))
    if len(reference) < extracted_words / 2:
        return extracted
    grams = [_word_grams(block) for block in extracted]
    inside = [i for i, g in enumerate(grams) if g and len(g & reference) >= len(g) / 2]
    return extracted[: inside[-1] + 1] if inside else extracted


# The end of a sentence: a full stop, question or exclamation mark (Latin or CJK) or an
# ellipsis, perhaps inside closing quotes or a bracket.
SENTENCE_END = re.compile(r"[.!?。！？…][\"'”’»«)]*$")


# Text of the page's links to other pages; links within the page (a table of contents,
# "#section") name the article's own sub-headings, and <a name> is no link at all.
# (descendant:: walks the page once; "//" is spelled descendant-or-self::node()/child::,
# which libxml2 evaluates more slowly: 0.26 against 0.31 ms on a news page.)
LINKED_TEXT = etree.XPath(
    "/descendant::a[@href and not(starts-with(@href, '#'))]/descendant::text()", smart_strings=False
)
# A short label before a link: "Read more: <headline>", "ALSO READ | <headline>".
LINK_LABEL = re.compile(r"^[^:|]{1,30}[:|]\s+")


def _remove_keeping_tail(element: etree._Element) -> None:
    """Take ``element`` out of its parent; the loose text after it stays where it was."""
    previous, parent = element.getprevious(), element.getparent()
    if element.tail:
        if previous is not None:
            previous.tail = (previous.tail or "") + element.tail
        else:
            parent.text = (parent.text or "") + element.tail
    parent.remove(element)


def _linked_text(tree: etree._Element) -> str:
    return " ".join(" ".join(LINKED_TEXT(tree)).split())


def _without_links(body: etree._Element, linked: str) -> etree._Element:
    """trafilatura's result without the paragraphs and list items that are the text of a link
    to another page, bare or after a short label ("Read more: ..."): teasers of other
    articles, not this one's text.

    Only headline-like blocks are looked up: three words or more, not ending a sentence (a
    paragraph of the article may be quoted in a link elsewhere). Sub-headings stay (a live
    blog's entry titles are often linked from elsewhere on the page); if links would take
    two thirds of the text, the page is a teaser itself and nothing is removed. ``linked`` is
    the text of the page's links to other pages (``_linked_text``).
    """
    items = [item for element in body if element.tag == "list" for item in element.iter("item")]
    targets = {}
    for element in [e for e in body if e.tag == "p"] + items:
        # Its only child elements are line breaks (<lb/>): a space between its text nodes.
        block = _spaced_text(element)
        if not block or SENTENCE_END.search(block[-4:]):
            continue
        label = LINK_LABEL.match(block)
        target = block[label.end() :] if label else block
        if word_count(target) >= 3:
            targets[element] = target
    if not targets:
        return body
    found = [element for element, target in targets.items() if target in linked]
    if not found or 3 * word_count(" ".join(map(_block_text, found))) > 2 * word_count(_block_text(body)):
        return body
    for element in found:
        _remove_keeping_tail(element)
    return body


# Text nodes of the page's body that contain $word (smart strings: they know their element).
TEXT_WITH = etree.XPath("/descendant::body/descendant::text()[contains(., $word)]")
# Elements that do not show their text as the page's own: scripts, and image captions (a
# description repeated under a photo is not the lead).
NOT_SHOWN = {"script", "style", "noscript", "figcaption"}
# Elements inside a paragraph (a link, a bold word): the paragraph is their parent.
INLINE = set("a abbr b cite em font i mark q small span strong sub sup u".split())


def _shown(tree: etree._Element, text: str) -> bool:
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
        shown = _spaced_text(element)
        if shown and shown in text and element.getparent() is not None:
            shown = _spaced_text(element.getparent())
        if text in shown:
            return True
    return False


def _spaced_text(element: etree._Element) -> str:
    """The text of ``element``, its text nodes one space apart, white space collapsed only
    (NFC and control-character removal cost more than they would ever change here)."""
    return " ".join(" ".join(element.itertext()).split())


def _with_standfirst(
    blocks: list[str], descriptions: Iterable[str | None], tree: etree._Element
) -> list[str]:
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
        if _shown(tree, description):
            return [description, *blocks]
    return blocks


# Fewer words than this make a line, not a paragraph: at the end of the text it is a credit
# or a prompt, and said twice it is a label or a button.
LINE_WORDS = 8
# Fewer words than this at the end of the text make a line unless it ends a sentence.
TRAILER_WORDS = 15


def _under(block: str, words: int) -> bool:
    """Whether ``block`` has fewer than ``words`` words. Counting words runs a regex over the
    whole block, so a block longer than any such line (25 characters a word) is not counted."""
    return len(block) < 25 * words and word_count(block) < words


def _without_repeats(blocks: list[str]) -> list[str]:
    """The blocks without those the page repeats three times or more (embed placeholders,
    "content not available", photo credits): an article does not say a thing thrice; nor
    a short line twice ("Read more", a photo credit, a consent button)."""
    normalized = [normalize_block(block) for block in blocks]
    counts = Counter(n for n in normalized if n)

    def repeated(line: str) -> bool:
        return counts[line] >= 3 or (counts[line] == 2 and word_count(line) < LINE_WORDS)

    if not counts or counts.most_common(1)[0][1] < 2:
        return blocks
    return [block for block, n in zip(blocks, normalized, strict=True) if not repeated(n)]


def _without_trailer(blocks: list[str]) -> list[str]:
    """The blocks up to the last paragraph: an article ends on one, and the lines after it
    (short ones, or ones under fifteen words that are no sentence) are credits, sources,
    prompts or labels of what comes next on the page ("(dpa)", "Comments", "Read more:")."""

    def trailing(block: str) -> bool:
        if _under(block, LINE_WORDS):
            return True
        return not SENTENCE_END.search(block) and _under(block, TRAILER_WORDS)

    end = len(blocks)
    while end > 1 and trailing(blocks[end - 1]):
        end -= 1
    return blocks[:end]


# A date or a time as pages show them: 22.04.2024, 2024-04-22, 06:00, 2025年1月14日.
DATE_OR_TIME = re.compile(
    r"\b\d{1,2}[./]\d{1,2}[./]\d{2,4}\b|\b\d{4}-\d{2}-\d{2}\b|\b\d{1,2}:\d{2}\b|\d+年\d+月\d+日"
)


def _without_bylines(blocks: list[str], authors: list[str]) -> list[str]:
    """The blocks without the short lines that name an author or give a date or a time: the
    byline and dateline shown with the text ("By Jane Doe", "Updated 22.04.2024, 06:00"),
    not part of it."""

    names = [f" {_words(author)} " for author in authors if _words(author)]

    def byline(block: str) -> bool:
        if not _under(block, LINE_WORDS):
            return False
        return bool(DATE_OR_TIME.search(block)) or any(name in f" {_words(block)} " for name in names)

    return [block for block in blocks if not byline(block)] or blocks


# Lines under this many words may be a caption; a longer block is a paragraph.
CAPTION_WORDS = 30


def _without_captions(blocks: list[str], captions: str) -> list[str]:
    """The blocks without the lines that are (part of) ``captions``, the text of the page's
    ``<figure>`` and ``<figcaption>`` elements: a caption or a photo credit describes a
    picture, not the story."""
    if not captions:
        return blocks

    def caption(block: str) -> bool:
        return " ".join(block.split()) in captions and _under(block, CAPTION_WORDS)

    return [block for block in blocks if not caption(block)] or blocks


def _stories(h1s: list[etree._Element]) -> list[str]:
    """The texts of the outermost ``<article>`` elements that hold the page's ``<h1>``
    headings, in page order, when there are several (else none)."""
    stories = list(dict.fromkeys(a[-1] for h in h1s if (a := list(h.iterancestors("article")))))
    return [_spaced_text(story) for story in stories] if len(stories) >= 2 else []


def _without_next_stories(blocks: list[str], stories: list[str]) -> list[str]:
    """The blocks of the page's first story only: a page whose ``<h1>`` headings stand in
    several ``<article>`` elements (``stories``, from ``_stories``) has the next stories
    loaded below the one it is about (infinite scroll), and their text is not this article's."""
    if len(stories) < 2:
        return blocks
    first, later = stories[0], " ".join(stories[1:])
    texts = [" ".join(block.split()) for block in blocks]
    if not any(text and text in first for text in texts):
        return blocks  # the text is not the first story's: the <article> elements are teasers
    kept = [b for b, text in zip(blocks, texts, strict=True) if text not in later or text in first]
    return kept or blocks


def _words(text: str) -> str:
    """The words of ``text``, case folded, one space apart: text compared without its punctuation."""
    return " ".join(w.casefold() for w in WORD.findall(text))


def _without_headline(blocks: list[str], title: str, headings: list[str]) -> list[str]:
    """The blocks without the headline repeated above the text: a short block near the top
    that contains it (alone, under a kicker or with a site name; punctuation aside, since the
    page shows "Topic Headline" where the metadata says "Topic: Headline"), or that is one of
    the page's ``<h1>`` headings (the headline as shown, when the metadata words it otherwise).
    """
    title_words = _words(title)
    shown = {_words(h) for h in headings} - {""}

    def repeats(block: str) -> bool:
        block, words = normalize_block(block), _words(block)
        if words in shown:
            return True
        contains = title in block or f" {title_words} " in f" {words} "
        return bool(title_words) and contains and len(block) <= len(title) + 60

    return [b for b in blocks[:4] if not repeats(b)] + blocks[4:]


TRAFILATURA_OPTIONS = {"include_comments": False, "include_tables": True, "include_images": False}


class _HandedOver(NamedTuple):
    tree: lxml.html.HtmlElement


def _load_html(htmlobject, max_size: int | None = None) -> lxml.html.HtmlElement | None:
    """trafilatura's ``load_html``, which also takes a tree handed over (``_trafilatura``)."""
    if isinstance(htmlobject, _HandedOver):
        return htmlobject.tree
    return _trafilatura_load_html(htmlobject, max_size)


_trafilatura_load_html = trafilatura.core.load_html
trafilatura.core.load_html = _load_html


def _trafilatura(tree: lxml.html.HtmlElement, **options) -> trafilatura.settings.Document | None:
    """``trafilatura.bare_extraction`` on ``tree`` itself, not on a copy.

    trafilatura deep-copies a tree it is given, because it prunes it (comment sections,
    stories appended below the article); the copy and freeing it cost ~1 ms a page, 5% of
    all extraction. What the rules read of the page is read before (``Page``), so the tree
    is handed over instead: wrapped, it gets past ``bare_extraction``'s copy, and
    ``_load_html`` unwraps it. Only the standfirst check reads the tree afterwards, as it
    needs trafilatura's description and text: a lead is not in the parts pruned. No public
    option does this; trafilatura is pinned, and tests/test_extract_rules.py checks that it
    works on the tree itself and gives what it gives on a copy.
    """
    return trafilatura.bare_extraction(_HandedOver(tree), as_dict=False, **TRAFILATURA_OPTIONS, **options)


@dataclass(frozen=True)
class Page:
    """What the rules read of the page itself, read before trafilatura prunes it."""

    structured: StructuredData
    metas: dict[str, str]  # <meta> content by property and by name
    headings: list[str]  # the <h1> texts: the headline as shown, one per story
    title: str | None  # the headline, when the markup names one (``choose_title``)
    linked: str  # the text of the links to other pages
    captions: str  # the text of the <figure> and <figcaption> elements
    stories: list[str]  # the texts of the stories, when the page holds several
    dated: bool  # the markup carries a date
    lang: str | None

    @classmethod
    def of(cls, tree: etree._Element, rules: SiteRules, max_date: str) -> Page:
        structured = StructuredData.of(tree)
        metas = _metas(tree)
        # One walk finds the headings (the headline as shown, one per story) and the
        # pictures (their captions are no text); each walk costs ~0.15 ms a page.
        found = list(tree.iter("h1", "figure", "figcaption"))
        h1s = [element for element in found if element.tag == "h1"]
        headings = _headings(h1s)
        selected = _selected_title(tree, rules.title_selector)
        return cls(
            structured=structured,
            metas=metas,
            headings=headings,
            title=choose_title(structured, metas, tree, headings, selected),
            linked=_linked_text(tree),
            captions=" ".join(_spaced_text(element) for element in found if element.tag != "h1"),
            stories=_stories(h1s),
            dated=_dated(tree, max_date),
            lang=tree.get("lang"),
        )


def extract_article(
    html: str, url: str, fetched_at: str = "", rules: SiteRules | None = None
) -> Article | None:
    """The article in ``html``, or None when the page is not an article."""
    tree = trafilatura.load_html(html)
    if tree is None:
        return None
    rules = rules or SiteRules()
    max_date = (fetched_at or datetime.now(UTC).isoformat())[:10]
    page = Page.of(tree, rules, max_date)
    selectors = rules.content_selector or rules.remove_selectors
    body_tree = _body_tree(deepcopy(tree), rules) if selectors else None  # cut before trafilatura prunes
    dates = {"original_date": True, "extensive_search": True, "max_date": max_date}
    meta = _trafilatura(tree, url=url, with_metadata=True, date_extraction_params=dates)
    if meta is None:
        return None
    doc = meta if body_tree is None else _trafilatura(body_tree, url=url)
    if doc is None or doc.body is None:
        return None
    structured = page.structured
    title = page.title or meta.title
    blocks = body_blocks(_without_links(doc.body, page.linked))
    blocks = _publisher_checked_body(blocks, structured.article_body())
    blocks = _without_headline(_without_repeats(blocks), normalize_block(title or ""), page.headings)
    authors = structured.authors() or _split_list(meta.author)
    blocks = _without_next_stories(blocks, page.stories)
    blocks = _without_captions(blocks, page.captions)
    blocks = _without_trailer(_without_bylines(blocks, authors))
    descriptions = (meta.description, structured.text("description"), page.metas.get("og:description"))
    # After trafilatura, which it needs: the tree lacks what trafilatura pruned (see _trafilatura).
    text = build_document(title, _with_standfirst(blocks, descriptions, tree))
    if text is None:
        return None
    words = word_count(text.split("\n\n", 1)[1]) if "\n\n" in text else 0
    published = choose_published(
        [structured.text("datePublished"), page.metas.get("article:published_time"), meta.date], fetched_at
    )
    dated = published is not None and page.dated
    if not is_article(meta.pagetype, dated, words, frozenset(structured.types)):
        return None
    canonical = canonical_url_of(meta.url, url)
    return Article(
        id=article_id(canonical),
        url=url,
        canonical_url=canonical,
        title=text.split("\n", 1)[0],
        text=text,
        author=json.dumps(authors, ensure_ascii=False),
        published=published,
        sitename=meta.sitename or None,
        language=_language(page.lang or meta.language),
        description=" ".join((meta.description or "").split()) or None,
        categories=json.dumps(_split_list(meta.categories), ensure_ascii=False),
        tags=json.dumps(_split_list(meta.tags), ensure_ascii=False),
        image=meta.image or None,
        word_count=words,
        pagetype=meta.pagetype,
    )
