"""Issue 17, the archive side: bombed bodies, dying extract workers, foreign canonicals.

Every case here is small and bounded: a cap is shown with a small cap and a bomb that
would inflate far beyond it, measured in a process of its own.
"""

from __future__ import annotations

import asyncio
import errno
import gzip
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
import zlib
from pathlib import Path

import brotli
import pytest
import zstandard

from archive.publish.serve import DATASETTE_DIR
from archive.warc import body as body_module
from archive.warc.body import BodyDecodingError, BodyTooLarge, decode_body
from archive.warc.writer import Exchange, WarcWriter
from tests.helpers.cli import newsarchive, start
from tests.helpers.pages import ROWS, corpus_page

CAP = 1 << 20  # a small cap stands for the real one (body.MAX_BODY)
ARTICLE = "traf-politico-com-retirement"  # a corpus page that extracts to an article


def _bomb(coding: str, size: int) -> bytes:
    """``size`` zero bytes compressed with ``coding``, made piece by piece (never all in memory)."""
    chunk, pieces = bytes(1 << 20), size >> 20
    if coding == "gzip":
        packer = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
        return b"".join(packer.compress(chunk) for _ in range(pieces)) + packer.flush()
    if coding == "deflate":
        packer = zlib.compressobj(9)
        return b"".join(packer.compress(chunk) for _ in range(pieces)) + packer.flush()
    if coding == "br":
        packer = brotli.Compressor(quality=5)
        return b"".join(packer.process(chunk) for _ in range(pieces)) + packer.finish()
    packer = zstandard.ZstdCompressor().compressobj(size=size)
    return b"".join(packer.compress(chunk) for _ in range(pieces)) + packer.flush()


CODINGS = ["gzip", "deflate", "br", "zstd"]


@pytest.mark.parametrize("coding", CODINGS)
def test_a_bomb_is_refused_beyond_the_cap(coding):
    bomb = _bomb(coding, 8 << 20)
    with pytest.raises(BodyTooLarge, match="cap"):
        decode_body(bomb, [("Content-Encoding", coding)], limit=CAP)
    # just under the cap is fine, and a whole stream is not called truncated
    small = _bomb(coding, 1 << 20)
    body, warning = decode_body(small, [("Content-Encoding", coding)], limit=1 << 20)
    assert body == bytes(1 << 20) and warning is None


