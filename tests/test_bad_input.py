"""Bad input from the web: each case ends in a clear log line or note, and nothing is lost."""

from __future__ import annotations

import gzip
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

from archive.warc.files import list_warc_files
from tests.helpers.cli import FAST, newsarchive
from tests.helpers.pages import BAD_SITE


@pytest.fixture(scope="module")
def bad(news_site, tmp_path_factory):
    data = tmp_path_factory.mktemp("bad")
    sites = data / "sites.toml"
    sites.write_text(BAD_SITE.format(base=news_site.base))
    crawl = newsarchive(
        "crawl", "--sites", sites, *FAST, "-s", "REDIRECT_MAX_TIMES=3", data=data, check=False
    )
    extract = newsarchive("extract", data=data)
    db = sqlite3.connect(data / "news.db")
    db.row_factory = sqlite3.Row
    log = "".join(p.read_text() for p in (data / "logs").glob("*-crawl.log"))
    yield SimpleNamespace(data=data, crawl=crawl, extract=extract, db=db, log=log, site=news_site)
    db.close()


def _statuses(bad, path: str) -> list[int]:
    rows = bad.db.execute(
        "SELECT status FROM captures WHERE url = ? ORDER BY fetched_at", [bad.site.url(path)]
    )
    return [r["status"] for r in rows]


def _article(bad, path: str):
    return bad.db.execute("SELECT * FROM articles WHERE url = ?", [bad.site.url(path)]).fetchone()


def test_server_error_is_archived_retried_and_logged(bad):
    assert _statuses(bad, "/bad/500") == [500, 500]  # the first try and one retry, both archived
    assert f"page {bad.site.url('/bad/500')} answered HTTP 500" in bad.log


def test_not_found_is_archived_and_logged(bad):
    assert _statuses(bad, "/bad/404") == [404]
    assert f"page {bad.site.url('/bad/404')} answered HTTP 404" in bad.log


def test_redirect_chain_archives_every_hop(bad):
    assert _statuses(bad, "/bad/redirect/1") == [301]
    assert _statuses(bad, "/bad/redirect/2") == [302]
    assert _statuses(bad, "/bad/redirect/3") == [307]
    assert _statuses(bad, "/bad/landed") == [200]
    assert _article(bad, "/bad/landed")["title"].startswith("Russia hits Kyiv")


def test_redirect_to_itself_is_fetched_once(bad):
    assert _statuses(bad, "/bad/loop") == [302]  # the dupefilter drops the repeat


def test_endless_redirects_stop_with_a_clear_message(bad):
    hops = [_statuses(bad, f"/bad/endless?n={n}") for n in range(6)]
    assert hops == [[302]] * 4 + [[]] * 2  # REDIRECT_MAX_TIMES=3: four hops archived, then given up
    assert "max redirections reached" in bad.log


def test_truncated_gzip_body_is_archived_and_noted(bad):
    assert _statuses(bad, "/bad/truncated-gzip") == [200]
    assert "/bad/truncated-gzip: gzip stream truncated" in bad.extract.stderr


def test_page_declared_only_in_meta_decodes_right(bad):
    article = _article(bad, "/bad/meta-charset-only")
    assert article["title"] == "Warum wir jetzt Demut brauchen"
    assert "für" in article["text"] and "Ã" not in article["text"]


def test_empty_page_is_archived_and_noted(bad):
    assert _statuses(bad, "/bad/empty") == [200]
    assert _article(bad, "/bad/empty") is None
    assert "/bad/empty: empty body" in bad.extract.stderr


def test_invalid_feed_is_a_clear_error_for_its_site(bad):
    assert bad.crawl.returncode == 1
    assert "sources failed for site(s): bad" in bad.crawl.stderr
    assert f"site bad: feed {bad.site.url('/bad/feed.xml')} yields no URLs: not valid XML" in bad.log
    assert _statuses(bad, "/bad/feed.xml") == [200]  # archived all the same


def test_truncated_warc_keeps_the_good_records(bad, tmp_path):
    source = list_warc_files(bad.data / "warc")[0]
    (tmp_path / "warc").mkdir()
    cut = tmp_path / "warc" / source.name
    data = source.read_bytes()
    cut.write_bytes(data[: len(data) * 2 // 3])
    result = newsarchive("extract", data=tmp_path, check=False)
    assert result.returncode == 1
    assert f"extract: error: {source.name} at offset" in result.stderr
    db = sqlite3.connect(tmp_path / "news.db")
    good = db.execute("SELECT count(*) FROM captures").fetchone()[0]
    total = bad.db.execute("SELECT count(*) FROM captures").fetchone()[0]
    assert 0 < good < total
    shutil.copy(source, cut)  # the whole file again: the next run reads the rest
    newsarchive("extract", data=tmp_path)
    assert db.execute("SELECT count(*) FROM captures").fetchone()[0] == total


def test_a_non_warc_file_in_the_folder_does_not_stop_extraction(bad, tmp_path):
    (tmp_path / "warc").mkdir()
    source = list_warc_files(bad.data / "warc")[0]
    shutil.copy(source, tmp_path / "warc" / source.name)
    (tmp_path / "warc" / "NEWSARCHIVE-00000000000000-00000-junk-1.warc.gz").write_bytes(
        b"<html>not a WARC</html>"
    )
    (tmp_path / "warc" / "README.txt").write_text("notes")  # not a WARC name: not read at all
    result = newsarchive("extract", data=tmp_path, check=False)
    assert result.returncode == 1
    assert "extract: error: NEWSARCHIVE-00000000000000-00000-junk-1.warc.gz at offset 0" in result.stderr
    db = sqlite3.connect(tmp_path / "news.db")
    total = bad.db.execute("SELECT count(*) FROM captures").fetchone()[0]
    assert db.execute("SELECT count(*) FROM captures").fetchone()[0] == total


def test_a_warc_gzipped_whole_is_a_clear_error_and_recompressed_reads(bad, tmp_path):
    """One gzip stream for the whole file (``gzip file.warc``): records have no offsets of
    their own, so extract names the fix instead of crashing, and after it reads everything."""
    (tmp_path / "warc").mkdir()
    source = list_warc_files(bad.data / "warc")[0]
    whole = tmp_path / "warc" / source.name
    whole.write_bytes(gzip.compress(gzip.decompress(source.read_bytes())))
    result = newsarchive("extract", data=tmp_path, check=False)
    assert result.returncode == 1
    assert f"extract: error: {source.name} at offset 0: ValueError: several records in one gzip member" in (
        result.stderr
    )
    assert "warcio recompress" in result.stderr
    recompressed = tmp_path / "recompressed.warc.gz"
    subprocess.run([Path(sys.executable).parent / "warcio", "recompress", whole, recompressed], check=True)
    shutil.move(recompressed, whole)
    newsarchive("extract", data=tmp_path)
    db = sqlite3.connect(tmp_path / "news.db")
    total = bad.db.execute("SELECT count(*) FROM captures WHERE warc_file = ?", [source.name]).fetchone()[0]
    assert db.execute("SELECT count(*) FROM captures").fetchone()[0] == total
