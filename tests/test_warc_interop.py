"""Other tools' archives in, nothing lost (issue 15): wget, warcio's capture_http, and the
real test files of warcio, pywb, resiliparse, jwarc and webarchive-commons (tests/data/warc/).

Each test here failed before the reader, the body decoder and the file identity were made to
read any WARC: the failure it guards against is named in its docstring.
"""

from __future__ import annotations

import gzip
import io
import shutil
import sqlite3
import subprocess
import urllib.request
from pathlib import Path

import pytest
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from archive.demo.site import NewsSite
from archive.extract.article import extract_article
from archive.extract.decode import decode_html
from archive.warc.reader import iter_records, read_record_at
from tests.helpers.cli import newsarchive
from tests.helpers.pages import ROWS, corpus_page

FOREIGN = Path(__file__).parent / "data" / "warc"
PAGE_IDS = sorted(ROWS)  # the 26 bundled real article pages


def _rows(data: Path, sql: str, params: tuple = ()) -> list[tuple]:
    with sqlite3.connect(data / "news.db") as conn:
        return conn.execute(sql, params).fetchall()


def _direct_text(page_id: str, url: str) -> str:
    """The article text of a bundled page extracted straight from its bytes: what any
    archive of it must give."""
    html, _ = decode_html(corpus_page(page_id), f"text/html; charset={ROWS[page_id]['encoding']}")
    return extract_article(html, url, "2026-11-01T00:00:00Z").text


@pytest.fixture(scope="module")
def site():
    """A loopback server sending every bundled article chunked (and gzipped when asked)."""
    with NewsSite() as news:
        links = []
        for page_id in PAGE_IDS:
            content_type = f"text/html; charset={ROWS[page_id]['encoding']}"
            path = f"/chunked/{page_id}.html"
            news.add(path, corpus_page(page_id), content_type, chunked=True, coding="gzip")
            links.append(f'<a href="/chunked/{page_id}.html">{page_id}</a>')
        news.add("/chunked/", f"<html><body>{' '.join(links)}</body></html>".encode(), "text/html")
        yield news


def _wget(site: NewsSite, out: Path, *options: str) -> Path:
    """Debian's wget crawling the chunked pages into ``out``.warc.gz, as a user would."""
    wget = shutil.which("wget")
    assert wget, "wget is missing: apt-get install wget (tools/system-packages.txt)"
    out.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [wget, "-r", "-l", "1", "-nd", "--delete-after", "-e", "robots=off", "--no-verbose",
         f"--warc-file={out}", *options, site.url("/chunked/")],
        cwd=out.parent, check=True, capture_output=True, timeout=120,
    )  # fmt: skip
    return out.with_name(out.name + ".warc.gz")


@pytest.fixture(scope="module")
def wget_plain(site, tmp_path_factory) -> Path:
    return _wget(site, tmp_path_factory.mktemp("wget-plain") / "crawl")


@pytest.fixture(scope="module")
def wget_gzip(site, tmp_path_factory) -> Path:
    return _wget(site, tmp_path_factory.mktemp("wget-gzip") / "crawl", "--compression=gzip")


def _articles_match(data: Path, site: NewsSite) -> int:
    """How many of the bundled pages came out of the store with the text they have."""
    rows = dict(_rows(data, "SELECT url, text FROM articles"))
    urls = {page_id: site.url(f"/chunked/{page_id}.html") for page_id in PAGE_IDS}
    return sum(rows.get(url) == _direct_text(page_id, url) for page_id, url in urls.items())


def test_wget_chunked_crawl_keeps_no_chunk_sizes(wget_plain, site, tmp_path):
    """Was: chunk sizes spliced into the text ("New York Sta 1000 te Attorney General")."""
    result = newsarchive("extract", wget_plain, data=tmp_path, check=False)
    assert result.returncode == 0, result.stderr
    assert _articles_match(tmp_path, site) == len(PAGE_IDS)


