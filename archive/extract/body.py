"""Body rules: what trafilatura keeps that is not the article's text, taken out block by block.

Each rule is a function of the blocks (and of page facts read before trafilatura ran); each
says which kind of page taught it. They run in the order ``extract_article`` gives.
"""

from __future__ import annotations

import re
from collections import Counter

from lxml import etree

from archive.document import WORD, normalize_block, word_count
from archive.extract.blocks import block_text
from archive.extract.page import spaced_text
from archive.extract.pagetype import MIN_WORDS


def _word_grams(text: str) -> set[tuple[str, ...]]:
    words = [w.casefold() for w in WORD.findall(text)]
    return {tuple(words[i : i + 4]) for i in range(max(1, len(words) - 3))} if words else set()


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
    reference = _word_grams(" ".join(published))
    if len(reference) < extracted_words / 2:
        return extracted
    grams = [_word_grams(block) for block in extracted]
    inside = [i for i, g in enumerate(grams) if g and len(g & reference) >= len(g) / 2]
    return extracted[: inside[-1] + 1] if inside else extracted


# The end of a sentence: a full stop, question or exclamation mark (Latin or CJK) or an
# ellipsis, perhaps inside closing quotes or a bracket.
SENTENCE_END = re.compile(r"[.!?。！？…][\"'”’»«)]*$")


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


def without_links(body: etree._Element, linked: str) -> etree._Element:
    """trafilatura's result without the paragraphs and list items that are the text of a link
    to another page, bare or after a short label ("Read more: ..."): teasers of other
    articles, not this one's text.

    Only headline-like blocks are looked up: three words or more, not ending a sentence (a
    paragraph of the article may be quoted in a link elsewhere). Sub-headings stay (a live
    blog's entry titles are often linked from elsewhere on the page); if links would take
    two thirds of the text, the page is a teaser itself and nothing is removed. ``linked`` is
    the text of the page's links to other pages (``linked_text``).
    """
    items = [item for element in body if element.tag == "list" for item in element.iter("item")]
    targets = {}
    for element in [e for e in body if e.tag == "p"] + items:
        # Its only child elements are line breaks (<lb/>): a space between its text nodes.
        block = spaced_text(element)
        if not block or SENTENCE_END.search(block[-4:]):
            continue
        label = LINK_LABEL.match(block)
        target = block[label.end() :] if label else block
        if word_count(target) >= 3:
            targets[element] = target
    if not targets:
        return body
    found = [element for element, target in targets.items() if target in linked]
    if not found or 3 * word_count(" ".join(map(block_text, found))) > 2 * word_count(block_text(body)):
        return body
    for element in found:
        _remove_keeping_tail(element)
    return body


# Fewer words than this make a line, not a paragraph: at the end of the text it is a credit
# or a prompt, and said twice it is a label or a button.
LINE_WORDS = 8
# Fewer words than this at the end of the text make a line unless it ends a sentence.
TRAILER_WORDS = 15


def _under(block: str, words: int) -> bool:
    """Whether ``block`` has fewer than ``words`` words. Counting words runs a regex over the
    whole block, so a block longer than any such line (25 characters a word) is not counted."""
    return len(block) < 25 * words and word_count(block) < words


def without_repeats(blocks: list[str]) -> list[str]:
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


def without_trailer(blocks: list[str]) -> list[str]:
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


def without_bylines(blocks: list[str], authors: list[str]) -> list[str]:
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


def without_captions(blocks: list[str], captions: str) -> list[str]:
    """The blocks without the lines that are (part of) ``captions``, the text of the page's
    ``<figure>`` and ``<figcaption>`` elements: a caption or a photo credit describes a
    picture, not the story."""
    if not captions:
        return blocks

    def caption(block: str) -> bool:
        return " ".join(block.split()) in captions and _under(block, CAPTION_WORDS)

    return [block for block in blocks if not caption(block)] or blocks


def without_next_stories(blocks: list[str], stories: list[str]) -> list[str]:
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
