"""The headline the page shows against the one its metadata gives (archive/extract/title.py).

Each case is cut from a real page of WCXB dev (../shared/wcxb) or of the news corpus
(../shared/corpus, fundus test pages): its <title>, og:title, og:site_name, JSON-LD headline
and <h1> elements as they are there, the rest of the page left out. bench/titles.py counts what
each rule fixes and breaks on both corpora.
"""

from __future__ import annotations

import json
from html import escape

import trafilatura

from archive.extract.page import Page
from archive.extract.sites import SiteRules


def _title(
    h1: list[str],
    title: str = "",
    og: str | None = None,
    site: str | None = None,
    headline: str | None = None,
) -> str | None:
    head = f"<title>{escape(title)}</title>"
    for prop, value in (("og:title", og), ("og:site_name", site)):
        if value is not None:
            head += f'<meta property="{prop}" content="{escape(value)}">'
    if headline is not None:
        data = {"@context": "https://schema.org", "@type": "BlogPosting", "headline": headline}
        head += f'<script type="application/ld+json">{json.dumps(data)}</script>'
    body = "".join(f"<h1>{escape(h)}</h1>" for h in h1) + "<p>The article's text.</p>"
    tree = trafilatura.load_html(f"<html><head>{head}</head><body>{body}</body></html>")
    return Page.of(tree, SiteRules(), "2030-01-01").title


def test_a_json_ld_headline_copied_from_the_title_gives_way_to_the_shown_headline():
    # WCXB 0002, https://tastewise.io/blog/health-and-nutrition-trends: an SEO plugin filled
    # the JSON-LD headline with <title>, site name and all
    seo = "Health And Nutrition Trends For 2026 - Tastewise"
    shown = "Top 10 Health and Nutrition Trends to Watch"
    assert _title([shown], seo, og=seo, site="tastewise", headline=seo) == shown
    # corpus fundus-us-wired-2024-04-28: a headline written for the page (not the <title>) stays
    headline = "11 Best Sleeping Bags (2024): Ultralight, for Car Campers, Warm Weather, for Kids"
    wired = _title(
        ["The Best Sleeping Bags for Every Adventure"],
        f"{headline} | WIRED",
        og="The Best Sleeping Bags for Every Adventure",
        site="WIRED",
        headline=headline,
    )
    assert wired == headline


def test_a_reworded_heading_is_the_headline_when_no_json_ld_names_one():
    # WCXB 0179, https://www.consumerfinance.gov/consumer-tools/guide-to-filing-your-taxes/:
    # the page was updated for the new year, its metadata was not
    meta = "Guide to filing your taxes in 2024 | Consumer Financial Protection Bureau"
    shown = "Guide to filing your taxes in 2025"
    assert _title([shown], meta, og=meta, site="Consumer Financial Protection Bureau") == shown


def test_a_heading_that_names_little_of_the_metadata_is_a_label():
    # WCXB 4538, https://www.nationwide.com/lc/resources/home/articles/home-insurance-tips
    meta = "Finding the Right Home Insurance Policy – Nationwide"
    assert _title(["Homeowners insurance tips"], meta, og=meta) == "Finding the Right Home Insurance Policy"


def test_the_same_words_keep_the_spelling_of_the_metadata():
    # WCXB 0014, https://www.gcccd.edu/online/student/online-student-help-desk/tips-online-success.php
    meta = "Tips for Online Success"
    assert _title(["TIPS FOR ONLINE SUCCESS"], meta, og=meta) == meta


def test_og_title_stays_when_the_heading_repeats_only_the_title():
    # corpus fundus-uk-euronewsen-2026-01-06: og:title is the publisher's short headline
    og = "As Trump pitches Venezuelan oil dream, experts warn it won't be easy"
    shown = "As Trump pitches Venezuelan oil dream for US companies, experts warn it won't be cheap or easy"
    assert _title([shown], f"{shown} | Euronews", og=og, site="euronews") == og


def test_a_heading_under_a_kicker_gives_the_metadata_title():
    # corpus fundus-ch-srf-2025-01-05: the <h1> shows a kicker line before the headline
    og = "Drusen fordern Teilhabe statt Schutzgarantien von neuer Regierung"
    shown = f"Minderheit in Syrien - {og}"
    assert _title([shown], f"{og} - News - SRF", og=og, site="Schweizer Radio und Fernsehen (SRF)") == og


def test_the_site_name_in_an_h1_is_no_headline():
    # WCXB 2722, https://smarterarticles.co.uk/ai-trains-on-your-art-three-models-that-could-pay-you-back
    og = "AI Trains on Your Art: Three Models That Could Pay You Back"
    page = _title(["Human in the Loop"], f"{og} — Human in the Loop", og=og, site="Human in the Loop")
    assert page == og


def test_the_one_heading_about_the_story_among_several():
    # WCXB 4186, https://www.fbfs.com/learning-center/easy-car-maintenance-checklist
    meta = "Easy Car Maintenance Checklist | Farm Bureau Financial Services"
    shown = "A Car Maintenance Schedule That's Easy to Follow"
    assert _title([shown, "Select Your Location"], meta, og=meta) == shown
    # two headings both about the story: which one is unknown, the metadata stays
    assert _title([shown, "Car maintenance made easy"], meta, og=meta) == "Easy Car Maintenance Checklist"


def test_an_og_title_that_is_the_site_name_is_no_title():
    # WCXB 4249, https://www.robomow.com/blog/detail/which-robotic-lawnmower-is-suitable-for-which-lawn-size
    shown = "Which robotic lawnmower is suitable for which lawn size?"
    assert _title([shown], f"{shown} | Robomow", og="Robomow", site="Robomow") == shown


def test_character_references_encoded_twice_are_decoded():
    # WCXB 0457, https://www.scottishconstructionnow.com/articles/and-finally-trouble-brewing:
    # the JSON-LD headline reads "And finally&amp;#8230; trouble brewing"
    shown = "And finally… trouble brewing"
    page = _title(
        [shown, "Related Articles"],
        f"{shown} | Scottish Construction Now",
        og=shown,
        site="Scottish Construction Now",
        headline="And finally&amp;#8230; trouble brewing",
    )
    assert page == shown
