"""What the publisher's JSON-LD says about the page: its schema.org types, headline, authors, body."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from extruct.jsonld import JsonLdExtractor
from lxml import etree

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


def split_list(value: str | list | None) -> list[str]:
    if not value:
        return []
    items = value if isinstance(value, list) else value.split(";")
    seen: list[str] = []
    for item in items:
        item = " ".join(str(item).split())
        if item and item not in seen:
            seen.append(item)
    return seen


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
        return split_list(names)
