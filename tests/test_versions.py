"""Article versions (issue 18): every distinct text an article has had, kept and compared.

A loopback site is crawled three times (real crawls, each a process, ``refetch_after_days =
0`` so every article is fetched again) and extracted after each crawl. Between crawls one
story is edited (its headline rewritten and a paragraph added, then a word corrected) and
every page's house ad changes: the edited story has three versions, the others one, since
the ads are site boilerplate. The store must be the same however its WARC files are read:
rebuilt, in reverse order, or in shards merged.
"""

from __future__ import annotations

import json
import re
import shutil
import sqlite3
from pathlib import Path
from types import SimpleNamespace

import pytest

from archive.demo.site import NewsSite
from archive.document import check_document, text_hash
from archive.publish.export import MANIFEST_NAME, VERSION_FILE_NAME
from archive.store.db import Store
from archive.store.revisit import seen_unchanged
from archive.store.versions import COLUMNS, record_captures
from tests.helpers.cli import FAST, newsarchive
from tests.helpers.clock import newsarchive_at
from tests.helpers.stories import HTML, STORIES, listing_page, story_page

ADS = [
    "Help us grow. Support Loopback News on Patreon and get our stories before anyone else!",
    "Subscribe to the Loopback News morning briefing: the day's stories in your inbox at seven.",
    "Download the Loopback News app for breaking news alerts on your phone, free of charge.",
]
ADDED = "Officials said late on Tuesday that the talks would continue next week in Beijing."
CORRECTED = ADDED.replace("Tuesday", "Wednesday")
EDITED_TITLE = "Talks resume: " + STORIES[0][0]


def _edited(crawl: int) -> tuple[str, list[str]]:
    """The edited story as the site serves it at crawl 0, 1 and 2 (without its ad)."""
    title, paragraphs = STORIES[0]
    if crawl == 0:
        return title, paragraphs
    return EDITED_TITLE, [*paragraphs, ADDED if crawl == 1 else CORRECTED]


def _serve(site: NewsSite, crawl: int) -> list[str]:
    """The site as it is at ``crawl``: the edited story and three others, each with that
    crawl's house ad; returns the stories' paths (the edited one first)."""
    paths = []
    for n, (title, paragraphs) in enumerate(STORIES):
        if n == 0:
            title, paragraphs = _edited(crawl)
        path = f"/v18/2026/11/story-number-{n}-of-the-day"
        site.add(path, story_page(title, [*paragraphs, ADS[crawl]]), HTML)
        paths.append(path)
    site.add("/v18/", listing_page([(p, f"Story {n}") for n, p in enumerate(paths)]), HTML)
    return paths


def _crawl(site: NewsSite, data: Path) -> list[Path]:
    """One crawl of the site; the WARC files it wrote."""
    before = set((data / "warc").glob("*.warc.gz")) if (data / "warc").is_dir() else set()
    newsarchive("crawl", "--sites", data / "sites.toml", *FAST, data=data)
    return sorted(set((data / "warc").glob("*.warc.gz")) - before)


@pytest.fixture(scope="module")
def edited(tmp_path_factory) -> SimpleNamespace:
    """Three crawls of the site, extracted after each (as cron's runs do)."""
    data = tmp_path_factory.mktemp("versions") / "data"
    data.mkdir()
    files = []
    with NewsSite() as site:
        (data / "sites.toml").write_text(
            f'[[sites]]\nname = "v18"\nstart_urls = ["{site.url("/v18/")}"]\nmax_depth = 1\n'
            "refetch_after_days = 0\n"
        )
        for crawl in range(3):
            paths = _serve(site, crawl)
            files.append(_crawl(site, data))
            newsarchive("extract", data=data)
        urls = [site.url(p) for p in paths]
    db = sqlite3.connect(data / "news.db")
    ids = [db.execute("SELECT id FROM articles WHERE url = ?", [u]).fetchone()[0] for u in urls]
    db.close()
    assert all(len(f) == 1 for f in files), files
    return SimpleNamespace(data=data, files=[f[0] for f in files], ids=ids)