@pytest.mark.parametrize("coding", CODINGS)
def test_a_truncated_stream_still_yields_what_arrived(coding):
    whole = _bomb(coding, 2 << 20)
    body, warning = decode_body(whole[: len(whole) // 2], [("Content-Encoding", coding)])
    assert warning and "truncated" in warning
    assert body == bytes(len(body))


@pytest.mark.parametrize("coding", CODINGS)
def test_a_corrupt_stream_is_a_decoding_error_not_too_large(coding):
    with pytest.raises(BodyDecodingError) as caught:
        decode_body(b"\x1f\x8b" + bytes(range(256)) * 4, [("Content-Encoding", coding)])
    assert not isinstance(caught.value, BodyTooLarge)


def test_the_crawl_cap_is_the_decoders_cap():
    from crawler import settings

    assert settings.DOWNLOAD_MAXSIZE == body_module.MAX_BODY


MEMORY_PROBE = textwrap.dedent(
    """
    import resource, sys
    sys.path.insert(0, {root!r})
    from tests.test_archive_faults import _bomb
    from archive.warc.body import BodyTooLarge, decode_body
    coding, size, cap = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    bomb = _bomb(coding, size)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    try:
        decode_body(bomb, [("Content-Encoding", coding)], limit=cap)
        outcome = "decoded"
    except BodyTooLarge:
        outcome = "too large"
    after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(outcome, len(bomb), (after - before) // 1024)
    """
)


@pytest.mark.parametrize("coding", CODINGS)
def test_a_bomb_costs_about_the_cap_in_memory(coding):
    """A 256 MB bomb under a 1 MB cap: peak memory grows by a few MB, not by 256."""
    root = str(Path(__file__).parents[1])
    probe = [sys.executable, "-c", MEMORY_PROBE.format(root=root), coding, str(256 << 20), str(1 << 20)]
    result = subprocess.run(probe, capture_output=True, text=True, timeout=120, check=True)
    outcome, _, grown_mb = result.stdout.rsplit(" ", 2)
    assert outcome == "too large"
    assert int(grown_mb) < 24, result.stdout


def _page(url: str, body: bytes, coding: str | None = None, site: str = "news") -> Exchange:
    headers = [("Content-Type", "text/html; charset=utf-8")]
    headers += [("Content-Encoding", coding)] if coding else []
    host = url.split("/")[2]
    path = "/" + url.split("/", 3)[3]
    return Exchange(
        url=url,
        method="GET",
        request_target=path,
        request_headers=[("Host", host)],
        protocol="HTTP/1.1",
        status=200,
        reason="OK",
        response_headers=headers,
        body=body,
        ip_address="127.0.0.1",
        extra_headers={"NewsArchive-Site": site},
    )


def _archive(data: Path, exchanges: list[Exchange]) -> None:
    """The exchanges in a new WARC file in ``data/warc`` (named apart from those there: two
    writers in one second would pick one name)."""
    (data / "warc").mkdir(parents=True, exist_ok=True)
    writer = WarcWriter(data / "new-warc")
    for exchange in exchanges:
        writer.write_exchange(exchange)
    for path in writer.close():
        serial = len(list((data / "warc").iterdir()))
        path.rename(data / "warc" / path.name.replace(".warc.gz", f"-{serial}.warc.gz"))


@pytest.fixture
def bombed_store(tmp_path, monkeypatch) -> Path:
    """A store read from a WARC with an article page and a gzip bomb page, under a small cap."""
    monkeypatch.setattr(body_module, "MAX_BODY", CAP)
    data = tmp_path / "data"
    _archive(
        data,
        [
            _page("http://127.0.0.1:1/bomb.html", _bomb("gzip", 8 << 20), "gzip"),
            _page(ROWS[ARTICLE]["url"], gzip.compress(corpus_page(ARTICLE)), "gzip"),
        ],
    )
    result = newsarchive("extract", data=data, check=False)
    assert result.returncode == 1, result.stderr  # partial: a page could not be read
    assert "1 pages over the body size cap skipped" in result.stdout
    assert "Traceback" not in result.stderr
    return data


def test_extract_skips_and_counts_a_bomb_and_stores_the_rest(bombed_store):
    db = sqlite3.connect(bombed_store / "news.db")
    reasons = dict(db.execute("SELECT url, not_article FROM captures"))
    assert reasons["http://127.0.0.1:1/bomb.html"] == "too_large"
    assert reasons[ROWS[ARTICLE]["url"]] is None
    assert db.execute("SELECT count(*) FROM articles").fetchone()[0] == 1


def test_capture_view_answers_413_for_a_bomb(bombed_store):
    from datasette.app import Datasette

    db = sqlite3.connect(bombed_store / "news.db")
    warc_file, offset = db.execute(
        "SELECT warc_file, warc_offset FROM captures WHERE not_article = 'too_large'"
    ).fetchone()
    datasette = Datasette([str(bombed_store / "news.db")], plugins_dir=str(DATASETTE_DIR / "plugins"))
    response = asyncio.run(datasette.client.get(f"/-/capture/{warc_file}/{offset}"))
    assert response.status_code == 413
    assert response.text.count("\n") == 1 and "too large" in response.text


def _corpus_archive(data: Path, copies: int) -> int:
    """Every corpus page ``copies`` times under different URLs; the number of pages."""
    exchanges = []
    for copy in range(copies):
        for page_id, row in ROWS.items():
            exchange = _page(
                f"{row['url']}{'&' if '?' in row['url'] else '?'}copy={copy}", corpus_page(page_id)
            )
            exchange.response_headers = [("Content-Type", f"text/html; charset={row['encoding']}")]
            exchanges.append(exchange)
    _archive(data, exchanges)
    return len(exchanges)


def _workers_of(pid: int) -> list[int]:
    """The pool's worker processes among ``pid``'s children (not multiprocessing's resource tracker)."""
    workers = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            cmdline = (entry / "cmdline").read_bytes()
        except (OSError, IndexError, ValueError):
            continue
        if ppid == pid and b"spawn_main" in cmdline:
            workers.append(int(entry.name))
    return workers


@pytest.mark.slow
def test_extract_survives_a_killed_worker(tmp_path):
    """kill -9 of a worker mid-run: its pages are extracted in the main process, nothing is
    lost, no hang; the store equals a run with no pool at all."""
    killed, clean = tmp_path / "killed", tmp_path / "clean"
    pages = _corpus_archive(killed, copies=16)
    shutil.copytree(killed / "warc", clean / "warc")
    process = start("extract", "--workers", "2", data=killed)
    try:
        deadline = time.monotonic() + 120
        while not (workers := _workers_of(process.pid)) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert workers, "no worker process started"
        time.sleep(3)  # past its imports, into its tasks
        assert process.poll() is None, "extract ended before a worker could be killed"
        os.kill(workers[0], signal.SIGKILL)
        stdout, stderr = process.communicate(timeout=180)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 0, stderr
    assert "a worker process died" in stderr
    newsarchive("extract", data=clean)
    rows = "SELECT url, not_article FROM captures ORDER BY url"
    killed_db, clean_db = sqlite3.connect(killed / "news.db"), sqlite3.connect(clean / "news.db")
    assert len(killed_db.execute(rows).fetchall()) == pages
    assert killed_db.execute(rows).fetchall() == clean_db.execute(rows).fetchall()
    articles = "SELECT id, capture_id FROM articles ORDER BY id"
    assert killed_db.execute(articles).fetchall() == clean_db.execute(articles).fetchall()


@pytest.mark.parametrize(
    ("canonical", "fetched", "domains", "trusted"),
    [
        ("https://www.example.com/a/1", "https://example.com/a/1?utm=x", (), True),  # www and apex
        (
            "https://m.bbc.co.uk/news/1",
            "https://www.bbc.co.uk/news/1",
            (),
            True,
        ),  # a public suffix of two labels
        ("https://other.co.uk/news/1", "https://www.bbc.co.uk/news/1", (), False),
        ("https://alice.github.io/p/1", "https://mallory.github.io/p/1", (), False),  # private suffix
        ("http://127.0.0.1:8001/p/1", "http://127.0.0.1:8002/p/1", (), True),  # one host
        ("http://127.0.0.2/p/1", "http://127.0.0.1/p/1", (), False),
        ("https://bücher.de/p/1", "https://xn--bcher-kva.de/p/2", (), True),  # IDN either way
        ("https://www.publisher.com/p/1", "https://mirror.example/p/1", ("publisher.com",), True),
        ("https://www.publisher.com/p/1", "https://mirror.example/p/1", ("mirror.example",), False),
    ],
)
def test_a_canonical_is_trusted_only_on_its_own_site(canonical, fetched, domains, trusted):
    from archive.extract.article import same_publisher

    assert same_publisher(canonical, fetched, domains) is trusted


COPYCAT = "http://copycat.example/stolen.html"


def _copy_archive(data: Path) -> tuple[str, str]:
    """The corpus article on its own site, then the same page (canonical and all) on another
    site, fetched later; (original URL, copy URL)."""
    original = ROWS[ARTICLE]["url"]
    page = corpus_page(ARTICLE)
    hostile = page.replace(b"<title>", b"<title>Replaced: ", 1)
    _archive(data, [_page(original, page, site="politico"), _page(COPYCAT, hostile, site="copycat")])
    return original, COPYCAT


def test_a_foreign_canonical_cannot_replace_another_sites_article(tmp_path):
    from archive.document import article_id

    data = tmp_path / "data"
    original, copy = _copy_archive(data)
    newsarchive("extract", data=data)
    db = sqlite3.connect(data / "news.db")
    rows = {
        row[0]: row[1:]
        for row in db.execute("SELECT id, url, site, canonical_url, duplicate_of, title FROM articles")
    }
    assert set(rows) == {article_id(original), article_id(copy)}
    url, site, canonical, duplicate_of, title = rows[article_id(original)]
    assert (url, site, canonical, duplicate_of) == (original, "politico", original, None)
    assert not title.startswith("Replaced")
    url, site, canonical, duplicate_of, _ = rows[article_id(copy)]
    assert (url, site, canonical, duplicate_of) == (copy, "copycat", copy, article_id(original))
    assert db.execute("SELECT claims_canonical FROM articles WHERE url = ?", [copy]).fetchone() == (original,)


def test_a_copy_seen_first_still_points_at_the_canonical_article(tmp_path):
    """The text pass takes the earliest capture for the original; the canonical wins."""
    from archive.document import article_id

    data = tmp_path / "data"
    original = ROWS[ARTICLE]["url"]
    page = corpus_page(ARTICLE)
    _archive(data, [_page(COPYCAT, page, site="copycat"), _page(original, page, site="politico")])
    newsarchive("extract", data=data)
    marks = dict(sqlite3.connect(data / "news.db").execute("SELECT id, duplicate_of FROM articles"))
    assert marks == {article_id(original): None, article_id(COPYCAT): article_id(original)}


def test_a_site_listing_the_publishers_domain_may_use_its_canonical(tmp_path):
    from archive.document import article_id

    data = tmp_path / "data"
    original, _ = _copy_archive(data)
    sites = tmp_path / "sites.toml"
    sites.write_text(
        '[[sites]]\nname = "copycat"\nstart_urls = ["http://copycat.example/"]\n'
        'allowed_domains = ["copycat.example", "politico.com"]\n'
    )
    newsarchive("extract", "--sites", sites, data=data)
    db = sqlite3.connect(data / "news.db")
    # one publisher: the later capture is the article's, under the canonical's id
    assert db.execute("SELECT id, site FROM articles").fetchall() == [(article_id(original), "copycat")]


# -- export owns only what it wrote; storage faults are one line and an exit code -----------

REFERENCE = "000_0123456789abcdef.txt"  # a document of the seed's own, in the export directory


def _store_with_articles(tmp_path: Path) -> Path:
    data = tmp_path / "data"
    _copy_archive(data)
    newsarchive("extract", data=data)
    return data


def _one_line_failure(result, code: int, *words: str) -> None:
    assert result.returncode == code, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and all(w in lines[0] for w in words), result.stderr


def test_export_leaves_files_it_did_not_write(tmp_path):
    from archive.publish.export import MANIFEST_NAME

    data = _store_with_articles(tmp_path)
    out = tmp_path / "out"
    out.mkdir()
    (out / REFERENCE).write_text("Reference\n\nkept")
    (out / "articles.jsonl").write_text("my own notes\n")
    result = newsarchive("export", "--out", out, data=data, check=False)
    assert result.returncode == 1 and "articles.jsonl as it is" in result.stderr
    assert (out / REFERENCE).read_text() == "Reference\n\nkept"
    assert (out / "articles.jsonl").read_text() == "my own notes\n"
    owned = (out / MANIFEST_NAME).read_text().split()
    assert owned and REFERENCE not in owned and "articles.jsonl" not in owned
    assert all((out / name).exists() for name in owned)
    # what an export wrote and no longer belongs goes; the reference stays
    stale = "007_fedcba9876543210.txt"
    (out / stale).write_text("old\n\narticle")
    (out / MANIFEST_NAME).write_text("".join(f"{n}\n" for n in [*owned, stale]))
    (out / "articles.jsonl").unlink()
    result = newsarchive("export", "--out", out, data=data)
    assert "1 removed" in result.stdout and not (out / stale).exists()
    assert (out / REFERENCE).exists() and (out / "articles.jsonl").exists()
    assert "articles.jsonl" in (out / MANIFEST_NAME).read_text().split()


def test_an_export_made_before_manifests_is_adopted_by_its_jsonl(tmp_path):
    from archive.publish.export import MANIFEST_NAME

    data = _store_with_articles(tmp_path)
    out = tmp_path / "out"
    newsarchive("export", "--out", out, data=data)
    (out / MANIFEST_NAME).unlink()
    stale = "005_fedcba9876543210.txt"  # written by the old export, listed in its jsonl
    (out / stale).write_text("old\n\narticle")
    with (out / "articles.jsonl").open("a") as fh:
        fh.write(json.dumps({"id": "fedcba9876543210", "file": stale}) + "\n")
    (out / REFERENCE).write_text("Reference\n\nkept")
    result = newsarchive("export", "--out", out, data=data)
    assert "1 removed" in result.stdout and not (out / stale).exists() and (out / REFERENCE).exists()


def test_a_corrupt_store_is_one_line_and_rebuild_repairs_it(tmp_path):
    data = _store_with_articles(tmp_path)
    articles = sqlite3.connect(data / "news.db").execute("SELECT count(*) FROM articles").fetchone()
    (data / "news.db").write_bytes(b"not a database at all " * 200)
    for suffix in ("-wal", "-shm"):
        Path(f"{data / 'news.db'}{suffix}").unlink(missing_ok=True)
    _one_line_failure(newsarchive("extract", data=data, check=False), 5, "news.db", "extract --rebuild")
    _one_line_failure(newsarchive("export", data=data, check=False), 5, "news.db", "extract --rebuild")
    newsarchive("extract", "--rebuild", data=data)
    assert sqlite3.connect(data / "news.db").execute("SELECT count(*) FROM articles").fetchone() == articles


def test_a_locked_store_is_one_line_exit_4(tmp_path):
    data = _store_with_articles(tmp_path)
    _archive(data, [_page("http://127.0.0.1:1/later.html", b"<html><p>later</p></html>")])
    holder = sqlite3.connect(data / "news.db")
    holder.execute("BEGIN EXCLUSIVE")
    try:
        _one_line_failure(newsarchive("extract", data=data, check=False), 4, "locked")
    finally:
        holder.rollback()
        holder.close()
    newsarchive("extract", data=data)  # and the next run reads what was left


def test_a_full_disk_is_one_line_and_the_store_stays_whole(tmp_path, monkeypatch):
    from archive.store.db import Store

    data = _store_with_articles(tmp_path)
    _archive(data, [_page("http://127.0.0.1:1/later.html", b"<html><p>later</p></html>")])
    before = sqlite3.connect(data / "news.db").execute("SELECT count(*) FROM captures").fetchone()

    def full(self, rows):
        raise sqlite3.OperationalError("database or disk is full")  # what SQLite says on ENOSPC

    monkeypatch.setattr(Store, "add_captures", full)
    _one_line_failure(newsarchive("extract", data=data, check=False), 5, "disk is full")
    assert sqlite3.connect(data / "news.db").execute("SELECT count(*) FROM captures").fetchone() == before
    monkeypatch.undo()
    newsarchive("extract", data=data)


def test_a_full_disk_during_export_is_one_line(tmp_path, monkeypatch):
    from archive.publish import export as export_module

    data = _store_with_articles(tmp_path)

    def full(path, data):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))

    monkeypatch.setattr(export_module, "_write_if_changed", full)
    _one_line_failure(newsarchive("export", data=data, check=False), 5, "disk full", "export")


