"""A company's page about what it offers is rejected as ``service``, not passed as an article,
and the body-text signs the decision reads (``signals.prose``) tell a report from a sales page."""

from __future__ import annotations

import trafilatura

from archive.extract.signals import Structure, prose
from tests.test_pagetype import page, reason, short_news, words

REPORT = (
    "Bridge closes after cracks found\n\n"
    "The council said on Tuesday that repairs to the bridge would begin in March 2026, after "
    'engineers found cracks in two of its supports. "We closed it at once," the mayor told reporters.\n\n'
    "Traffic was diverted through the old town, officials announced on 20 November 2026."
)
SALES = (
    "SEO consulting services\n\n"
    "Grow your business with our team of experts. We help you rank higher!\n\n"
    "Plans from $499 per month\n\n"
    "Get started today. Contact us for a free audit. Book a call with our team.\n\n"
    "Keyword research\n\nLink building\n\nTechnical SEO"
)


def test_a_report_and_a_sales_page_read_differently():
    report, sales = prose(REPORT), prose(SALES)
    assert report["text_said"] > 0 and report["text_year"] > 0 and report["text_month"] > 0
    assert report["text_quote"] > 0 and report["text_past"] > sales["text_past"]
    assert sales["text_currency"] > 0 == report["text_currency"]
    assert sales["text_imperative"] > report["text_imperative"] == 0
    assert sales["text_you"] + sales["text_we"] > report["text_you"] + report["text_we"]
    assert sales["text_short_blocks"] > report["text_short_blocks"]
    assert sales["text_exclaim"] > 0 == report["text_exclaim"]
    assert set(prose("A title only")) == set(prose("")) == set(report)  # no body: no error, same signs


SERVICE = page(
    "<h1>SEO consulting services</h1>"
    "<p>Grow your business with our team of SEO experts. We help you rank higher in search, "
    "win more customers and turn your website into your best salesperson. Our services cover "
    "every part of search, from the first audit to the monthly report.</p>"
    "<h2>What we do</h2><ul><li>Keyword research for your market</li><li>Link building that lasts</li>"
    "<li>Technical SEO audits</li><li>Local search for every branch</li></ul>"
    "<h2>Pricing</h2><p>Plans start from $499 per month, with no long contract. Get started today: "
    "book a call with our team and we will show you where your site stands. Contact us for a free "
    "audit of your website.</p>"
    "<p><a class='button' href='/contact/'>Get started</a> <a class='button' href='/quote/'>"
    "Request a quote</a></p>",
    title="SEO consulting services | Acme Digital",
)


def test_a_company_page_about_what_it_sells_is_a_service_page():
    assert reason(SERVICE, "https://acme-digital.test/services/seo-consulting/") == "service"
    # named by what it says even where its path does not say "services"
    assert reason(SERVICE, "https://acme-digital.test/seo-consulting") == "service"


def test_a_dated_news_story_is_still_kept_beside_the_service_rule():
    url = "https://news.test/2026/11/20/bridge-closes-after-cracks-found"
    assert reason(short_news(64), url) is None
    story = page(
        '<article><h1>Bridge closes after cracks found</h1><time datetime="2026-11-20T09:12:00Z">'
        f"20 November 2026</time><p>{words(120)}.</p><p>{words(90, 5)}.</p></article>",
        '<meta property="og:type" content="article">',
        "Bridge closes after cracks found",
    )
    assert reason(story, url) is None


def test_class_names_are_counted_per_name_whatever_the_element():
    html = (
        "<html><body><div class='comment comment-body' id='comments'><p>A</p></div>"
        "<div class='Comment'><p>B</p></div><span class='price'>$1</span><span class='price'>$2</span>"
        "</body></html>"
    )
    facts = Structure.of(trafilatura.load_html(html), "")
    assert facts.markup["comment"] == 4  # names, in any case: comment, comment-body, comments, Comment
    assert facts.markup["shop"] == 2 and facts.markup["forum"] == 0
