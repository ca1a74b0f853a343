"""trafilatura's XML result as text blocks: one string per paragraph, heading, list item or row."""

from __future__ import annotations

from lxml import etree

from archive.document import WORD

# trafilatura's block elements: one inside another (a paragraph in a list item) is a word apart.
INNER_BLOCKS = frozenset({"p", "head", "quote", "list", "item", "table", "row", "cell", "code"})


def block_text(element: etree._Element, without: frozenset[str] = frozenset()) -> str:
    """Text of a block; ``<lb/>`` (a line break inside it) becomes a space, and so does an
    element of a tag in ``without`` (a list nested in a list item: its own blocks)."""
    parts: list[str] = []

    def walk(node: etree._Element) -> None:
        if node.text and node.tag is not etree.Comment:
            parts.append(node.text)
        for child in node:
            if child.tag == "lb" or child.tag in without:
                parts.append(" ")
            elif child.tag in INNER_BLOCKS:  # a block inside a block ends a word: "2026</p><p>Atlanta"
                parts.append(" ")
                walk(child)
                parts.append(" ")
            else:
                walk(child)
            if child.tail:
                parts.append(child.tail)

    walk(element)
    return "".join(parts)


# Lists nested in a list item: their items are blocks of their own.
NESTED = frozenset({"list"})


def _list_blocks(element: etree._Element) -> list[str]:
    """One block per item, each without the lists nested in it, which follow it as their
    own items: an item's text taken whole would repeat them."""
    blocks = []
    for child in element:
        if child.tag == "item":
            blocks.append(block_text(child, NESTED))
            for nested in child.iterchildren("list"):
                blocks.extend(_list_blocks(nested))
        elif child.tag == "list":
            blocks.extend(_list_blocks(child))
    return blocks


def _element_blocks(element: etree._Element) -> list[str]:
    if element.tag == "list":
        return _list_blocks(element)
    if element.tag == "table":
        rows = []
        for row in element.iter("row"):
            cells = [" ".join(block_text(c).split()) for c in row if c.tag == "cell"]
            rows.append(" | ".join(c for c in cells if c))
        return rows
    return [block_text(element)]


def body_blocks(body: etree._Element) -> list[str]:
    """One string per paragraph, sub-heading, list item, quote or table row.

    Text trafilatura leaves loose between blocks (an element's tail) is a paragraph too.
    """
    blocks = [body.text or ""]
    for element in body:
        blocks.extend(_element_blocks(element))
        blocks.append(element.tail or "")
    return blocks


def word_grams(text: str) -> set[tuple[str, ...]]:
    """The word-4-grams of ``text``, case folded: to tell whether two texts say the same."""
    words = [w.casefold() for w in WORD.findall(text)]
    return {tuple(words[i : i + 4]) for i in range(max(1, len(words) - 3))} if words else set()
