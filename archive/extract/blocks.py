"""trafilatura's XML result as text blocks: one string per paragraph, heading, list item or row."""

from __future__ import annotations

from lxml import etree


def block_text(element: etree._Element) -> str:
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
        return [block_text(item) for item in element.iter("item")]
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