def _versions(db_path: Path) -> list[tuple]:
    with sqlite3.connect(db_path) as db:
        return db.execute(
            f"SELECT {', '.join(COLUMNS)} FROM article_versions ORDER BY article_id, version"
        ).fetchall()


def _store(db_path: Path) -> dict[str, list[tuple]]:
    """What versions decide: the versions, the articles, and each capture's article and text."""
    with sqlite3.connect(db_path) as db:
        return {
            "versions": _versions(db_path),
            "articles": db.execute(
                "SELECT id, title, text, text_hash, word_count, first_seen, last_seen, capture_id, versions"
                " FROM articles ORDER BY id"
            ).fetchall(),
            "captures": db.execute(
                "SELECT id, article_id, text_hash FROM captures WHERE article_id IS NOT NULL ORDER BY id"
            ).fetchall(),
        }


def test_an_edited_story_has_a_version_per_text_with_what_changed(edited):
    db = sqlite3.connect(edited.data / "news.db")
    db.row_factory = sqlite3.Row
    rows = db.execute(
        "SELECT * FROM article_versions WHERE article_id = ? ORDER BY version", [edited.ids[0]]
    ).fetchall()
    assert [r["version"] for r in rows] == [1, 2, 3]
    titles = [r["title"] for r in rows]
    assert titles == [STORIES[0][0], EDITED_TITLE, EDITED_TITLE]
    # headline rewritten and a paragraph added; then one word corrected
    assert [(r["title_changed"], r["words_added"], r["words_removed"]) for r in rows] == [
        (0, 0, 0),
        (1, len(ADDED.split()), 0),
        (0, 1, 1),
    ]
    assert ADDED in rows[1]["text"] and CORRECTED in rows[2]["text"]
    assert all(ad not in r["text"] for r in rows for ad in ADS)  # boilerplate cleaned in versions too
    captured = [r["captured_at"] for r in rows]
    assert captured == sorted(captured) and len(set(captured)) == 3
    article = db.execute("SELECT * FROM articles WHERE id = ?", [edited.ids[0]]).fetchone()
    assert article["versions"] == 3  # the latest is the article's text
    assert (article["text"], article["title"], article["capture_id"]) == (
        rows[2]["text"],
        rows[2]["title"],
        rows[2]["capture_id"],
    )
    assert article["first_seen"] == rows[0]["captured_at"] and article["last_seen"] == rows[2]["captured_at"]
    db.close()


def test_a_change_of_house_ads_only_adds_no_version(edited):
    db = sqlite3.connect(edited.data / "news.db")
    for article_id in edited.ids[1:]:
        assert db.execute("SELECT versions FROM articles WHERE id = ?", [article_id]).fetchone() == (1,)
        hashes = db.execute("SELECT text_hash FROM captures WHERE article_id = ?", [article_id]).fetchall()
        assert len(hashes) == 3 and len(set(hashes)) == 1  # three captures, one text once cleaned
    db.close()


def test_stats_count_versions_and_articles_fetched_again(edited):
    out = newsarchive("stats", data=edited.data).stdout
    # three captures of each story: the edited one's two later ones changed, the others' not
    assert "versions      6; 1 articles changed after their first capture; " in out
    assert "fetched again: 0 revisited, 6 unchanged, 2 changed" in out


def test_rebuild_gives_the_same_versions(edited, tmp_path):
    data = shutil.copytree(edited.data, tmp_path / "data")
    newsarchive("extract", "--rebuild", data=data)
    assert _store(data / "news.db") == _store(edited.data / "news.db")


def test_versions_do_not_depend_on_the_order_files_are_read_in(edited, tmp_path):
    backwards = tmp_path / "backwards"
    for warc in reversed(edited.files):  # the latest crawl first, each file a run of its own
        newsarchive("extract", warc, data=backwards)
    assert _store(backwards / "news.db") == _store(edited.data / "news.db")


