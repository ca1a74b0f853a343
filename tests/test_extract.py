"""One archived response to an article: charsets, page types, metadata, site rules."""

from __future__ import annotations

import json
import pickle
import re
import sqlite3
from pathlib import Path

import pytest

from archive.demo.site import NewsSite
from archive.extract.article import extract_article
from archive.extract.date import choose_published
from archive.extract.decode import decode_html
from archive.extract.sites import SiteRules, rules_by_site
from archive.store.pages import PageJob, extract_page
from crawler.sites import SiteListError, load_sites
from tests.helpers.cli import FAST, newsarchive
from tests.helpers.pages import ROWS, corpus_page, extract_corpus_page

# -- charsets ----------------------------------------------------------------------------


def test_windows_1252_page_served_as_utf8_is_detected():
    body = corpus_page("traf-auto-presse-de-minisuv")  # windows-1252 bytes
    with pytest.raises(UnicodeDecodeError):
        body.decode("utf-8")
    text, encoding = decode_html(body, "text/html; charset=utf-8")
    assert encoding == "cp1252"
    assert "\ufffd" not in text and "ß" in text


def test_http_charset_beats_a_wrong_meta_charset():
    text, encoding = decode_html(corpus_page("fundus-cn-people-2024-04-24"), "text/html; charset=utf-8")
    assert encoding == "utf-8" and "习近平" in text


def test_meta_charset_that_does_not_decode_falls_back_to_detection():
    # The page says gb2312 in <meta> but its bytes are UTF-8; no HTTP charset.
    text, encoding = decode_html(corpus_page("fundus-cn-people-2024-04-24"), "text/html")
    assert encoding == "utf-8" and "习近平" in text


def test_iso_8859_1_from_meta_reads_as_windows_1252():
    text, encoding = decode_html(corpus_page("traf-die-tagespost-de-demut"), "text/html")
    assert encoding == "cp1252" and "\ufffd" not in text


def test_bom_wins():
    text, encoding = decode_html(
        b"\xef\xbb\xbf<html><body>caf\xc3\xa9</body></html>", "text/html; charset=cp1251"
    )
    assert encoding == "utf-8" and "café" in text


def test_undecodable_page_through_the_worker_reads_right():
    job = PageJob(
        "https://www.auto-presse.de/minisuv",
        "2026-11-01T00:00:00Z",
        corpus_page("traf-auto-presse-de-minisuv"),
        "text/html; charset=utf-8",
        None,
    )
    result = extract_page(job)
    assert result.article is not None and "\ufffd" not in result.article["text"]


# -- page types ----------------------------------------------------------------------------


@pytest.mark.parametrize("page_id", sorted(ROWS))
def test_every_corpus_page_is_an_article(page_id):
    article = extract_corpus_page(page_id)
    assert article is not None, page_id
    assert article.word_count >= 40


def _listing(extra_head: str, items: int = 30) -> str:
    teasers = "".join(
        f'<article><h2><a href="/news/2026/11/story-{n}">Story number {n} about the talks in Moscow '
        f"and Beijing</a></h2><p>A short teaser of story {n}, with a few words on what happened today "
        f"in the talks between the delegations.</p><time datetime='2026-11-0{n % 9 + 1}'>Nov</time></article>"
        for n in range(items)
    )
    return (
        f"<html lang='en'><head><title>World news</title>{extra_head}</head><body><h1>World</h1>"
        f"<main>{teasers}</main></body></html>"
    )


LISTINGS = {
    "collection-page": '<script type="application/ld+json">{"@context": "https://schema.org", '
    '"@type": "CollectionPage", "name": "World"}</script>',
    "video-page": '<meta property="og:type" content="video.other">',
    "profile-page": '<meta property="og:type" content="profile">',
    "search-page": '<script type="application/ld+json">{"@context": "https://schema.org", '
    '"@type": "SearchResultsPage"}</script>',
    "undated-website": '<meta property="og:type" content="website">',
}


@pytest.mark.parametrize("kind", sorted(LISTINGS))
def test_listing_pages_are_not_articles(kind):
    html = (
        _listing(LISTINGS[kind])
        if kind != "undated-website"
        else _listing(LISTINGS[kind]).replace("<time", "<span")
    )
    assert extract_article(html, f"https://x.test/{kind}/", "2026-11-20T00:00:00+00:00") is None


def test_loopback_home_and_section_pages_are_not_articles():
    with NewsSite() as site:
        for path in ("/", "/world/", "/business/"):
            html = site.pages[path].body.decode("utf-8")
            assert extract_article(html, site.url(path), "2026-11-20T00:00:00+00:00") is None, path


@pytest.mark.parametrize("page_id", ["fundus-cn-people-2024-04-24", "traf-auto-presse-de-minisuv"])
def test_article_without_type_signals_is_decided_by_date_and_length(page_id):
    article = extract_corpus_page(page_id)
    assert article is not None and article.pagetype is None and article.published


# -- metadata -----------------------------------------------------------------------------


def test_metadata_of_a_news_article():
    article = extract_corpus_page("fundus-uk-bbc-2026-04-25")
    row = ROWS["fundus-uk-bbc-2026-04-25"]["expected"]
    assert article.title == row["title"]
    assert article.published[:10] == row["published"][:10]
    assert "T" in article.published and article.published[-6] in "+-"  # time with offset
    assert isinstance(json.loads(article.author), list)
    assert article.language == "en"
    assert article.canonical_url.startswith("https://")


def test_json_ld_headline_wins_over_a_suffixed_og_title():
    article = extract_corpus_page("fundus-ca-globalnews-2026-05-24")
    assert article.title == ROWS["fundus-ca-globalnews-2026-05-24"]["expected"]["title"]
    assert "Globalnews.ca" not in article.title


