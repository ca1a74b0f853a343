"""The general body rules of archive/extract.py, each on a small page and on a bundled one.

How much each rule gains on the development corpus is measured by bench/quality.py, not
here: these tests pin what each rule does and what it must leave alone.
"""

from __future__ import annotations

from copy import deepcopy

import lxml.html
import trafilatura
from lxml import etree

from archive.extract.blocks import body_blocks
from archive.extract.body import (
    without_bylines,
    without_captions,
    without_headline,
    without_links,
    without_next_stories,
    without_repeats,
    without_trailer,
)
from archive.extract.decode import decode_html
from archive.extract.handover import TRAFILATURA_OPTIONS, run_trafilatura
from archive.extract.page import Page, linked_text
from archive.extract.sites import SiteRules
from archive.extract.standfirst import shown_on_page, with_standfirst
from tests.test_extract import ROWS, extract
from tests.test_extract import page as corpus_page

ARTICLE = [
    "The council approved the new budget on Tuesday after a debate that lasted six hours.",
    "Opposition members said the plan cut too deeply into spending on schools and libraries.",
    "The mayor said the city had no choice after two years of falling tax income.",
]


def page(body: str) -> etree._Element:
    return lxml.html.fromstring(f"<html><head><title>t</title></head><body>{body}</body></html>")


def result(*elements: str) -> etree._Element:
    """A trafilatura result tree (``<body>`` of ``<p>``, ``<head>``, ``<list>``)."""
    return etree.fromstring(f"<body>{''.join(elements)}</body>")


def paragraphs(*texts: str) -> list[str]:
    return [f"<p>{text}</p>" for text in texts]


# -- teasers: blocks that are the text of a link to another page ------------------------------

TEASER = "Bridge closure on Main Street to last until the summer"
TEASER_PAGE = page(
    "<article>"
    + "".join(paragraphs(*ARTICLE))
    + f'<p>Read more: <a href="/news/bridge-closure">{TEASER}</a></p>'
    + '<h3><a href="/news/stadium">Stadium plans go to a public vote</a></h3>'
    + "</article>"
    + '<aside><ul><li><a href="/news/parking">Parking fees rise in the old town</a></li></ul>'
    + f'<a href="/news/quote">{ARTICLE[1]}</a><a href="#budget">Where the money goes</a></aside>'
)


def test_a_labelled_link_to_another_article_is_not_article_text():
    body = result(
        *paragraphs(ARTICLE[0], f"Read more: {TEASER}", ARTICLE[1]),
        "<list><item>Parking fees rise in the old town</item><item>Fees are paid by app</item></list>",
    )
    blocks = body_blocks(without_links(body, linked_text(TEASER_PAGE)))
    assert [b for b in blocks if b.strip()] == [ARTICLE[0], ARTICLE[1], "Fees are paid by app"]


def test_sentences_subheadings_and_in_page_links_stay_even_when_linked():
    body = result(
        "<head rend='h3'>Stadium plans go to a public vote</head>",  # a sub-heading
        *paragraphs(ARTICLE[1]),  # a full sentence, quoted in a link elsewhere
        "<head rend='h2'>Where the money goes</head>",
        *paragraphs("Where the money goes"),  # only linked from the table of contents
    )
    before = body_blocks(body)
    assert body_blocks(without_links(body, linked_text(TEASER_PAGE))) == before


def test_a_page_made_of_links_keeps_its_text():
    body = result(*paragraphs(TEASER, "Parking fees rise in the old town", "Short note here."))
    before = body_blocks(body)
    assert body_blocks(without_links(body, linked_text(TEASER_PAGE))) == before


def test_teasers_under_a_real_article_are_left_out():
    text = extract("fundus-tw-taipeitimes-2024-10-15").text
    assert "third vessel owned by the bureau" in text  # the article's last paragraph
    assert "RISK REMAINS" not in text and "FIVE-YEAR WINDOW" not in text  # other stories' teasers
    text = extract("fundus-za-dailymaverick-2025-05-22").text
    assert "Read more: GNU MPs" not in text and "World Court" in text


# -- the headline repeated above the text -------------------------------------------------------


def test_the_headline_as_shown_is_not_body_text():
    title = "Council: Budget passes after six-hour debate"
    blocks = ["Council Budget passes after six-hour debate", ARTICLE[0], ARTICLE[1]]
    assert without_headline(blocks, title, []) == ARTICLE[:2]
    # The page's <h1> words the headline otherwise than the metadata does.
    blocks = ["City council passes a leaner budget", ARTICLE[0]]
    assert without_headline(blocks, title, ["City council passes a leaner budget"]) == [ARTICLE[0]]
    # Further down, or in a longer paragraph, the same words stay.
    blocks = [ARTICLE[0], ARTICLE[1], ARTICLE[2], "x", "Council Budget passes after six-hour debate"]
    assert without_headline(blocks, title, []) == blocks


