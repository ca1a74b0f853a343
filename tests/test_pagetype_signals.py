"""The page facts the page-type decision reads of a page's markup (forum posts, a docs tree,
repeated cards, forms), the reasons they name on real WCXB pages (CC-BY-4.0:
tests/data/wcxb/README.md), the revisit route, and the headline a page shows."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest
import trafilatura

from archive.extract.article import examine_page
from archive.extract.pagetype import MODEL, ROUTE_PRIOR, ROUTES, features
from archive.extract.signals import Structure, url_shape
from archive.extract.structured import StructuredData
from archive.extract.title import choose_title

WCXB = Path(__file__).parent / "data" / "wcxb"


def _wcxb(page_id: str) -> tuple[str, str]:
    url = json.loads((WCXB / "pages.json").read_text(encoding="utf-8"))[page_id]["url"]
    return gzip.decompress((WCXB / f"{page_id}.html.gz").read_bytes()).decode("utf-8", errors="replace"), url


@pytest.mark.parametrize(
    ("page_id", "expected"),
    [("0546", "forum"), ("2868", "documentation")],
    ids=["forum-thread", "docs-page"],
)
def test_a_forum_thread_and_a_manual_page_are_rejected_for_what_they_are(page_id, expected):
    html, url = _wcxb(page_id)
    assert examine_page(html, url).reason == expected


THREAD = (
    "<html><body><nav><ul><li><a href='/'>Home</a><ul><li><a href='/a'>A</a><ul><li>"
    "<a href='/b'>B</a><ul><li><a href='/c'>C</a></li></ul></li></ul></li></ul></li></ul></nav>"
    "<div class='thread-list' itemscope itemtype='https://schema.org/ItemList'>"
    + "".join(
        f"<div class='post'><span class='user-name'>user{i}</span> <span>{i + 1} days ago</span>\n"
        f"<p>Post number {i} of the thread.</p><a href='#r'>Reply</a> <button>Quote</button></div>"
        for i in range(6)
    )
    + "</div><form><input type='password'><input type='search'><input><textarea></textarea></form>"
    "</body></html>"
)


def test_the_markup_facts_of_a_thread_are_read_in_one_pass():
    facts = Structure.of(trafilatura.load_html(THREAD), "Home A B C")
    assert facts.repeated == 6 and facts.repeated_lists == 1  # six posts side by side
    assert facts.markup["post"] == 6 and facts.markup["user"] == 6 and facts.markup["forum"] == 1
    assert facts.itemtypes == {"itemlist"}
    assert facts.inputs == {"password": 1, "search": 1, "text": 1} and facts.tags["textarea"] == 1
    assert facts.list_depth == 4  # the navigation tree
    assert facts.ago == 6 and facts.post_buttons == 12


def test_an_empty_page_has_no_markup_facts():
    facts = Structure.of(trafilatura.load_html("<html><body></body></html>"), "")
    assert (facts.repeated, facts.list_depth, facts.page_words, facts.ago) == (0, 0, 0, 0)


@pytest.mark.parametrize(
    ("url", "named"),
    [
        ("https://forum.example.com/topic/31-a-question/", ("url_forum", "host_forum")),
        ("https://example.com/t/some-thread/1234", ("url_forum",)),
        ("https://docs.example.com/compose/networking/", ("host_docs",)),
        ("https://example.com/docs/api/client", ("url_docs",)),
        ("https://example.com/2026/11/20/bridge-closes-after-cracks-found", ()),
    ],
)
def test_the_url_says_forum_or_manual(url, named):
    shape = url_shape(url)
    flags = ("url_forum", "host_forum", "url_docs", "host_docs")
    assert {f for f in flags if shape[f]} == set(named)


def test_a_revisit_is_weighed_as_the_article_the_store_already_holds():
    assert "revisit" in ROUTES and ROUTE_PRIOR["revisit"] == ROUTE_PRIOR["feed"] > 0


def _title(html: str, headline: str | None = None) -> str | None:
    tree = trafilatura.load_html(html)
    metas = {m.get("property"): m.get("content") for m in tree.iter("meta") if m.get("property")}
    headings = [" ".join(h.text_content().split()) for h in tree.iter("h1")]
    article = {"@type": "NewsArticle", "headline": headline} if headline else None
    return choose_title(StructuredData({"newsarticle"} if article else set(), article), metas, tree, headings)


SEO = (
    "<html><head><title>Top 11 SEO Strategies for 2025 | LuccaAM</title>"
    "<meta property='og:title' content='Top 11 SEO Strategies for 2025 | LuccaAM'></head>"
    "<body><h1>{h1}</h1><p>Text.</p></body></html>"
)


def test_the_sole_heading_is_the_headline_when_no_structured_headline_names_one():
    shown = "11 SEO Strategies for 2025 to Boost Rankings and Stay Ahead"
    assert _title(SEO.format(h1=shown)) == shown  # og:title and <title> are written for search results
    # the publisher's structured headline still comes first
    assert _title(SEO.format(h1=shown), "Top 11 SEO Strategies for 2025") == "Top 11 SEO Strategies for 2025"
    # a label is not a headline, nor is the title under a kicker
    assert _title(SEO.format(h1="Blog")) == "Top 11 SEO Strategies for 2025"
    kicker = "Marketing news - Top 11 SEO Strategies for 2025"
    assert _title(SEO.format(h1=kicker)) == "Top 11 SEO Strategies for 2025"
    two = SEO.replace("<p>", "<h1>Newsletter sign-up form</h1><p>").format(h1=shown)
    assert _title(two) == shown  # the other <h1> names nothing of the metadata (tests/test_title_shown.py)


def test_the_model_weighs_exactly_the_features_the_page_gives():
    """A feature renamed or added without retraining (bench/pagetype_train.py) shows here."""
    model = json.loads(MODEL.read_text(encoding="utf-8"))
    html, url = _wcxb("0546")
    names = set(features(examine_page(html, url).signals))
    names |= {f"{a}*{b}" for a, b in model["interactions"]}
    assert set(model["weights"]) == names
