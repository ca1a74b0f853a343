"""WARC fidelity against a loopback server: what was sent and received, as it was."""

from __future__ import annotations

import gzip
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import brotli
import pytest
from warcio.archiveiterator import ArchiveIterator

from archive.warc.files import list_warc_files
from tests.helpers.cli import FAST, newsarchive

ARTICLE = "fundus-uk-bbc-2026-04-25"
SITE = """
[[sites]]
name = "fid"
start_urls = ["{base}/fid/"]
max_depth = 1

[[sites]]
name = "down"
feeds = ["http://127.0.0.1:9/feed.xml"]
"""


@pytest.fixture(scope="module")
def fid(news_site, tmp_path_factory):
    site = news_site
    page = gzip.decompress((site.corpus_dir / "pages" / f"{ARTICLE}.html.gz").read_bytes())
    html = "text/html; charset=utf-8"
    site.add("/fid/chunked", page + b"<!-- sent chunked -->", html, chunked=True)
    site.add("/fid/brotli-2024-article", page, html, coding="br")
    site.add(
        "/fid/headers",
        b"<html>h</html>",
        html,
        headers=[
            ("Set-Cookie", "a=1"),
            ("Set-Cookie", "b=2"),
            ("Link", "</x>; rel=a"),
            ("Link", "</y>; rel=b"),
        ],
    )
    site.add("/fid/query?b=2&a=1", b"<html>q</html>", html)
    site.add("/fid/copy-a", b"<html>same bytes</html>", html)
    site.add("/fid/copy-b", b"<html>same bytes</html>", html)
    links = "".join(
        f'<a href="/fid/{p}">{p}</a>'
        for p in ("chunked", "brotli-2024-article", "headers", "query?b=2&a=1", "copy-a", "copy-b")
    )
    site.add("/fid/", f"<html><body>{links}</body></html>".encode(), html)
    data = tmp_path_factory.mktemp("fid")
    (data / "sites.toml").write_text(SITE.format(base=site.base))
    crawl = newsarchive(
        "crawl",
        "--sites",
        data / "sites.toml",
        *FAST,
        "-s",
        "WARC_DEDUP=True",
        "-s",
        "WARC_OPERATOR=Test Operator <ops@example.org>",
        "-s",
        "CONCURRENT_REQUESTS=1",
        data=data,
        check=False,
    )
    newsarchive("extract", data=data)
    (path,) = list_warc_files(data / "warc")
    records = []
    with open(path, "rb") as fh:
        for record in ArchiveIterator(fh, check_digests="raise"):
            records.append(
                SimpleNamespace(
                    type=record.rec_type,
                    warc=record.rec_headers,
                    http=record.http_headers,
                    raw=record.raw_stream.read(),
                )
            )
    yield SimpleNamespace(data=data, crawl=crawl, path=path, records=records, site=site, page=page)


def _response(fid, path: str):
    url = fid.site.url(path)
    return next(
        r
        for r in fid.records
        if r.type in ("response", "revisit") and r.warc.get_header("WARC-Target-URI") == url
    )


def _request_for(fid, response):
    rid = response.warc.get_header("WARC-Record-ID")
    return next(
        r for r in fid.records if r.type == "request" and r.warc.get_header("WARC-Concurrent-To") == rid
    )


def test_chunked_body_is_stored_dechunked(fid):
    record = _response(fid, "/fid/chunked")
    # Twisted undoes chunking and drops the header; had it been kept, it would be renamed.
    assert record.http.get_header("Transfer-Encoding") is None
    assert record.raw == fid.page + b"<!-- sent chunked -->"


def test_no_brotli_asked_for_so_none_archived(fid):
    record = _response(fid, "/fid/brotli-2024-article")  # the server sends br only when asked
    assert record.http.get_header("Content-Encoding") is None
    assert record.raw == fid.page
    db = sqlite3.connect(fid.data / "news.db")
    titles = db.execute(
        # The bbc.com canonical is not trusted on a loopback host (issue 17): each capture
        # keeps its own URL, and the later one is marked a copy of the first.
        "SELECT title FROM articles WHERE claims_canonical = ? AND duplicate_of IS NULL",
        ["https://www.bbc.com/news/articles/clymn8zyrp9o"],
    ).fetchall()
    assert titles == [("What is Nato and which countries are in it?",)]  # one article, one copy


def test_repeated_headers_all_kept(fid):
    headers = _response(fid, "/fid/headers").http.headers
    assert [v for k, v in headers if k == "Set-Cookie"] == ["a=1", "b=2"]
    assert [v for k, v in headers if k == "Link"] == ["</x>; rel=a", "</y>; rel=b"]


