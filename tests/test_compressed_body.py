"""No charset detection on gzipped bodies: CompressedBodyMiddleware before HttpCompression."""

from __future__ import annotations

import urllib.request

import pytest
from scrapy.downloadermiddlewares.httpcompression import HttpCompressionMiddleware
from scrapy.http import Headers, HtmlResponse, Request, TextResponse
from scrapy.responsetypes import responsetypes
from scrapy.settings import Settings
from scrapy.utils.conf import build_component_list
from scrapy.utils.test import get_crawler

from archive.demo.site import NewsSite
from crawler.compressed import CompressedBodyMiddleware

# Declared only in a <meta> tag (ISO-8859-1), Content-Type without charset: the case in
# which Scrapy guesses the charset from the body.
META_ONLY = "/news/traf-die-tagespost-de-demut.html"
COMPRESSION = "scrapy.downloadermiddlewares.httpcompression.HttpCompressionMiddleware"


@pytest.fixture(scope="module")
def site():
    with NewsSite() as site:
        yield site


def _as_downloaded(site: NewsSite, path: str) -> tuple[Request, TextResponse]:
    """A real loopback fetch, made into the response class Scrapy's download handler picks."""
    url = site.url(path)
    sent = urllib.request.Request(url, headers={"Accept-Encoding": "gzip, deflate"})
    with urllib.request.urlopen(sent, timeout=10) as reply:
        headers = Headers([(k, v) for k, v in reply.headers.items()])
        body = reply.read()
    assert body.startswith(b"\x1f\x8b") and headers.get(b"Content-Encoding") == b"gzip"
    cls = responsetypes.from_args(headers=headers, url=url, body=body)
    request = Request(url)
    return request, cls(url=url, headers=headers, body=body, request=request)


@pytest.fixture
def guesses(monkeypatch) -> list[bytes]:
    """The first bytes of every body whose charset Scrapy guesses."""
    seen: list[bytes] = []
    original = TextResponse._body_inferred_encoding

    def spy(self):
        seen.append(self.body[:2])
        return original(self)

    monkeypatch.setattr(TextResponse, "_body_inferred_encoding", spy)
    return seen


def _decompress(request, response, before=()):
    """What the downloader does from 595 down: each middleware's process_response, then HttpCompression."""
    crawler = get_crawler(settings_dict={"COMPRESSION_ENABLED": True})
    for middleware in before:
        response = middleware.from_crawler(crawler).process_response(request, response)
    return HttpCompressionMiddleware.from_crawler(crawler).process_response(request, response)


def test_without_it_scrapy_guesses_the_charset_of_the_gzipped_body(site, guesses):
    """The cost the middleware removes: HttpCompression's replace() reads ``encoding``."""
    request, downloaded = _as_downloaded(site, META_ONLY)
    assert isinstance(downloaded, HtmlResponse)
    _decompress(request, downloaded)
    assert b"\x1f\x8b" in guesses


def test_with_it_the_charset_comes_from_the_html_only(site, guesses):
    request, downloaded = _as_downloaded(site, META_ONLY)
    response = _decompress(request, downloaded, before=[CompressedBodyMiddleware])
    assert isinstance(response, HtmlResponse) and response.body.startswith(b"<")
    assert response.encoding == "cp1252" and "Demut" in response.text
    assert response.ip_address == downloaded.ip_address and response.request is request
    assert b"\x1f\x8b" not in guesses


def test_head_and_uncompressed_responses_are_left_alone(site):
    request, downloaded = _as_downloaded(site, META_ONLY)
    middleware = CompressedBodyMiddleware()
    head = Request(request.url, method="HEAD")
    assert middleware.process_response(head, downloaded) is downloaded
    plain = HtmlResponse(request.url, body=b"<html></html>", headers={"Content-Type": "text/html"})
    assert middleware.process_response(request, plain) is plain


def test_it_runs_right_before_http_compression_in_the_project_settings():
    settings = Settings()
    settings.setmodule("crawler.settings", priority="project")
    order = build_component_list(settings.getwithbase("DOWNLOADER_MIDDLEWARES"))
    # process_response runs from the end of this list back to its start.
    assert order.index(COMPRESSION) + 1 == order.index("crawler.compressed.CompressedBodyMiddleware")
    assert order.index("crawler.compressed.CompressedBodyMiddleware") < order.index(
        "crawler.middlewares.WarcArchiveMiddleware"
    )