def test_merged_stores_give_the_versions_of_one_extract(edited, tmp_path):
    stores = []
    for n in (2, 0, 1):  # each crawl's file a store of its own, merged out of time order
        newsarchive("extract", edited.files[n], data=tmp_path / f"shard{n}")
        stores.append(tmp_path / f"shard{n}" / "news.db")
    newsarchive("merge", *stores, data=tmp_path / "merged")
    assert _store(tmp_path / "merged" / "news.db") == _store(edited.data / "news.db")
    newsarchive("merge", stores[0], data=tmp_path / "merged")  # again: nothing changes
    assert _store(tmp_path / "merged" / "news.db") == _store(edited.data / "news.db")


def test_changes_lists_the_edited_story(edited):
    out = newsarchive("changes", "--since", "2000-01-01", data=edited.data).stdout.splitlines()
    assert out[0].split() == "title site versions last change words + words - title changed".split()
    assert len(out) == 2, out  # only the edited story changed
    assert out[1].startswith("Talks resume: ")
    assert out[1].split()[-3:] == [str(len(ADDED.split()) + 1), "1", "yes"]
    as_json = newsarchive("changes", "--json", "--since", "2000-01-01", data=edited.data)
    rows = [json.loads(line) for line in as_json.stdout.splitlines()]
    assert [(r["id"], r["site"], r["versions"], r["changes"]) for r in rows] == [(edited.ids[0], "v18", 3, 2)]
    assert (rows[0]["words_added"], rows[0]["words_removed"], rows[0]["title_changed"]) == (
        len(ADDED.split()) + 1,
        1,
        True,
    )
    edited_versions = [v for v in _versions(edited.data / "news.db") if v[0] == edited.ids[0]]
    assert rows[0]["last_change"] == edited_versions[2][3]
    # the default window, the last 7 days, holds them; a date after the changes does not
    assert "Talks resume: " in newsarchive("changes", data=edited.data).stdout
    later = newsarchive("changes", "--since", "2999-01-01", "--site", "v18", data=edited.data)
    assert later.stdout.strip() == "no article changed in that time"


def test_changes_refuses_what_it_cannot_answer(edited, tmp_path):
    unknown = newsarchive("changes", "--site", "nosuch", data=edited.data, check=False)
    assert unknown.returncode == 3 and "--site nosuch" in unknown.stderr
    bad = newsarchive("changes", "--since", "yesterday", data=edited.data, check=False)
    assert bad.returncode == 2 and "ISO date" in bad.stderr
    missing = newsarchive("changes", data=tmp_path / "empty", check=False)
    assert missing.returncode == 3 and "no store" in missing.stderr


def test_export_versions_writes_every_version_and_a_plain_export_takes_them_back(edited, tmp_path):
    out = tmp_path / "export"
    result = newsarchive("export", "--versions", "--out", out, data=edited.data)
    assert "6 versions" in result.stdout
    names = sorted(p.name for p in out.iterdir())
    plain = [n for n in names if n.endswith(".txt") and not VERSION_FILE_NAME.match(n)]
    versions = [n for n in names if VERSION_FILE_NAME.match(n)]
    assert len(plain) == 4 and len(versions) == 6
    for name in plain:  # the article files are as a plain export writes them
        assert check_document((out / name).read_text("utf-8"), name) == []
    stored = {(v[0], v[1]): v for v in _versions(edited.data / "news.db")}
    lines = [json.loads(line) for line in (out / "versions.jsonl").read_text("utf-8").splitlines()]
    assert len(lines) == 6 and [line["file"] for line in lines] == versions  # names sort as the versions
    for line in lines:
        match = VERSION_FILE_NAME.match(line["file"])
        assert match and (match[2], int(match[3])) == (line["article_id"], line["version"])
        text = (out / line["file"]).read_text("utf-8")
        assert text == line["text"] == stored[(line["article_id"], line["version"])][5]
        assert check_document(text) == []
    edited_files = [n for n in versions if edited.ids[0] in n]
    assert [n.rsplit(".", 2)[1] for n in edited_files] == ["v001", "v002", "v003"]
    assert set(versions) <= set((out / MANIFEST_NAME).read_text("utf-8").splitlines())

    newsarchive("export", "--out", out, data=edited.data)  # without: its version files go
    assert sorted(p.name for p in out.iterdir()) == sorted([*plain, "articles.jsonl", MANIFEST_NAME])


