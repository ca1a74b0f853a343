"""``newsarchive wacz`` on a real crawl of the loopback site, and the metadata records' digests.

The package is opened as a zip and checked against the store and the WARC files, and
webrecorder's own ``wacz validate`` (the console script of the pinned ``wacz``) checks it too.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path
from types import SimpleNamespace

import pytest
from warcio.archiveiterator import ArchiveIterator
from warcio.timeutils import iso_date_to_timestamp

from archive.demo.site import NewsSite
from archive.publish import wacz
from archive.publish.wacz import WaczInvalid, validate
from archive.store.readonly import open_readonly
from archive.warc.writer import WarcWriter
from tests.helpers.cli import FAST, newsarchive
from tests.helpers.warc import exchange

BIN = Path(sys.executable).parent  # the venv's console scripts: wacz, warcio, fastwarc
TITLE = "Loopback news, packaged"


@pytest.fixture(scope="module")
def crawl(tmp_path_factory) -> Path:
    """The loopback site crawled into several small WARC files (300 kB each), then extracted."""
    data = tmp_path_factory.mktemp("wacz-crawl")
    with NewsSite() as site:
        (data / "sites.toml").write_text(site.sites_toml())
        newsarchive("crawl", "--sites", data / "sites.toml", *FAST, "-s", "WARC_MAX_SIZE=300000", data=data)
    newsarchive("extract", data=data)
    return data


@pytest.fixture(scope="module")
def packaged(crawl, tmp_path_factory) -> SimpleNamespace:
    out = tmp_path_factory.mktemp("wacz-out") / "new" / "loopback.wacz"  # its folder made on the way
    result = newsarchive("wacz", "--out", out, "--title", TITLE, data=crawl)
    return SimpleNamespace(data=crawl, out=out, result=result, zip=zipfile.ZipFile(out))


def _copy(crawl: Path, tmp_path: Path) -> Path:
    data = tmp_path / "data"
    shutil.copytree(crawl, data, ignore=shutil.ignore_patterns("*.wacz"))
    return data


def _warcs(data: Path) -> list[Path]:
    return sorted((data / "warc").glob("*.warc.gz"))


def _pages(wacz: zipfile.ZipFile) -> tuple[dict, list[dict]]:
    header, *rows = (json.loads(line) for line in wacz.read("pages/pages.jsonl").decode("utf-8").splitlines())
    return header, rows


def _store_articles(data: Path) -> list[tuple]:
    conn = open_readonly(data / "news.db")
    try:
        return conn.execute(
            "SELECT a.id, c.url, c.fetched_at, a.title, a.text FROM articles a "
            "JOIN captures c ON c.id = a.capture_id ORDER BY a.first_seen, a.id"
        ).fetchall()
    finally:
        conn.close()


# -- the package -------------------------------------------------------------------------


def test_wacz_says_what_it_packaged(packaged):
    assert packaged.result.returncode == 0, packaged.result.stderr
    articles = len(_store_articles(packaged.data))
    warcs = len(_warcs(packaged.data))
    assert warcs >= 3  # rotation at 300 kB: the package is made of several files
    assert (
        f"wacz: {warcs} WARC file(s), {articles} article pages -> {packaged.out} (valid WACZ 1.1.1)"
        in packaged.result.stdout
    )
    assert packaged.result.stderr == ""


def test_layout_is_wacz_1_1_1(packaged):
    names = set(packaged.zip.namelist())
    warcs = _warcs(packaged.data)
    assert names == {
        "datapackage.json",
        "datapackage-digest.json",
        "pages/pages.jsonl",
        "indexes/index.cdx.gz",
        "indexes/index.idx",
        *(f"archive/{p.name}" for p in warcs),
    }
    for path in warcs:  # the WARC files as they are, stored (not deflated) so replay can seek in them
        info = packaged.zip.getinfo(f"archive/{path.name}")
        assert info.compress_type == zipfile.ZIP_STORED
        assert packaged.zip.read(info) == path.read_bytes()
    datapackage = json.loads(packaged.zip.read("datapackage.json"))
    assert datapackage["wacz_version"] == "1.1.1"
    assert datapackage["profile"] == "data-package"
    assert datapackage["title"] == TITLE


def test_pages_are_the_store_articles_with_their_text(packaged):
    header, rows = _pages(packaged.zip)
    assert header == {"format": "json-pages-1.0", "id": "pages", "title": "Articles", "hasText": True}
    expected = [
        {"id": id_, "url": url, "ts": ts, "title": title, "text": text}
        for id_, url, ts, title, text in _store_articles(packaged.data)
    ]
    assert len(expected) > 10
    assert rows == expected
    assert all(row["text"] and row["title"] for row in rows)


def test_every_page_is_in_the_package_index(packaged):
    """ReplayWeb.page opens a page by its url and ts: the index must hold that capture."""
    cdx = gzip.decompress(packaged.zip.read("indexes/index.cdx.gz")).decode("utf-8")
    captures = set()
    for line in cdx.splitlines():
        _key, ts, fields = line.split(" ", 2)
        fields = json.loads(fields)
        captures.add((fields["url"], ts))
        assert fields["filename"] in {p.name for p in _warcs(packaged.data)}
    _, rows = _pages(packaged.zip)
    assert all((row["url"], iso_date_to_timestamp(row["ts"])) in captures for row in rows)
    idx = packaged.zip.read("indexes/index.idx").decode("utf-8").splitlines()
    assert idx[0].startswith("!meta 0 ") and json.loads(idx[0].split(" ", 2)[2])["filename"] == "index.cdx.gz"


def test_datapackage_hashes_every_file(packaged):
    datapackage_bytes = packaged.zip.read("datapackage.json")
    resources = {r["path"]: r for r in json.loads(datapackage_bytes)["resources"]}
    listed = set(packaged.zip.namelist()) - {"datapackage.json", "datapackage-digest.json"}
    assert set(resources) == listed
    for path, resource in resources.items():
        content = packaged.zip.read(path)
        assert resource["hash"] == "sha256:" + hashlib.sha256(content).hexdigest(), path
        assert resource["bytes"] == len(content)
    digest = json.loads(packaged.zip.read("datapackage-digest.json"))
    assert digest == {
        "path": "datapackage.json",
        "hash": "sha256:" + hashlib.sha256(datapackage_bytes).hexdigest(),
    }


def test_webrecorder_wacz_validate_passes(packaged):
    result = subprocess.run([BIN / "wacz", "validate", "-f", packaged.out], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Validation succeeded, the passed WACZ is valid" in result.stdout


def test_validate_rejects_a_file_changed_after_hashing(packaged, tmp_path):
    """The check run before a package replaces --out fails a package whose bytes do not match."""
    tampered = tmp_path / "tampered.wacz"
    with zipfile.ZipFile(tampered, "w") as out:
        for info in packaged.zip.infolist():
            content = packaged.zip.read(info)
            if info.filename == "pages/pages.jsonl":
                content = content.replace(b"hasText", b"hasTEXT")
            out.writestr(info, content)
    validate(packaged.out)  # the original passes
    expected = r"wacz validate failed \(exit 1\): .* invalid package .*'pages\.jsonl'.*Hash Count Error"
    with pytest.raises(WaczInvalid, match=expected):
        validate(tampered)


def test_default_out_and_title_and_a_second_run_replaces_the_file(crawl, tmp_path):
    data = _copy(crawl, tmp_path)
    first = newsarchive("wacz", data=data)
    out = data / "newsarchive.wacz"
    assert f"-> {out} (valid WACZ 1.1.1)" in first.stdout
    assert json.loads(zipfile.ZipFile(out).read("datapackage.json"))["title"] == "newsarchive: data"
    newsarchive("wacz", "--title", "again", data=data)
    assert json.loads(zipfile.ZipFile(out).read("datapackage.json"))["title"] == "again"
    assert sorted(p.name for p in out.parent.iterdir() if p.name.startswith(".wacz-")) == []  # no leftovers


def test_a_package_wacz_refuses_is_not_written_and_the_old_one_kept(crawl, tmp_path, monkeypatch):
    """A page list without the header's id: `wacz create --copy-pages` refuses it, exit 1."""
    data = _copy(crawl, tmp_path)
    newsarchive("wacz", data=data)
    out = data / "newsarchive.wacz"
    before = out.read_bytes()
    monkeypatch.setattr(wacz, "PAGES_HEADER", {"format": "json-pages-1.0", "hasText": True})
    result = newsarchive("wacz", "--title", "never written", data=data, check=False)
    assert result.returncode == 1
    assert result.stderr.startswith("newsarchive: wacz: wacz create failed (exit 1): ")
    assert "missing required fields" in result.stderr and result.stderr.endswith("; nothing written\n")
    assert out.read_bytes() == before
    assert [p.name for p in data.iterdir() if p.name.startswith(".wacz-")] == []