def test_status_line_protocol_and_ip(fid):
    record = _response(fid, "/fid/headers")
    assert record.http.protocol == "HTTP/1.1" and record.http.statusline == "200 OK"
    assert record.warc.get_header("WARC-IP-Address") == "127.0.0.1"
    assert record.warc.get_header("WARC-Payload-Digest").startswith("sha1:")


def test_request_record_is_the_request_as_sent(fid):
    request = _request_for(fid, _response(fid, "/fid/query?b=2&a=1"))
    assert request.http.protocol == "GET"
    assert request.http.statusline.split(" ")[0] == "/fid/query?b=2&a=1"
    assert request.http.get_header("User-Agent").startswith("newsarchive/")
    assert request.http.get_header("Accept-Encoding") == "gzip, deflate"  # what every WARC reader decodes
    assert request.http.get_header("Host") == fid.site.base.removeprefix("http://")


def test_warcinfo_describes_the_crawl(fid):
    info = fid.records[0]
    assert info.type == "warcinfo"
    text = info.raw.decode()
    for field in (
        "software: newsarchive",
        "hostname: ",
        "operator: Test Operator <ops@example.org>",
        "robots: obey",
        "format: WARC File Format 1.1",
    ):
        assert field in text


def test_identical_payload_becomes_a_revisit_record(fid):
    original, copy = sorted(
        (_response(fid, "/fid/copy-a"), _response(fid, "/fid/copy-b")), key=lambda r: r.type != "response"
    )
    assert original.type == "response" and copy.type == "revisit"
    assert copy.warc.get_header("WARC-Profile").endswith("/revisit/identical-payload-digest")
    assert copy.warc.get_header("WARC-Refers-To-Target-URI") == original.warc.get_header("WARC-Target-URI")
    assert copy.warc.get_header("WARC-Refers-To-Date") == original.warc.get_header("WARC-Date")
    assert copy.warc.get_header("WARC-Payload-Digest") == original.warc.get_header("WARC-Payload-Digest")


def test_fetch_without_response_is_a_metadata_record_and_counted(fid):
    meta = [
        r
        for r in fid.records
        if r.type == "metadata" and r.warc.get_header("WARC-Target-URI") == "http://127.0.0.1:9/feed.xml"
    ]
    assert meta and b"ConnectionRefused" in meta[0].raw
    db = sqlite3.connect(fid.data / "news.db")
    assert (
        db.execute("SELECT count(*) FROM fetch_errors WHERE url = 'http://127.0.0.1:9/feed.xml'").fetchone()[
            0
        ]
        >= 1
    )
    assert db.execute("SELECT errors FROM crawls").fetchone()[0] >= 1
    assert fid.crawl.returncode == 1 and "down" in fid.crawl.stderr


def test_warcio_check_and_index_and_cdxj_indexer(fid):
    check = subprocess.run(
        [sys.executable, "-m", "warcio.cli", "check", "-v", str(fid.path)], capture_output=True, text=True
    )
    assert check.returncode == 0, check.stdout
    index = subprocess.run(
        [sys.executable, "-m", "warcio.cli", "index", str(fid.path)],
        capture_output=True,
        text=True,
        check=True,
    )
    assert index.stdout.count('"response"') >= 6
    indexer = shutil.which("cdxj-indexer", path=str(Path(sys.executable).parent))
    cdxj = subprocess.run([indexer, str(fid.path)], capture_output=True, text=True, check=True)
    lines = [line for line in cdxj.stdout.splitlines() if line.strip()]
    assert any("fid/chunked" in line for line in lines) and any(
        '"revisit"' in line or "warc/revisit" in line for line in lines
    )


def test_transfer_encoding_header_is_renamed_when_present():
    from scrapy.http import Response

    from crawler.middlewares import response_header_pairs

    response = Response(
        "http://127.0.0.1/x", headers={"Transfer-Encoding": "chunked", "Content-Type": "text/html"}
    )
    assert ("X-Archive-Orig-Transfer-Encoding", "chunked") in response_header_pairs(response)
    assert not any(k.lower() == "transfer-encoding" for k, _ in response_header_pairs(response))


def test_brotli_sent_unasked_is_still_extracted():
    from archive.warc.body import undo_content_encoding

    assert undo_content_encoding(brotli.compress(b"<html>hi</html>"), "br") == (b"<html>hi</html>", None)
