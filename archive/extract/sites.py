"""Per-site rules from sites.toml: CSS selectors for the pages the general extractor gets wrong."""

from __future__ import annotations

from collections.abc import Iterable
from copy import deepcopy
from dataclasses import dataclass

import lxml.html
from cssselect import GenericTranslator
from lxml import etree

from archive.document import normalize_block


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


def selected_title(tree: etree._Element, selector: str | None) -> str | None:
    found = [normalize_block(e.text_content()) for e in _select(tree, selector)] if selector else []
    return next((t for t in found if t), None)


def apply_site_rules(tree: etree._Element, rules: SiteRules) -> etree._Element:
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