# -- what is left out, and what cannot be packaged ---------------------------------------


def test_open_file_is_skipped_and_its_articles_said_to_be_left_out(crawl, tmp_path):
    data = _copy(crawl, tmp_path)
    last = _warcs(data)[-1]
    last.rename(last.with_name(last.name + ".open"))  # as a crawl that is still writing it
    in_last = sum(1 for *_, name in _capture_files(data) if name == last.name)
    assert in_last > 0
    result = newsarchive("wacz", data=data, check=False)
    assert result.returncode == 1
    assert f"wacz: left out: {last.name}.open: skipped, still being written (.open)" in result.stderr
    assert (
        f"wacz: left out: {in_last} article(s) left out of pages.jsonl: their capture is in {last.name}, "
        "which is not packaged" in result.stderr
    )
    assert "2 thing(s) left out" in result.stdout
    wacz = zipfile.ZipFile(data / "newsarchive.wacz")
    assert not any(last.name in name for name in wacz.namelist())
    _, rows = _pages(wacz)
    assert len(rows) == len(_store_articles(data)) - in_last


def _capture_files(data: Path) -> list[tuple[str, str]]:
    conn = open_readonly(data / "news.db")
    try:
        return conn.execute(
            "SELECT a.id, c.warc_file FROM articles a JOIN captures c ON c.id = a.capture_id"
        ).fetchall()
    finally:
        conn.close()


