"""Browsing the archive in a real browser: headless Chromium (Debian's chromium and
chromium-driver) driven by Selenium against the real ``newsarchive serve``.

The store is the session's (tests/helpers/serve.py) plus two articles that match one search
(tests/helpers/search.py) and an article with three versions (tests/helpers/versions.py).
Screenshots are saved in each test's tmp dir (``--basetemp`` to keep them) and checked not
blank; a person looked at them once (issues 18 and 19)."""

from __future__ import annotations

import html
import re
import shutil
import sqlite3
import struct
import urllib.parse
import zlib
from pathlib import Path
from types import SimpleNamespace

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import WebDriverWait

from tests.helpers.search import IN_TEXT, IN_TITLE, QUERY, add_two_matches
from tests.helpers.serve import HOSTILE_PATH, HOSTILE_TITLE, KNOWN_PAGE, KNOWN_WORD, running_server
from tests.helpers.versions import (
    ARTICLE_ID,
    DELETED_WORD,
    HOSTILE_VERSION_TITLE,
    INSERTED_WORD,
    store_with_versions,
)

pytestmark = pytest.mark.slow  # a real Chromium

CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--window-size=1280,1024",
]


@pytest.fixture(scope="module")
def site(news_site, serve_store, tmp_path_factory):
    data = store_with_versions(serve_store, tmp_path_factory.mktemp("browse") / "data")
    add_two_matches(data / "news.db")
    with running_server(data) as base:
        yield SimpleNamespace(base=base, data=data, news=news_site)


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    chromium, chromedriver = shutil.which("chromium"), shutil.which("chromedriver")
    if not (chromium and chromedriver):
        pytest.fail("needs Debian's chromium and chromium-driver (tools/system-packages.txt)")
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in [*CHROMIUM_FLAGS, f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}"]:
        options.add_argument(flag)
    driver = webdriver.Chrome(options=options, service=Service(executable_path=chromedriver))
    driver.set_page_load_timeout(30)
    yield driver
    driver.quit()


def _wait(driver, condition, seconds: float = 10):
    return WebDriverWait(driver, seconds).until(condition)


def _listed(driver, css: str) -> list:
    """Elements of the articles list (the articles page reads as a list, not a table)."""
    return driver.find_elements(By.CSS_SELECTOR, f"ol.article-list li.article-item {css}")


def _article_id(site, path: str) -> str:
    db = sqlite3.connect(site.data / "news.db")
    try:
        return db.execute("SELECT id FROM articles WHERE url = ?", [site.news.url(path)]).fetchone()[0]
    finally:
        db.close()


def assert_non_blank_png(path: Path) -> None:
    """A PNG whose pixels are not all one colour.

    Checked on the decompressed scanlines without an imaging library: one flat colour
    filters down to a handful of byte values, a rendered page to many.
    """
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    width, height = struct.unpack(">II", data[16:24])
    assert width > 100 and height > 100
    chunks, position = [], 8
    while position < len(data):
        length, kind = struct.unpack(">I4s", data[position : position + 8])
        if kind == b"IDAT":
            chunks.append(data[position + 8 : position + 8 + length])
        position += 12 + length
    pixels = zlib.decompress(b"".join(chunks))
    assert len(set(pixels)) > 32, f"{path} looks blank"


def test_search_box_finds_the_article(site, browser):
    base = site.base
    browser.get(f"{base}/news/articles")
    box = browser.find_element(By.ID, "_search")
    box.send_keys(KNOWN_WORD)
    box.submit()
    _wait(browser, expected_conditions.url_contains(f"_search={KNOWN_WORD}"))
    [link] = _listed(browser, "a.article-title")
    assert link.get_attribute("href") == f"{base}/news/articles/{_article_id(site, KNOWN_PAGE)}"


def test_facet_narrows_by_site(site, browser):
    base = site.base
    browser.get(f"{base}/news/articles")
    everything = browser.find_element(By.CSS_SELECTOR, "h3").text
    facet = browser.find_element(By.CSS_SELECTOR, '.facet-info[data-column="site"]')
    facet.find_element(By.LINK_TEXT, "rss").click()
    _wait(browser, expected_conditions.url_contains("site=rss"))
    sites = [element.text for element in _listed(browser, ".article-site")]
    assert sites and set(sites) == {"rss"}
    assert browser.find_element(By.CSS_SELECTOR, "h3").text != everything


