"""Browsing the archive in a real browser: headless Chromium (Debian's chromium and
chromium-driver) driven by Selenium against the real ``newsarchive serve``."""

from __future__ import annotations

import html
import re
import shutil
import struct
import zlib
from pathlib import Path
from types import SimpleNamespace

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import WebDriverWait

from tests.helpers.serve import HOSTILE_PATH, HOSTILE_TITLE, KNOWN_PAGE, KNOWN_WORD, running_server

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
def site(news_site, serve_store):
    data = serve_store
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


def _table_cells(driver, column: str) -> list[str]:
    return [
        cell.text for cell in driver.find_elements(By.CSS_SELECTOR, f"table.rows-and-columns td.col-{column}")
    ]


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
    assert _table_cells(browser, "url") == [site.news.url(KNOWN_PAGE)]


def test_facet_narrows_by_site(site, browser):
    base = site.base
    browser.get(f"{base}/news/articles")
    everything = browser.find_element(By.CSS_SELECTOR, "h3").text
    facet = browser.find_element(By.CSS_SELECTOR, '.facet-info[data-column="site"]')
    facet.find_element(By.LINK_TEXT, "rss").click()
    _wait(browser, expected_conditions.url_contains("site=rss"))
    sites = _table_cells(browser, "site")
    assert sites and set(sites) == {"rss"}
    assert browser.find_element(By.CSS_SELECTOR, "h3").text != everything


def test_article_page_shows_paragraphs_and_opens_the_archived_page(site, browser, tmp_path):
    base = site.base
    browser.get(f"{base}/news/articles?_search={KNOWN_WORD}")
    browser.find_element(By.CSS_SELECTOR, "table.rows-and-columns td.col-id a").click()
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