@pytest.mark.parametrize(
    ("candidates", "fetched", "expected"),
    [
        (["2024-05-03T15:47:42.389+00:00"], "2024-05-03T18:00:00Z", "2024-05-03T15:47:42.389000+00:00"),
        (["2024-05-03"], "2024-05-03T18:00:00Z", "2024-05-03"),
        (["2024-05-04T09:00:00+02:00", "2024-05-02"], "2024-05-03T18:00:00Z", "2024-05-02"),  # future
        (["yesterday", None, "3 May 2024"], "2024-05-03T18:00:00Z", None),  # never guessed
        (["2024-05-04T01:00:00"], "2024-05-03T18:00:00Z", "2024-05-04T01:00:00"),  # naive: some zone
        (["2024-05-05T01:00:00"], "2024-05-03T18:00:00Z", None),
    ],
)
def test_published(candidates, fetched, expected):
    assert choose_published(candidates, fetched) == expected


# -- per-site rules ------------------------------------------------------------------------


RULES_PAGE = """<html lang="en"><head><title>Site | Talks in Moscow</title>
<meta property="og:type" content="article"></head><body>
<div class="story"><h2 class="kicker">Talks in Moscow end without a deal</h2>
<p>{text}</p>
<div class="promo"><p>Subscribe to our newsletter for the best stories</p></div>
<p>{text}</p></div>
<div class="sidebar"><p>{side}</p><p>{side}</p><p>{side}</p></div></body></html>"""
STORY = "The delegations met for three days in Moscow and left without an agreement on trade " * 3
SIDE = "Most read today on the site is a story about the weather and the football results " * 3


def test_site_rules_select_content_remove_blocks_and_pick_title():
    html = RULES_PAGE.format(text=STORY, side=SIDE)
    rules = SiteRules(content_selector="div.story", remove_selectors=(".promo",), title_selector="h2.kicker")
    article = extract_article(html, "https://x.test/2026/11/talks", "2026-11-20T00:00:00Z", rules)
    assert article.title == "Talks in Moscow end without a deal"
    assert "delegations met" in article.text
    assert "newsletter" not in article.text and "weather" not in article.text
    plain = extract_article(html, "https://x.test/2026/11/talks", "2026-11-20T00:00:00Z")
    assert plain.title != article.title and "newsletter" in plain.text


def test_extraction_inputs_and_outputs_pickle():
    rules = SiteRules(content_selector="article", remove_selectors=(".ad",))
    assert pickle.loads(pickle.dumps(rules)) == rules
    assert pickle.loads(pickle.dumps(extract_corpus_page("fundus-uk-bbc-2026-04-25"))).title


def _site_list(tmp_path: Path, keys: str, base: str = "https://x.test") -> Path:
    path = tmp_path / "sites.toml"
    path.write_text(f'[[sites]]\nname = "x"\nstart_urls = ["{base}/news/"]\nmax_depth = 1\n{keys}\n')
    return path


def test_selectors_in_the_site_list_are_validated_at_load_time(tmp_path):
    good = _site_list(tmp_path, 'content_selector = "div.story"\nremove_selectors = [".promo", "aside"]')
    assert rules_by_site(load_sites(good)) == {"x": SiteRules("div.story", (".promo", "aside"), None)}
    for keys, message in [
        ('content_selector = "div[["', "key 'content_selector': bad CSS selector"),
        ('remove_selectors = ["p", "::!!"]', "key 'remove_selectors': bad CSS selector"),
        ("title_selector = 3", "key 'title_selector' must be a CSS selector"),
        ('remove_selectors = [""]', "key 'remove_selectors' must be a list of non-empty strings"),
    ]:
        with pytest.raises(SiteListError, match=re.escape(message)) as caught:
            load_sites(_site_list(tmp_path, keys))
        assert "site 'x'" in str(caught.value)


def test_extract_applies_the_sites_selectors_end_to_end(tmp_path):
    data = tmp_path / "data"
    with NewsSite() as site:
        html = RULES_PAGE.format(text=STORY, side=SIDE).replace(
            'content="article">',
            'content="article"><meta property="article:published_time" content="2026-11-02T08:00:00+00:00">',
        )
        site.add("/news/2026/11/talks-in-moscow", html.encode(), "text/html; charset=utf-8")
        site.add(
            "/news/",
            b'<html><body><a href="/news/2026/11/talks-in-moscow">Talks</a></body></html>',
            "text/html; charset=utf-8",
        )
        sites = _site_list(tmp_path, 'remove_selectors = [".promo"]\ntitle_selector = "h2.kicker"', site.base)
        newsarchive("crawl", "--sites", sites, *FAST, data=data)
    bad = _site_list(tmp_path / "data", 'content_selector = "div[["')
    result = newsarchive("extract", "--sites", bad, data=data, check=False)
    assert result.returncode == 3 and "bad CSS selector" in result.stderr
    newsarchive("extract", "--sites", sites, data=data)
    db = sqlite3.connect(data / "news.db")
    title, text = db.execute("SELECT title, text FROM articles").fetchone()
    db.close()
    assert title == "Talks in Moscow end without a deal"
    assert "newsletter" not in text and "delegations met" in text


def test_a_cut_json_ld_headline_is_found_whole_on_the_page():
    # scmp.com's JSON-LD headline ends "... Hong Kong leader..."; its og:title is another line.
    article = extract_corpus_page("traf-scmp-com-playbook")
    assert article.title == ROWS["traf-scmp-com-playbook"]["expected"]["title"]