@pytest.mark.skipif(not Path("/sys").is_dir(), reason="needs a read-only file system at /sys")
def test_a_read_only_directory_is_one_line(tmp_path):
    """/sys is a real file system nobody (root included) may create files in."""
    data = _store_with_articles(tmp_path)
    _one_line_failure(
        newsarchive("export", "--out", "/sys/newsarchive-test", data=data, check=False), 5, "read-only"
    )
    _one_line_failure(newsarchive("extract", data=Path("/sys/newsarchive-test"), check=False), 5, "read-only")


def test_an_unreadable_warc_is_one_line_and_the_others_are_read(tmp_path, monkeypatch):
    from archive.warc import reader

    data = tmp_path / "data"
    _archive(data, [_page("http://127.0.0.1:1/a.html", b"<html><p>a</p></html>")])
    (unreadable_file,) = list((data / "warc").glob("*.warc.gz"))
    _archive(data, [_page("http://127.0.0.1:1/b.html", b"<html><p>b</p></html>")])

    def unreadable(path, *args, **kwargs):
        if Path(path).name == unreadable_file.name:
            raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(path))
        return open(path, *args, **kwargs)

    monkeypatch.setattr(reader, "open", unreadable, raising=False)
    result = newsarchive("extract", data=data, check=False)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    [line] = [line for line in result.stderr.splitlines() if unreadable_file.name in line]
    assert "cannot be read: Permission denied" in line
    db = sqlite3.connect(data / "news.db")
    assert [row[0] for row in db.execute("SELECT url FROM captures")] == ["http://127.0.0.1:1/b.html"]


def test_index_leaves_out_a_bad_warc_and_says_so(tmp_path):
    data = tmp_path / "data"
    _archive(data, [_page("http://127.0.0.1:1/a.html", b"<html><p>a</p></html>")])
    (good,) = list((data / "warc").glob("*.warc.gz"))
    bad = good.with_name(good.name.replace(".warc.gz", "-bad.warc.gz"))
    damaged = bytearray(good.read_bytes())
    damaged[len(damaged) // 2 : len(damaged) // 2 + 40] = bytes(40)
    bad.write_bytes(bytes(damaged))
    result = newsarchive("index", data=data, check=False)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert f"left out {bad.name}: cannot be read" in result.stderr
    assert good.name in (data / "warc" / "index.cdxj").read_text()