@pytest.mark.slow  # three runs, ~20 s
def test_a_304_moves_last_seen_and_the_run_summary_counts_revisits(tmp_path):
    """Runs on a fake clock (tests/helpers/clock.py) with a revisit schedule: the story is
    looked at again 90 minutes on (edited: a new version) and 150 minutes on (a 304)."""
    data = tmp_path / "data"
    data.mkdir()
    title, paragraphs = STORIES[1]
    path = "/again/2026/11/a-story-looked-at-again"
    runs = []
    with NewsSite() as site:
        site.add(path, story_page(title, paragraphs), HTML)
        site.add("/again/", listing_page([(path, "Story")]), HTML)
        (data / "sites.toml").write_text(
            f'[[sites]]\nname = "again"\nstart_urls = ["{site.url("/again/")}"]\nmax_depth = 1\n'
            'revisit = ["1h", "2h"]\n'
        )
        for offset in (None, "+90m", "+150m"):
            if offset == "+90m":
                site.add(path, story_page(title, [*paragraphs, ADDED]), HTML)
            result = newsarchive_at(offset, "run", "--sites", data / "sites.toml", *FAST, data=data)
            assert result.returncode == 0, result.stderr
            runs.append(result.stdout)
    again = r"again \d+ pages, 0 new articles, 0 errors, [\d.]+ MB"
    assert re.search(r"again \d+ pages, 1 new articles, 0 errors, [\d.]+ MB[;.]", runs[0]), runs[0]
    assert re.search(again + ", 1 revisited: 0 unchanged, 1 changed", runs[1]), runs[1]
    assert re.search(again + ", 1 revisited: 1 unchanged, 0 changed", runs[2]), runs[2]
    db = sqlite3.connect(data / "news.db")
    captures = db.execute(
        "SELECT status, discovered_by, not_article, fetched_at FROM captures WHERE url LIKE ?"
        " ORDER BY fetched_at",
        [f"%{path}"],
    ).fetchall()
    assert [c[:3] for c in captures] == [
        (200, "link", None),
        (200, "revisit", None),
        (304, "revisit", "not_modified"),
    ]
    versions, last_seen = db.execute("SELECT versions, last_seen FROM articles").fetchone()
    assert versions == 2 and last_seen == captures[2][3]  # the 304 moved it, and made no version
    db.close()