def test_wget_gzip_chunked_crawl_gives_every_article(wget_gzip, site, tmp_path):
    """Was: "gzip body is corrupt" on every page, 0 articles."""
    result = newsarchive("extract", wget_gzip, data=tmp_path, check=False)
    assert result.returncode == 0, result.stderr
    assert _articles_match(tmp_path, site) == len(PAGE_IDS)


def test_chunked_gzip_record_decodes_for_every_consumer(wget_gzip, site, tmp_path):
    """The Datasette capture view and replay lookups decode as extract does (was: the
    archived-page view failed on chunked gzip, replay served chunk framing)."""
    from archive.publish.datasette.plugins.newsarchive_plugin import _read_capture
    from archive.store.lookup import ArchiveIndex

    page_id = PAGE_IDS[0]
    url = site.url(f"/chunked/{page_id}.html")
    (record,) = [r for r in iter_records(wget_gzip) if r.type == "response" and r.url == url]
    assert record.http_header("Transfer-Encoding") == "chunked"
    assert record.http_header("Content-Encoding") == "gzip"
    _, body = _read_capture(wget_gzip, record.offset)
    assert body == corpus_page(page_id)
    data = tmp_path / "data"
    (data / "warc").mkdir(parents=True)
    shutil.copy(wget_gzip, data / "warc")
    found = ArchiveIndex(data).lookup(url)
    assert found is not None
    assert gzip.decompress(found[1]) == corpus_page(page_id)  # entity: de-chunked, still gzip


def test_capture_http_chunked_page(site, tmp_path):
    """warcio's capture_http stores the chunked wire bytes; the article comes out whole."""
    from warcio.capture_http import capture_http

    page_id = PAGE_IDS[1]
    url = site.url(f"/chunked/{page_id}.html")
    warc = tmp_path / "in" / "capture.warc.gz"
    warc.parent.mkdir()
    with capture_http(str(warc)):
        request = urllib.request.Request(url, headers={"Accept-Encoding": "gzip"})
        urllib.request.urlopen(request, timeout=10).read()
    result = newsarchive("extract", warc, data=tmp_path / "data", check=False)
    assert result.returncode == 0, result.stderr
    assert _rows(tmp_path / "data", "SELECT text FROM articles WHERE url = ?", (url,)) == [
        (_direct_text(page_id, url),)
    ]


# -- digests -------------------------------------------------------------------------


def _warc(path: Path, records: list[dict], compress: bool = True) -> Path:
    """A WARC written by warcio; ``payload_digest`` given in a record replaces warcio's own
    (as warcprox, Heritrix or a broken tool computed it)."""
    members = []
    for spec in records:
        buffer = io.BytesIO()
        writer = WARCWriter(buffer, gzip=False)
        http = StatusAndHeaders("200 OK", spec.get("headers", []), protocol="HTTP/1.1")
        record = writer.create_warc_record(
            spec["url"], spec.get("type", "response"), payload=io.BytesIO(spec["payload"]),
            http_headers=http, warc_headers_dict=spec.get("warc", {}),
        )  # fmt: skip
        writer.write_record(record)
        raw = buffer.getvalue()
        if "payload_digest" in spec:
            old = record.rec_headers.get_header("WARC-Payload-Digest").encode()
            raw = raw.replace(old, spec["payload_digest"].encode(), 1)
        members.append(gzip.compress(raw) if compress else raw)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"".join(members))
    return path


def _sha1(data: bytes) -> str:
    import base64
    import hashlib

    return "sha1:" + base64.b32encode(hashlib.sha1(data).digest()).decode()


def _chunked(body: bytes, size: int = 1000) -> bytes:
    chunks = [body[i : i + size] for i in range(0, len(body), size)]
    return b"".join(b"%x\r\n%s\r\n" % (len(c), c) for c in chunks) + b"0\r\n\r\n"


