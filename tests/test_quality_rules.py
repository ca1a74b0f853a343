"""The general rules behind the headline and the body's edges (no site is named anywhere)."""

from __future__ import annotations

import json

import pytest

from archive.extract.article import extract_article

PARAGRAPH = (
    "The delegations met for three days in the capital and left without an agreement on "
    "trade, energy or the border, officials on both sides said on {n} Friday evening."
)


HEADLINE = "Talks end without a deal"


def _page(head: str = "", lead_blocks: str = "", ld: dict | None = None, h1: str = HEADLINE) -> str:
    data = {"@context": "https://schema.org", "@type": "NewsArticle", "datePublished": "2026-11-20T10:00:00Z"}
    data.update(ld or {})
    paragraphs = "".join(f"<p>{PARAGRAPH.format(n=n)}</p>" for n in range(6))
    return (
        f"<html lang='en'><head>{head}<script type='application/ld+json'>{json.dumps(data)}</script></head>"
        f"<body><article><h1>{h1}</h1>{lead_blocks}{paragraphs}</article></body></html>"
    )


def _extract(html: str):
    return extract_article(html, "https://news.test/2026/11/talks", "2026-11-21T00:00:00+00:00")


@pytest.mark.parametrize(
    ("head", "ld"),
    [
        ("", {"headline": "Talks end without a deal - News-Site.test"}),  # a hyphen inside the name
        ("<meta property='og:title' content='Talks end without a deal | Börsen-Blatt'>", {}),
        ("<title>Talks end without a deal | World | Daily Site</title>", {}),
    ],
)
def test_a_title_that_is_the_visible_heading_plus_a_site_name_is_the_heading(head, ld):
    assert _extract(_page(head, ld=ld)).title == "Talks end without a deal"


def test_a_heading_that_is_only_the_start_of_the_title_does_not_cut_it():
    ld = {"headline": "Talks end without a deal on trade and energy"}
    assert _extract(_page(ld=ld)).title == "Talks end without a deal on trade and energy"


def test_a_kicker_before_the_og_title_is_not_part_of_the_headline():
    head = "<meta property='og:title' content='Talks end without a deal'>"
    ld = {"headline": "Moscow summit: Talks end without a deal"}
    assert _extract(_page(head, ld=ld, h1=ld["headline"])).title == "Talks end without a deal"


def test_a_headline_with_a_colon_stays_whole_when_og_title_says_something_else():
    head = "<meta property='og:title' content='Three days of talks, no agreement'>"
    ld = {"headline": "Moscow summit: Talks end without a deal"}
    assert _extract(_page(head, ld=ld, h1=ld["headline"])).title == "Moscow summit: Talks end without a deal"


def test_a_block_said_twice_stays():
    quote = "<p>We will meet again in spring, the minister said after the last round of the talks.</p>"
    html = _page(ld={"headline": "Talks end without a deal"}).replace("</p><p>", f"</p>{quote}<p>", 2)
    assert _extract(html).text.count("We will meet again in spring") == 2


def test_the_headline_repeated_above_the_text_with_a_kicker_is_not_body():
    lead = "<p>Moscow summit: Talks end without a deal</p>"
    article = _extract(_page(lead_blocks=lead, ld={"headline": "Talks end without a deal"}))
    title, body = article.text.split("\n\n", 1)
    assert title == "Talks end without a deal"
    assert "Talks end without a deal" not in body
    assert body.startswith("The delegations met")
