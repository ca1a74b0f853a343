"""News stories whose text the tests change between crawls (issue 18: article versions)."""

from __future__ import annotations

import json
from html import escape

from archive.demo.site import CORPUS_DIR, load_manifest

HTML = "text/html; charset=utf-8"
# Real stories of the bundled corpus, long enough to be articles: title and paragraphs.
STORIES = [
    (row["expected"]["title"], row["expected"]["body"].split("\n\n"))
    for row in load_manifest(CORPUS_DIR)
    if row["language"] == "en" and row["expected"].get("body") and len(row["expected"]["body"]) > 1500
][:4]


def story_page(title: str, paragraphs: list[str]) -> bytes:
    """A story laid out as a news site does: headline, paragraphs, navigation and footer."""
    schema = json.dumps(
        {
            "@context": "https://schema.org",
            "@type": "NewsArticle",
            "headline": title,
            "datePublished": "2026-11-02T08:00:00+00:00",
        }
    )
    body = "".join(f"<p>{escape(p)}</p>" for p in paragraphs)
    return (
        f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{escape(title)}</title>'
        f'<script type="application/ld+json">{schema}</script></head><body><nav><a href="/">Home</a></nav>'
        f"<article><h1>{escape(title)}</h1>{body}</article><footer>Loopback News</footer></body></html>"
    ).encode()


def listing_page(links: list[tuple[str, str]]) -> bytes:
    items = "".join(f'<li><a href="{escape(path)}">{escape(text)}</a></li>' for path, text in links)
    return f"<!DOCTYPE html><html><body><h1>Latest</h1><ul>{items}</ul></body></html>".encode()