HTML = [("Content-Type", "text/html; charset=utf-8")]
CHUNKED = [*HTML, ("Transfer-Encoding", "chunked")]


@pytest.mark.parametrize("compress", [True, False], ids=["gzip", "uncompressed"])
def test_digest_conventions_and_mismatch(tmp_path, compress):
    """Was: a payload digest over the de-chunked entity (warcprox, Heritrix) or a wrong one
    dropped the record, and in an uncompressed file everything after it; exit 0."""
    pages = [corpus_page(page_id) for page_id in PAGE_IDS[7:11]]
    warc = _warc(
        tmp_path / "in" / ("digests.warc.gz" if compress else "digests.warc"),
        [
            {"url": "http://a.test/entity", "payload": _chunked(pages[0]), "headers": CHUNKED,
             "payload_digest": _sha1(pages[0])},  # the spec clarification's convention
            {"url": "http://a.test/chunked", "payload": _chunked(pages[1]), "headers": CHUNKED},  # warcio's
            {"url": "http://a.test/wrong", "payload": pages[2], "headers": HTML,
             "payload_digest": _sha1(b"x")},
            {"url": "http://a.test/after", "payload": pages[3], "headers": HTML},
        ],
        compress,
    )  # fmt: skip
    result = newsarchive("extract", warc, data=tmp_path / "data", check=False)
    assert result.returncode == 1  # a mismatch is a partial success
    rows = _rows(tmp_path / "data", "SELECT url, digest_problem IS NOT NULL FROM captures ORDER BY url")
    assert rows == [
        ("http://a.test/after", 0),
        ("http://a.test/chunked", 0),
        ("http://a.test/entity", 0),
        ("http://a.test/wrong", 1),
    ]
    assert len(_rows(tmp_path / "data", "SELECT id FROM articles")) == 4
    assert "1 records kept with a digest mismatch" in result.stdout
    assert "bad digests   1" in newsarchive("stats", data=tmp_path / "data").stdout


# -- broken spots ----------------------------------------------------------------------


@pytest.mark.parametrize("compress", [True, False], ids=["gzip", "uncompressed"])
def test_every_broken_spot_is_listed_and_skipped(tmp_path, compress):
    """Was: only the first broken spot was reported, and in an uncompressed file nothing
    after it was read; messages carried raw bytes over several lines."""
    page = corpus_page(PAGE_IDS[3])
    records = [{"url": f"http://b.test/{i}", "payload": page, "headers": HTML} for i in range(3)]
    good = [_warc(tmp_path / f"part{i}", [record], compress) for i, record in enumerate(records)]
    junk = b"\x00\xff\x1f\x8b garbage\r\nWARC-Type: nothing\n\x07" * 3
    parts = [good[0].read_bytes(), junk, good[1].read_bytes(), junk, good[2].read_bytes()]
    warc = tmp_path / "in" / ("broken.warc.gz" if compress else "broken.warc")
    warc.parent.mkdir()
    warc.write_bytes(b"".join(parts))
    result = newsarchive("extract", warc, data=tmp_path / "data", check=False)
    assert result.returncode == 1
    assert _rows(tmp_path / "data", "SELECT count(*) FROM captures") == [(3,)]
    errors = [line for line in result.stderr.splitlines() if line.startswith("extract: error:")]
    offsets = [len(parts[0]), len(parts[0]) + len(junk) + len(parts[2])]
    assert [int(line.split(" at offset ")[1].split(":")[0]) for line in errors] == offsets
    assert all(line.isprintable() and "\\x" not in line[:60] for line in errors)


# -- record types and formats ----------------------------------------------------------