def test_headline_with_other_quotes_is_not_repeated_in_a_bundled_page():
    text = extract("fundus-us-apnews-2023-04-28").text
    assert text.split("\n\n")[1].startswith("MEXICO CITY (AP)")


# -- short lines after the last paragraph ----------------------------------------------------


def test_credits_and_prompts_after_the_last_paragraph_are_left_out():
    blocks = [*ARTICLE, "(dpa/AFP)", "Sign up for our newsletter", "Comments"]
    assert without_trailer(blocks) == ARTICLE


def test_a_line_under_fifteen_words_that_is_no_sentence_does_not_end_the_article():
    label = "More from our reporters on the city budget and the schools"  # 11 words, no full stop
    assert without_trailer([*ARTICLE, label]) == ARTICLE
    # Nor a line ending in a colon: it introduces what comes next on the page.
    assert without_trailer([*ARTICLE, "Here is what else the council decided this week:"]) == ARTICLE


def test_an_article_ending_on_a_short_paragraph_or_a_list_keeps_it():
    closing = "The new budget takes effect on the first of July."
    assert without_trailer([*ARTICLE, closing]) == [*ARTICLE, closing]
    assert without_trailer(["Only line"]) == ["Only line"]
    items = ["apples", "pears"]  # list items before the last paragraph stay
    assert without_trailer([ARTICLE[0], *items, ARTICLE[1]]) == [ARTICLE[0], *items, ARTICLE[1]]


def test_prompts_at_the_end_of_a_bundled_page_are_left_out():
    blocks = extract("fundus-cn-people-2024-04-24").text.split("\n\n")
    assert "评论" not in blocks and "关注" not in blocks  # "comment", "follow"
    assert any(block.startswith("对于习近平主席贺信中对航天国际合作的重视") for block in blocks[-2:])


# -- lines the page repeats ----------------------------------------------------------------


def test_a_short_line_said_twice_is_furniture_a_paragraph_said_twice_is_not():
    credit = "STR/AFP via Getty Images"
    blocks = [ARTICLE[0], credit, ARTICLE[1], credit, ARTICLE[2], ARTICLE[2]]
    assert without_repeats(blocks) == [ARTICLE[0], ARTICLE[1], ARTICLE[2], ARTICLE[2]]
    assert without_repeats([*ARTICLE, "Photo: AFP"]) == [*ARTICLE, "Photo: AFP"]


# -- the standfirst -----------------------------------------------------------------------------

LEAD = "The city will spend less on roads and more on schools under the plan approved on Tuesday."


def test_the_standfirst_is_the_description_that_the_page_shows():
    tree = page(f"<h1>Budget passes</h1><p class='lead'>{LEAD}</p>" + "".join(paragraphs(*ARTICLE)))
    search_summary = "Read all about the budget vote in our city, with pictures and a video."
    # The first description is a search-engine summary; the JSON-LD one is the lead as shown.
    assert with_standfirst(ARTICLE, [search_summary, LEAD], tree) == [LEAD, *ARTICLE]
    assert with_standfirst(ARTICLE, [search_summary], tree) == ARTICLE


def test_a_description_shown_only_under_a_photo_is_no_standfirst():
    tree = page(
        f"<figure><img src='a.jpg'><figcaption>{LEAD}</figcaption></figure>" + "".join(paragraphs(*ARTICLE))
    )
    assert not shown_on_page(tree, LEAD)
    assert with_standfirst(ARTICLE, [LEAD], tree) == ARTICLE
    tree = page(f"<script>var lead = '{LEAD}';</script>" + "".join(paragraphs(*ARTICLE)))
    assert not shown_on_page(tree, LEAD)


def test_a_standfirst_with_markup_or_in_two_paragraphs_is_found():
    first, second = (
        "The city will spend less on roads.",
        "Schools get more under the plan approved on Tuesday.",
    )
    tree = page(f"<div class='lead'><p>{first}</p><p>{second}</p></div>")
    assert shown_on_page(tree, f"{first} {second}")
    tree = page("<p>The <b>city</b> will spend <a href='/roads'>less on roads</a> and more on schools.</p>")
    assert shown_on_page(tree, "The city will spend less on roads and more on schools.")


def test_the_og_description_is_the_lead_of_a_bundled_page():
    text = extract("fundus-de-winfuture-2024-04-29").text
    assert text.split("\n\n")[1].startswith("Für 10 GB Datenvolumen im gut ausgebauten Vodafone-Netz")


# -- bylines and datelines ----------------------------------------------------------------------