def test_file_extract_has_not_read_is_packaged_and_said_so(crawl, tmp_path):
    data = _copy(crawl, tmp_path)
    writer = WarcWriter(data / "warc")
    writer.write_exchange(exchange(1))
    (new,) = writer.close()
    result = newsarchive("wacz", data=data, check=False)
    assert result.returncode == 1
    size = new.stat().st_size
    assert (
        f"wacz: left out: {new.name}: packaged, but extract has read 0 of its {size:,} bytes; the articles "
        "in the rest are not in pages.jsonl (run `newsarchive extract` first)" in result.stderr
    )
    assert f"archive/{new.name}" in zipfile.ZipFile(data / "newsarchive.wacz").namelist()


def test_unreadable_file_is_skipped_and_the_rest_packaged(crawl, tmp_path):
    """A cut-off WARC file would fail `wacz validate` (it inflates every .gz to the end)."""
    data = _copy(crawl, tmp_path)
    cut = _warcs(data)[0]
    whole = cut.read_bytes()
    cut.write_bytes(whole[: len(whole) // 2])
    result = newsarchive("wacz", data=data, check=False)
    assert result.returncode == 1
    assert f"wacz: left out: {cut.name}: skipped, unreadable at offset " in result.stderr
    assert f"their capture is in {cut.name}, which is not packaged" in result.stderr
    out = data / "newsarchive.wacz"
    assert f"archive/{cut.name}" not in zipfile.ZipFile(out).namelist()
    validate(out)


def test_archive_files_a_wacz_cannot_hold_are_said_to_be_left_out(crawl, packaged, tmp_path):
    """data/warc may hold a WACZ (or ARC) file that extract reads; the package holds WARC files only."""
    data = _copy(crawl, tmp_path)
    shutil.copy(packaged.out, data / "warc" / "imported.wacz")
    result = newsarchive("wacz", data=data, check=False)
    assert result.returncode == 1
    assert "wacz: left out: imported.wacz: skipped, not a WARC file (a WACZ holds WARC files only)" in (
        result.stderr
    )
    assert "archive/imported.wacz" not in zipfile.ZipFile(data / "newsarchive.wacz").namelist()


def test_no_store_is_exit_3(crawl, tmp_path):
    data = _copy(crawl, tmp_path)
    (data / "news.db").unlink()
    result = newsarchive("wacz", data=data, check=False)
    assert result.returncode == 3
    assert (
        f"newsarchive: wacz: no store at {data / 'news.db'}: run `newsarchive extract` first" in result.stderr
    )
    assert not (data / "newsarchive.wacz").exists()


@pytest.mark.parametrize("warc_dir", ["missing", "empty", "only-open"])
def test_no_closed_warc_file_is_exit_3(crawl, tmp_path, warc_dir):
    data = _copy(crawl, tmp_path)
    warcs = _warcs(data)
    if warc_dir == "missing":
        shutil.rmtree(data / "warc")
    for path in warcs if warc_dir != "missing" else []:
        if warc_dir == "empty":
            path.unlink()
        else:
            path.rename(path.with_name(path.name + ".open"))
    result = newsarchive("wacz", data=data, check=False)
    assert result.returncode == 3
    assert f"newsarchive: wacz: no closed, readable WARC file in {data / 'warc'}" in result.stderr
    if warc_dir == "only-open":
        assert f"; {warcs[0].name}.open: skipped, still being written (.open)" in result.stderr
    assert not (data / "newsarchive.wacz").exists()


def test_out_inside_the_warc_folder_is_refused(crawl, tmp_path):
    data = _copy(crawl, tmp_path)
    out = data / "warc" / "x.wacz"
    result = newsarchive("wacz", "--out", out, data=data, check=False)
    assert result.returncode == 2
    assert (
        f"newsarchive: wacz: {out} is inside {data / 'warc'}, where extract would read it back"
        in result.stderr
    )
    assert not out.exists()


# -- metadata records: a block digest, no payload digest ----------------------------------


def _metadata_records(path: Path) -> list:
    with open(path, "rb") as fh:
        return [
            dict(record.rec_headers.headers)
            for record in ArchiveIterator(fh)
            if record.rec_type == "metadata"
        ]


def test_metadata_record_has_no_payload_digest(tmp_path):
    writer = WarcWriter(tmp_path)
    writer.write_exchange(exchange(1))
    writer.write_metadata("urn:test", {"note": "x"})
    (path,) = writer.close()
    (headers,) = _metadata_records(path)
    assert "WARC-Payload-Digest" not in headers
    assert headers["WARC-Block-Digest"].startswith("sha1:")
    with open(path, "rb") as fh:  # the HTTP records keep theirs
        response = next(r for r in ArchiveIterator(fh) if r.rec_type == "response")
        assert response.rec_headers.get_header("WARC-Payload-Digest").startswith("sha1:")
    check = subprocess.run([BIN / "warcio", "check", "-v", path], capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr
    assert "metadata\n    digest pass" in check.stdout  # its block digest


def test_crawl_files_pass_warcio_and_fastwarc_payload_checks(crawl):
    """Every file of a crawl, its crawl-summary metadata record among them."""
    summaries = [h for path in _warcs(crawl) for h in _metadata_records(path)]
    assert summaries and all("WARC-Payload-Digest" not in h for h in summaries)
    for path in _warcs(crawl):
        warcio = subprocess.run([BIN / "warcio", "check", path], capture_output=True, text=True)
        assert warcio.returncode == 0, warcio.stdout + warcio.stderr
        fastwarc = subprocess.run(
            [BIN / "fastwarc", "check", "--verify-payloads", "--quiet", path], capture_output=True, text=True
        )
        assert fastwarc.returncode == 0, fastwarc.stdout + fastwarc.stderr