def test_article_page_shows_paragraphs_and_opens_the_archived_page(site, browser, tmp_path):
    base = site.base
    browser.get(f"{base}/news/articles?_search={KNOWN_WORD}")
    _listed(browser, "a.article-title")[0].click()
    _wait(browser, expected_conditions.presence_of_element_located((By.CSS_SELECTOR, ".article-text")))
    paragraphs = browser.find_elements(By.CSS_SELECTOR, ".article-text p")
    assert len(paragraphs) > 5 and all(p.text.strip() for p in paragraphs)
    assert any(KNOWN_WORD in p.text for p in paragraphs)
    article_shot = tmp_path / "article.png"
    assert browser.save_screenshot(str(article_shot))
    assert_non_blank_png(article_shot)

    browser.find_element(By.CSS_SELECTOR, "a.archived-page").click()
    _wait(browser, expected_conditions.url_contains("/-/capture/"))
    archived_title = re.search(rb"<title>(.*?)</title>", site.news.pages[KNOWN_PAGE].body, re.S).group(1)
    assert browser.title == " ".join(html.unescape(archived_title.decode()).split())
    assert KNOWN_WORD in browser.find_element(By.TAG_NAME, "body").text
    archived_shot = tmp_path / "archived.png"
    assert browser.save_screenshot(str(archived_shot))
    assert_non_blank_png(archived_shot)


def test_archived_page_scripts_do_not_run(site, browser):
    base = site.base
    browser.get(f"{base}/news/captures?url__endswith={HOSTILE_PATH}")
    browser.find_element(By.CSS_SELECTOR, "a.archived-page").click()
    _wait(browser, expected_conditions.url_contains("/-/capture/"))
    assert "A page with a script" in browser.find_element(By.TAG_NAME, "body").text
    assert browser.title == HOSTILE_TITLE  # its script would have renamed it


def test_search_for_two_words_ranks_the_title_match_first_with_the_passage(site, browser, tmp_path):
    browser.get(f"{site.base}/news/articles")
    box = browser.find_element(By.ID, "_search")
    box.send_keys(QUERY)
    box.submit()
    _wait(browser, expected_conditions.url_contains("_search=" + urllib.parse.quote_plus(QUERY)))
    titles = [element.text for element in _listed(browser, "a.article-title")]
    assert titles == [IN_TITLE[1], IN_TEXT[1]]  # both words in the title beat both words, often, in the text
    first = _listed(browser, "")[0]
    marked = [mark.text.lower() for mark in first.find_elements(By.CSS_SELECTOR, "p.article-passage mark")]
    assert "zorblat" in marked and "quennic" in marked  # the passage, its words highlighted
    assert first.find_element(By.CSS_SELECTOR, "p.article-passage").is_displayed()
    assert browser.find_element(By.CSS_SELECTOR, '.facet-info[data-column="site"]').is_displayed()
    assert not browser.find_element(
        By.CSS_SELECTOR, "details.column-help dl"
    ).is_displayed()  # one click away
    shot = tmp_path / "search.png"
    assert browser.save_screenshot(str(shot))
    assert_non_blank_png(shot)


def test_diff_view_shows_an_insertion_and_a_deletion(site, browser, tmp_path):
    browser.get(f"{site.base}/news/articles/{ARTICLE_ID}")
    rows = browser.find_elements(By.CSS_SELECTOR, "table.versions tbody tr")
    assert len(rows) == 3
    article_shot = tmp_path / "versions.png"
    assert browser.save_screenshot(str(article_shot))
    assert_non_blank_png(article_shot)

    browser.find_element(By.CSS_SELECTOR, "p.versions-note a.diff-link").click()  # what changed last
    _wait(browser, expected_conditions.url_contains(f"/-/versions/{ARTICLE_ID}"))
    inserted = [element.text for element in browser.find_elements(By.CSS_SELECTOR, ".diff-text ins")]
    deleted = [element.text for element in browser.find_elements(By.CSS_SELECTOR, ".diff-text del")]
    assert INSERTED_WORD in inserted and DELETED_WORD in deleted
    assert any(text.startswith("Correction:") for text in inserted)
    title = browser.find_element(By.CSS_SELECTOR, "h2.diff-title ins")
    assert "<script>" in title.text and browser.title.startswith("What changed")  # shown as text, not run
    assert HOSTILE_VERSION_TITLE in browser.title  # the hostile headline is text in the page's title too
    ins_colour = title.value_of_css_property("background-color")
    del_colour = browser.find_element(By.CSS_SELECTOR, ".diff-text del").value_of_css_property(
        "background-color"
    )
    assert ins_colour != del_colour  # additions and removals read apart
    diff_shot = tmp_path / "diff.png"
    assert browser.save_screenshot(str(diff_shot))
    assert_non_blank_png(diff_shot)