def test_short_lines_naming_the_author_or_giving_a_date_are_no_text():
    blocks = ["Von NINA MAGOLEY,", "Stand: 22.04.2024, 06:00 Uhr", *ARTICLE, "2025年1月14日"]
    assert without_bylines(blocks, ["Nina Magoley"]) == ARTICLE


def test_paragraphs_quoting_the_author_or_a_date_stay():
    quoted = "Nina Magoley spoke to the mayor at 10:30 on 22.04.2024 about the cuts to schools."
    blocks = [ARTICLE[0], quoted, "The vote", "Score: 3-1"]
    assert without_bylines(blocks, ["Nina Magoley"]) == blocks
    # Whole words only: the agency "AP" is not in "APPLE".
    assert without_bylines(["APPLE SHARES", *ARTICLE], ["AP"]) == ["APPLE SHARES", *ARTICLE]
    assert without_bylines(["By Nina Magoley"], ["Nina Magoley"]) == ["By Nina Magoley"]  # nothing else


# -- image captions -----------------------------------------------------------------------------


def read(tree: etree._Element) -> Page:
    """What the rules read of ``tree``, as extraction reads it (before trafilatura)."""
    return Page.of(tree, SiteRules(), "2026-11-23")


def test_captions_and_photo_credits_are_no_text():
    tree = page(
        "<figure><img src='a.jpg'><figcaption>The mayor after the vote. "
        "<span>Photo: Jane Roe/AFP</span></figcaption></figure>" + "".join(paragraphs(*ARTICLE))
    )
    blocks = ["The mayor after the vote.", ARTICLE[0], "Photo: Jane Roe/AFP", ARTICLE[1]]
    assert without_captions(blocks, read(tree).captions) == ARTICLE[:2]


def test_text_outside_figures_and_long_paragraphs_in_figures_stay():
    long_caption = " ".join(ARTICLE)  # over thirty words: a paragraph, even inside a <figure>
    tree = page(f"<figure><figcaption>{long_caption}</figcaption></figure><p>The vote</p>")
    blocks = [long_caption, "The vote"]
    assert without_captions(blocks, read(tree).captions) == blocks
    assert without_captions(ARTICLE, "") == ARTICLE


# -- the next stories loaded below the article ------------------------------------------------

NEXT = ["The stadium will get a new roof before the next season starts in August.", "Fans welcomed it."]


def story(headline: str, texts: list[str]) -> str:
    return f"<article><header><h1>{headline}</h1></header>{''.join(paragraphs(*texts))}</article>"


def test_the_next_story_below_the_article_is_not_its_text():
    tree = page(story("Budget passes", ARTICLE) + story("Stadium gets a roof", NEXT))
    assert without_next_stories([*ARTICLE, *NEXT], read(tree).stories) == ARTICLE


def test_one_story_or_teasers_of_others_leave_the_text_alone():
    stories = read(page(story("Budget passes", ARTICLE) + "<aside><h1>Most read</h1></aside>")).stories
    assert without_next_stories([*ARTICLE, *NEXT], stories) == [*ARTICLE, *NEXT]
    # The text is in neither story: the <article> elements are teasers around it.
    tree = page(
        story("Stadium gets a roof", NEXT[:1]) + "".join(paragraphs(*ARTICLE)) + story("Other", NEXT[1:])
    )
    assert without_next_stories([*ARTICLE, NEXT[1]], read(tree).stories) == [*ARTICLE, NEXT[1]]


# -- trafilatura works on the page's own tree ----------------------------------------------------


def _fields(document) -> dict:
    """What extraction uses of a trafilatura result, comparable across two runs."""
    plain = {name: getattr(document, name) for name in document.__slots__}
    plain["body"] = etree.tostring(document.body)
    return {k: v for k, v in plain.items() if isinstance(v, str | bytes | list | int | type(None))}


def test_trafilatura_is_handed_the_tree_and_extracts_what_it_does_from_a_copy():
    pruned = 0
    for page_id, row in sorted(ROWS.items()):
        html, _ = decode_html(corpus_page(page_id), f"text/html; charset={row['encoding']}")
        tree = trafilatura.load_html(html)
        before = etree.tostring(tree)
        on_a_copy = trafilatura.bare_extraction(
            deepcopy(tree), url=row["url"], with_metadata=True, as_dict=False, **TRAFILATURA_OPTIONS
        )
        handed_over = run_trafilatura(tree, url=row["url"], with_metadata=True)
        assert _fields(handed_over) == _fields(on_a_copy), page_id
        pruned += etree.tostring(tree) != before
    # trafilatura pruned the tree it was handed (comments, stories below): not a copy of it.
    assert pruned > 0
