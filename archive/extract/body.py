"""Body rules: what trafilatura keeps that is not the article's text, taken out block by block.

Each rule is a function of the blocks (and of page facts read before trafilatura ran); each
says which kind of page taught it. They run in the order of ``BODY_RULES``, which
bench/ablation.py switches off one at a time to measure what each one earns.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from lxml import etree
from trafilatura.settings import Document

from archive.document import WORD, normalize_block, word_count
from archive.extract.blocks import body_blocks, word_grams
from archive.extract.page import Page
from archive.extract.pagetype import MIN_WORDS


def publisher_checked_body(extracted: list[str], published: list[str]) -> list[str]:
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
    reference = word_grams(" ".join(published))
    if len(reference) < extracted_words / 2:
        return extracted
    grams = [word_grams(block) for block in extracted]
    inside = [i for i, g in enumerate(grams) if g and len(g & reference) >= len(g) / 2]
    return extracted[: inside[-1] + 1] if inside else extracted


def _words(text: str) -> str:
    """The words of ``text``, case folded, one space apart: text compared without its punctuation."""
    return " ".join(w.casefold() for w in WORD.findall(text))


def without_headline(blocks: list[str], title: str, headings: list[str]) -> list[str]:
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


@dataclass(frozen=True)
class BodyFacts:
    """What the body rules read besides trafilatura's result."""

    page: Page
    title: str  # the headline, normalized

    @classmethod
    def of(cls, page: Page, meta: Document) -> BodyFacts:
        """The facts from the page and trafilatura's metadata (``meta``)."""
        return cls(page, normalize_block(page.title or meta.title or ""))


# The rules, in the order they run: each takes the blocks and the facts. Each earned its
# place on both corpora (bench/ablation.py); rules that helped only one were dropped.
BODY_RULES: dict[str, Callable[[list[str], BodyFacts], list[str]]] = {
    "publisher": lambda blocks, f: publisher_checked_body(blocks, f.page.structured.article_body()),
    "headline": lambda blocks, f: without_headline(blocks, f.title, f.page.headings),
}
RULE_NAMES = tuple(BODY_RULES)


def body_of(body: etree._Element, facts: BodyFacts, off: frozenset[str] = frozenset()) -> list[str]:
    """The article's blocks: trafilatura's ``body`` through every rule not named in ``off``
    (the ablation bench switches rules off; extraction runs them all)."""
    blocks = body_blocks(body)
    for name, rule in BODY_RULES.items():
        if name not in off:
            blocks = rule(blocks, facts)
    return blocks