def test_bundled_foreign_files(tmp_path):
    """Was: ARC refused, WACZ an error with binary in it, resource records ignored, WARC/0.18
    responses dropped on their digests, revisits stored with no record type."""
    data = tmp_path / "data"
    result = newsarchive("extract", FOREIGN, data=data, check=False)
    assert result.returncode == 1  # the ClueWeb09 file's digests match no convention
    assert "extract: error" not in result.stderr
    by_file = dict(
        ((name, kind), n)
        for name, kind, n in _rows(
            data,
            "SELECT f.name, c.record_type, count(*) FROM captures c"
            " JOIN warc_files f ON f.name = c.warc_file GROUP BY 1, 2",
        )
    )
    assert by_file == {
        ("IAH-urls-wget.warc.gz", "response"): 16,
        ("clueweb09-quirk.warc.gz", "response"): 29,
        ("commoncrawl-cc.warc.gz", "response"): 1,
        ("example-iana.org-chunked.warc", "response"): 1,
        ("example-resource.warc.gz", "resource"): 1,
        ("example.arc", "response"): 1,
        ("example.arc.gz", "response"): 1,
        ("example.warc.gz", "response"): 1,
        ("example.warc.gz", "revisit"): 1,
        ("valid_example_1.wacz", "response"): 1,
    }
    assert _rows(data, "SELECT count(*) FROM captures WHERE digest_problem IS NOT NULL") == [(29,)]
    kinds = dict(_rows(data, "SELECT name, kind FROM warc_files"))
    assert kinds["example.arc.gz"] == "arc.gz" and kinds["valid_example_1.wacz"] == "wacz"
    # the revisit points at its original, and every body decodes to HTML
    revisits = "SELECT refers_to IS NOT NULL FROM captures WHERE record_type = 'revisit'"
    assert _rows(data, revisits) == [(1,)]
    html = _rows(
        data,
        "SELECT warc_file, warc_offset FROM captures"
        " WHERE mime = 'text/html' AND status = 200 AND record_type != 'revisit'",
    )
    assert len(html) == 37
    for name, offset in html:
        body, _ = read_record_at(FOREIGN / name, offset).body()
        assert body.lstrip()[:1] == b"<", (name, offset, body[:40])


def test_chunked_file_body_has_no_framing():
    """warcio's chunked iana.org response: the body a consumer gets is the page, not chunks."""
    (record,) = [r for r in iter_records(FOREIGN / "example-iana.org-chunked.warc") if r.type == "response"]
    body, warning = record.body()
    assert warning is None and body.startswith(b"<!doctype html>") and body.rstrip().endswith(b"</html>")
    assert b"\r\n0\r\n" not in body


def test_archive_files_in_data_warc_are_picked_up(tmp_path):
    """Was: .warc, .arc(.gz) and .wacz files in data/warc skipped by extract, stats, index."""
    data = tmp_path / "data"
    (data / "warc").mkdir(parents=True)
    for name in ("example-iana.org-chunked.warc", "example.arc", "example.arc.gz", "valid_example_1.wacz"):
        shutil.copy(FOREIGN / name, data / "warc")
    result = newsarchive("extract", data=data, check=False)
    assert result.returncode == 0, result.stderr
    assert _rows(data, "SELECT count(DISTINCT warc_file) FROM captures") == [(4,)]
    stats = newsarchive("stats", data=data).stdout
    assert "WARC files    4" in stats and "wacz: 1" in stats and "arc: 1" in stats
    index = newsarchive("index", data=data, check=False)
    assert index.returncode == 1  # the WACZ's records are not in index.cdxj: said, and not exit 0
    assert "index: 3 records" in index.stdout  # the WACZ carries its own index and is named as left out
    assert "left out valid_example_1.wacz" in index.stderr


def test_directory_as_path(tmp_path):
    """Was: a directory given as PATH was "no such file"."""
    folder = tmp_path / "in"
    folder.mkdir()
    shutil.copy(FOREIGN / "example.warc.gz", folder)
    result = newsarchive("extract", folder, data=tmp_path / "data", check=False)
    assert result.returncode == 0, result.stderr
    assert _rows(tmp_path / "data", "SELECT count(*) FROM captures") == [(2,)]