def test_a_page_cut_short_is_kept_as_a_capture_but_is_no_article(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    cut, whole = "/cut/2026/11/a-story-cut-short", "/cut/2026/11/a-story-sent-whole"
    with NewsSite() as site:
        body = story_page(*STORIES[2])
        # Says twice the bytes it sends, and closes the connection: archived as WARC-Truncated.
        site.add(cut, body, HTML, headers=[("Content-Length", str(2 * len(body))), ("Connection", "close")])
        site.add(whole, story_page(*STORIES[3]), HTML)
        site.add("/cut/", listing_page([(cut, "Cut"), (whole, "Whole")]), HTML)
        (data / "sites.toml").write_text(
            f'[[sites]]\nname = "cut"\nstart_urls = ["{site.url("/cut/")}"]\nmax_depth = 1\n'
        )
        result = newsarchive("run", "--sites", data / "sites.toml", *FAST, data=data, check=False)
    # a page lost to a closed connection is said and is exit 1 (the crawl's line), not exit 0
    assert result.returncode == 1, result.stderr
    assert "crawl: 1 page(s) cut short by their server" in result.stderr
    assert "1 pages cut short (WARC-Truncated) kept as captures only" in result.stdout
    # the run summary goes to stderr when the run's exit code is not 0
    assert re.search(r"Not articles: cut [^;.]*truncated 1", result.stderr), result.stderr
    db = sqlite3.connect(data / "news.db")
    reasons = dict(db.execute("SELECT url, not_article FROM captures WHERE url LIKE '%/cut/2026/%'"))
    assert reasons == {site.url(cut): "truncated", site.url(whole): None}
    assert [u for (u,) in db.execute("SELECT url FROM articles")] == [site.url(whole)]
    db.close()
    assert "truncated" in newsarchive("stats", data=data).stdout


def _capture_texts(db_path: Path, order: list[int]) -> list[tuple]:
    """Five captures of one article (texts A, B, A, A, C at minutes 0..4), stored in
    ``order``, each in a batch of its own as extract stores them; its version rows."""
    texts = ["A", "B", "A", "A", "C"]
    store = Store(db_path)
    try:
        for n in order:
            when = f"2026-11-0{n + 1}T08:00:00Z"
            text = f"Headline {texts[n]}\n\nThe story as it read in version {texts[n]}, one paragraph."
            store.add_captures(
                [{"id": f"<urn:capture:{n}>", "url": "http://x.test/a", "status": 200, "fetched_at": when}]
            )
            row = {
                "id": "0123456789abcdef",
                "url": "http://x.test/a",
                "title": f"Headline {texts[n]}",
                "text": text,
                "text_hash": text_hash(text),
                "word_count": 10,
                "first_seen": when,
                "last_seen": when,
                "capture_id": f"<urn:capture:{n}>",
            }
            store.add_articles([row])
            record_captures(store, [row])
        return store.db.execute(
            "SELECT version, capture_id, title, words_added, words_removed, title_changed"
            " FROM article_versions ORDER BY version"
        ).fetchall()
    finally:
        store.close()


def test_a_text_that_comes_back_is_a_version_again_in_any_read_order(tmp_path):
    in_order = _capture_texts(tmp_path / "in-order.db", [0, 1, 2, 3, 4])
    assert [(v, c, t) for v, c, t, *_ in in_order] == [
        (1, "<urn:capture:0>", "Headline A"),
        (2, "<urn:capture:1>", "Headline B"),
        (3, "<urn:capture:2>", "Headline A"),  # A again: known by its hash, the earliest of the run
        (4, "<urn:capture:4>", "Headline C"),
    ]
    assert [changed for *_, changed in in_order] == [0, 1, 1, 1]
    for n, order in enumerate(([4, 3, 2, 1, 0], [2, 0, 4, 3, 1], [3, 1, 4, 0, 2])):
        assert _capture_texts(tmp_path / f"order{n}.db", order) == in_order, order


def test_a_text_read_after_a_later_304_is_still_the_latest(tmp_path):
    """Two processes' files: one holds text A (day 1) and a 304 (day 3), the other text B
    (day 2), read last. The 304 moved last_seen to day 3; B is still the newer text."""
    store = Store(tmp_path / "news.db")
    url = "http://x.test/a"
    try:
        for n, text in ((1, "A"), (3, None), (2, "B")):
            when = f"2026-11-0{n}T08:00:00Z"
            capture = {"id": f"<urn:capture:{n}>", "url": url, "status": 304 if text is None else 200}
            store.add_captures([{**capture, "fetched_at": when}])
            if text is None:
                seen_unchanged(store, [{**capture, "fetched_at": when}])
                continue
            document = f"Headline {text}\n\nThe story as it read in version {text}, one paragraph."
            row = {
                "id": "0123456789abcdef",
                "url": url,
                "title": f"Headline {text}",
                "text": document,
                "text_hash": text_hash(document),
                "first_seen": when,
                "last_seen": when,
                "capture_id": capture["id"],
            }
            store.add_articles([row])
            record_captures(store, [row])
        article = store.db.execute("SELECT title, capture_id, first_seen, last_seen, versions FROM articles")
        assert article.fetchall() == [
            ("Headline B", "<urn:capture:2>", "2026-11-01T08:00:00Z", "2026-11-03T08:00:00Z", 2)
        ]
    finally:
        store.close()


def test_versions_bench_runs_at_a_tiny_size():
    from tests.test_bench_smoke import bench

    out = bench("bench.versions", "--articles", 40)
    assert "first captures" in out and "(80 versions in the store)" in out