def test_resource_page_becomes_an_article(tmp_path):
    """Was: warcit-style resource records (an HTML file, no HTTP headers) ignored."""
    page_id = PAGE_IDS[4]
    buffer = io.BytesIO()
    writer = WARCWriter(buffer, gzip=True)
    url = "file:///site/" + page_id + ".html"
    writer.write_record(
        writer.create_warc_record(
            url, "resource", payload=io.BytesIO(corpus_page(page_id)),
            warc_content_type=f"text/html; charset={ROWS[page_id]['encoding']}",
        )
    )  # fmt: skip
    warc = tmp_path / "in" / "warcit.warc.gz"
    warc.parent.mkdir()
    warc.write_bytes(buffer.getvalue())
    result = newsarchive("extract", warc, data=tmp_path / "data", check=False)
    assert result.returncode == 0, result.stderr
    assert _rows(tmp_path / "data", "SELECT url, text FROM articles") == [(url, _direct_text(page_id, url))]


def test_zstd_body(tmp_path):
    """Was: Content-Encoding: zstd bodies unsupported, the page lost."""
    import zstandard

    page_id = PAGE_IDS[5]
    page = corpus_page(page_id)
    content_type = f"text/html; charset={ROWS[page_id]['encoding']}"
    headers = [("Content-Type", content_type), ("Content-Encoding", "zstd")]
    body = zstandard.ZstdCompressor().compress(page)
    record = {"url": "http://z.test/a", "payload": body, "headers": headers}
    warc = _warc(tmp_path / "in" / "zstd.warc.gz", [record])
    result = newsarchive("extract", warc, data=tmp_path / "data", check=False)
    assert result.returncode == 0, result.stderr
    assert _rows(tmp_path / "data", "SELECT text FROM articles") == [(_direct_text(page_id, "http://z.test/a"),)]


def test_revisit_moves_last_seen(tmp_path):
    """Was: a revisit stored with no record type, and its article's last_seen never moved."""
    page = corpus_page(PAGE_IDS[6])
    url = "http://r.test/story"
    first = {"url": url, "payload": page, "headers": HTML, "warc": {"WARC-Date": "2026-01-01T00:00:00Z"}}
    warc = _warc(tmp_path / "in" / "first.warc.gz", [first])
    (original,) = list(iter_records(warc))
    later = {
        "url": url, "type": "revisit", "payload": b"", "headers": HTML,
        "warc": {
            "WARC-Date": "2026-03-01T00:00:00Z",
            "WARC-Refers-To": original.record_id,
            "WARC-Refers-To-Target-URI": url,
            "WARC-Profile": "http://netpreserve.org/warc/1.0/revisit/identical-payload-digest",
            "WARC-Payload-Digest": original.headers["WARC-Payload-Digest"],
        },
    }  # fmt: skip
    second = _warc(tmp_path / "in" / "second.warc.gz", [later])
    data = tmp_path / "data"
    newsarchive("extract", warc, second, data=data)
    assert _rows(data, "SELECT first_seen, last_seen FROM articles") == [
        ("2026-01-01T00:00:00Z", "2026-03-01T00:00:00Z")
    ]
    assert _rows(data, "SELECT record_type, refers_to FROM captures ORDER BY fetched_at") == [
        ("response", None),
        ("revisit", original.record_id),
    ]


def test_a_file_that_is_no_archive_is_one_short_line(tmp_path):
    """Was: the message quoted the file's first line, a kilobyte of binary."""
    junk = tmp_path / "in" / "photo.warc.gz"
    junk.parent.mkdir()
    junk.write_bytes(bytes(range(256)) * 8)
    result = newsarchive("extract", junk, data=tmp_path / "data", check=False)
    assert result.returncode == 1
    (error,) = [line for line in result.stderr.splitlines() if line.startswith("extract: error:")]
    assert "not a WARC, ARC or WACZ file: it starts b'\\x00\\x01" in error
    assert len(error) < 200 and error.isascii()
