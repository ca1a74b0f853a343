"""``newsarchive export --format parquet``: a dataset folder pyarrow, pandas and DuckDB open as
is, with a dataset card, provenance on every row, and the selection every format shares."""

from __future__ import annotations

import hashlib
import re
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

import duckdb
import pandas
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml
from warcio.archiveiterator import ArchiveIterator

from archive.document import check_document, export_file_name
from archive.publish import dataset
from archive.publish.selection import Selection, parse_bound
from tests.helpers.cli import newsarchive


def _utc(value: str) -> datetime:
    moment = datetime.fromisoformat(value)
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _articles(data: Path, where: str = "duplicate_of IS NULL", params: tuple = ()) -> list[sqlite3.Row]:
    db = sqlite3.connect(data / "news.db")
    db.row_factory = sqlite3.Row
    try:
        return db.execute(
            "SELECT a.*, c.warc_file, c.warc_offset, c.warc_length, c.payload_digest, c.fetched_at, "
            "c.record_type, c.discovered_by, c.discovered_from FROM articles a "
            f"JOIN captures c ON c.id = a.capture_id WHERE {where} ORDER BY a.first_seen, a.id",
            params,
        ).fetchall()
    finally:
        db.close()


@pytest.fixture(scope="module")
def exported(serve_store, tmp_path_factory):
    """The session's store (a crawl of the loopback site, conftest.py) exported as a dataset."""
    out = tmp_path_factory.mktemp("dataset")
    result = newsarchive("export", "--format", "parquet", "--out", out, data=serve_store)
    return SimpleNamespace(
        data=serve_store,
        out=out,
        result=result,
        table=pq.read_table(out / "data"),
        card=(out / "README.md").read_text(encoding="utf-8"),
        rows=_articles(serve_store),
    )


def test_parquet_has_the_schema_zstd_and_streaming_row_groups(exported):
    assert exported.result.returncode == 0
    assert "Parquet" in exported.result.stdout and "README.md" in exported.result.stdout
    files = sorted((exported.out / "data").glob("*.parquet"))
    assert [f.name for f in files] == ["train-00000.parquet"]
    assert exported.table.schema.names == [name for name, _, _ in dataset.COLUMNS]
    types = dict(zip(exported.table.schema.names, exported.table.schema.types, strict=True))
    assert types["published"] == pa.timestamp("us", tz="UTC") == types["captured_at"] == types["first_seen"]
    for name in ("author", "tags", "categories"):
        assert pa.types.is_list(types[name]) and types[name].value_type == pa.string()
    assert types["word_count"] == pa.int32() and types["warc_offset"] == pa.int64()
    meta = pq.ParquetFile(files[0]).metadata
    assert all(
        meta.row_group(g).column(c).compression == "ZSTD"
        for g in range(meta.num_rows and meta.num_row_groups)
        for c in range(meta.num_columns)
    )
    assert no_txt_written(exported.out)


def no_txt_written(out: Path) -> bool:
    return not list(out.glob("*.txt")) and not (out / "articles.jsonl").exists()


def test_every_row_carries_its_provenance(exported):
    rows = exported.table.to_pylist()
    assert [row["id"] for row in rows] == [row["id"] for row in exported.rows]  # the seed order
    assert len(rows) == len(exported.rows) > 20
    for got, want in zip(rows, exported.rows, strict=True):
        for name in ("capture_id", "warc_file", "warc_offset", "warc_length", "payload_digest"):
            assert got[name] == want[name], name
        assert (got["record_type"], got["discovered_by"], got["discovered_from"]) == (
            want["record_type"],
            want["discovered_by"],
            want["discovered_from"],
        )
        assert got["captured_at"] == _utc(want["fetched_at"])
        assert got["published_raw"] == want["published"]
        assert got["published"] == (_utc(want["published"]) if want["published"] else None)
        assert got["text"] == want["text"] and got["word_count"] == want["word_count"]
    assert {row["discovered_by"] for row in rows} >= {"feed", "sitemap", "link"}
    # the record named is there, at that offset, with that id and digest
    for row in rows[:5]:
        with open(exported.data / "warc" / row["warc_file"], "rb") as stream:
            stream.seek(row["warc_offset"])
            record = next(iter(ArchiveIterator(stream)))
        assert record.rec_headers.get_header("WARC-Record-ID") == row["capture_id"]
        assert record.rec_headers.get_header("WARC-Payload-Digest") == row["payload_digest"]
        assert record.rec_headers.get_header("WARC-Target-URI") == row["url"]


def test_pandas_and_duckdb_open_the_folder_as_is(exported):
    frame = pandas.read_parquet(exported.out / "data")
    assert len(frame) == len(exported.rows)
    assert str(frame["published"].dtype) == "datetime64[us, UTC]"
    assert [list(authors) for authors in frame["author"]] == exported.table.column("author").to_pylist()
    glob = str(exported.out / "data" / "*.parquet")
    described = {row[0]: row[1] for row in duckdb.sql(f"DESCRIBE SELECT * FROM '{glob}'").fetchall()}
    assert described["published"] == "TIMESTAMP WITH TIME ZONE" and described["tags"] == "VARCHAR[]"
    per_site = dict(duckdb.sql(f"SELECT site, count(*) FROM '{glob}' GROUP BY site").fetchall())
    assert per_site == _card_table(exported.card, "Per site")


def _card_table(card: str, heading: str) -> dict[str, int]:
    """A count table of the card: the rows under ``### heading`` as {key: count}."""
    section = card.split(f"### {heading}\n\n", 1)[1].split("\n\n", 1)[0]
    return {key: int(count) for key, count in re.findall(r"^\| (\S+) \| (\d+) \|$", section, re.M)}


def test_card_says_what_is_in_it_and_how_it_was_made(exported):
    head, body = exported.card.split("---\n", 2)[1:]
    header = yaml.safe_load(head)
    (config,) = header["configs"]
    (files,) = config["data_files"]
    assert files["split"] == "train" and list(exported.out.glob(files["path"]))
    assert header["license"] == "other" and "en" in header["language"]
    sites, languages = {}, {}
    for row in exported.rows:
        sites[row["site"]] = sites.get(row["site"], 0) + 1
        languages[row["language"] or "unknown"] = languages.get(row["language"] or "unknown", 0) + 1
    assert _card_table(body, "Per site") == sites
    assert _card_table(body, "Per language") == languages
    months = _card_table(body, "Per month published")
    assert sum(months.values()) == len(exported.rows) and list(months) == sorted(months)
    schema = body.split("## Schema", 1)[1].split("## How it was made", 1)[0]
    listed = re.findall(r"^\| `(\w+)` \| `([^`]+)` \| (.+) \|$", schema, re.M)
    assert [name for name, _, _ in listed] == exported.table.schema.names
    assert ("author", "list<string>") in [(n, t) for n, t, _ in listed]
    made = body.split("## How it was made", 1)[1]
    assert "trafilatura 2." in made and "pyarrow" in made and "newsarchive 0." in made
    db = sqlite3.connect(exported.data / "news.db")
    crawls = [row[0] for row in db.execute("SELECT id FROM crawls")]
    db.close()
    assert crawls and all(crawl in made for crawl in crawls)
    assert "belong to their publishers" in body
    assert f"{len(exported.rows)} articles" in body


def test_site_and_dates_select_for_every_format(exported, tmp_path):
    data = exported.data
    site = exported.rows[0]["site"]
    other = next(row["site"] for row in exported.rows if row["site"] != site)
    out = tmp_path / "sites"
    newsarchive(
        "export",
        "--format",
        "parquet,txt",
        "--format",
        "jsonl",
        "--site",
        f"{site},{other}",
        "--out",
        out,
        data=data,
    )
    want = [row for row in exported.rows if row["site"] in (site, other)]
    assert pq.read_table(out / "data").column("id").to_pylist() == [row["id"] for row in want]
    assert sorted(p.name for p in out.glob("*.txt")) == [
        export_file_name(i, r["id"]) for i, r in enumerate(want)
    ]
    assert len((out / "articles.jsonl").read_text().splitlines()) == len(want)
    assert f"of the sites {site}, {other}" in (out / "README.md").read_text()

    dated = sorted(_utc(row["published"]) for row in exported.rows if row["published"])
    since, until = dated[3], dated[-4]
    out = tmp_path / "dates"
    newsarchive(
        "export",
        "--format",
        "parquet",
        "--since",
        since.isoformat(),
        "--until",
        until.date().isoformat(),
        "--out",
        out,
        data=data,
    )
    got = pq.read_table(out / "data").column("published").to_pylist()
    end = datetime.combine(until.date() + timedelta(days=1), datetime.min.time(), UTC)
    assert got and all(since <= moment < end for moment in got)
    assert len(got) == sum(1 for moment in dated if since <= moment < end)
    window = (
        f"published {since.isoformat().replace('+00:00', 'Z')} to {end.isoformat().replace('+00:00', 'Z')}"
    )
    assert window in (out / "README.md").read_text()

    out = tmp_path / "captured"
    first = min(_utc(row["first_seen"]) for row in exported.rows)
    newsarchive(
        "export", "--format", "txt", "--by", "captured", "--until", first.isoformat(), "--out", out, data=data
    )
    assert list(out.glob("*.txt")) == []  # --until excludes its instant: nothing captured before the first
    newsarchive(
        "export", "--format", "txt", "--by", "captured", "--since", first.isoformat(), "--out", out, data=data
    )
    assert len(list(out.glob("*.txt"))) == len(exported.rows)


@pytest.mark.parametrize(
    ("value", "end", "instant"),
    [
        ("2026-11-30", False, "2026-11-30T00:00:00+00:00"),
        ("2026-11-30", True, "2026-12-01T00:00:00+00:00"),  # --until a date: its whole day
        ("20261130", True, "2026-12-01T00:00:00+00:00"),
        ("2026-11-30T10:00", True, "2026-11-30T10:00:00+00:00"),  # no offset: UTC
        ("2026-11-30T10:00+03:00", False, "2026-11-30T07:00:00+00:00"),
    ],
)
def test_since_and_until_are_utc_instants(value, end, instant):
    assert parse_bound(value, end).isoformat() == instant


def test_txt_export_is_as_before_and_untouched_by_parquet(exported, tmp_path):
    out = tmp_path / "export"
    default = newsarchive("export", "--out", out, data=exported.data)
    assert f"{len(exported.rows)} written, 0 unchanged, 0 removed" in default.stdout
    names = sorted(p.name for p in out.glob("*.txt"))
    assert names == [export_file_name(i, row["id"]) for i, row in enumerate(exported.rows)]
    for name, row in zip(names, exported.rows, strict=True):
        assert (out / name).read_bytes() == row["text"].encode("utf-8")
        check_document((out / name).read_text(encoding="utf-8"), name)
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    newsarchive("export", "--format", "parquet", "--out", out, data=exported.data)
    after = {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()}
    assert {name: after[name] for name in before} == before and set(after) - set(before) == {"README.md"}
    again = newsarchive("export", "--out", out, data=exported.data)
    assert f"0 written, {len(exported.rows)} unchanged, 0 removed" in again.stdout
    jsonl_only = tmp_path / "jsonl"
    newsarchive("export", "--format", "jsonl", "--out", jsonl_only, data=exported.data)
    assert (jsonl_only / "articles.jsonl").exists() and not list(jsonl_only.glob("*.txt"))


def test_shards_row_groups_and_a_smaller_export_leaves_no_stale_file(exported, tmp_path, monkeypatch):
    monkeypatch.setattr(dataset, "ROW_GROUP", 4)
    monkeypatch.setattr(dataset, "ROWS_PER_FILE", 8)
    db = exported.data / "news.db"
    report = dataset.write_dataset(db, tmp_path)
    n = len(exported.rows)
    assert [p.name for p in report.files] == [f"train-{i:05d}.parquet" for i in range((n + 7) // 8)]
    assert sorted(p.name for p in (tmp_path / "data").iterdir()) == [p.name for p in report.files]
    groups = [pq.ParquetFile(p).metadata.num_row_groups for p in report.files]
    assert groups[:-1] == [2] * (len(groups) - 1)
    assert pq.read_table(tmp_path / "data").column("id").to_pylist() == [row["id"] for row in exported.rows]
    one_site = dataset.write_dataset(db, tmp_path, Selection(sites=(exported.rows[0]["site"],)))
    assert (
        sorted((tmp_path / "data").iterdir()) == one_site.files == [tmp_path / "data" / "train-00000.parquet"]
    )
    assert not list(tmp_path.glob(".*"))  # no staging folder left


def test_card_names_the_site_list_by_its_digest(exported, tmp_path):
    sites = tmp_path / "sites.toml"
    sites.write_text('[[sites]]\nname = "rss"\nfeeds = ["http://127.0.0.1:1/rss.xml"]\n')
    digest = hashlib.sha256(sites.read_bytes()).hexdigest()
    newsarchive(
        "export", "--format", "parquet", "--sites", sites, "--out", tmp_path / "out", data=exported.data
    )
    assert f"- Site list: `sites.toml`, SHA-256 `{digest}`" in (tmp_path / "out/README.md").read_text()
    assert "- Site list: not given" in exported.card


def test_nothing_selected_is_an_empty_dataset_with_the_schema(exported, tmp_path):
    newsarchive("export", "--format", "parquet", "--match", "zzqxjv", "--out", tmp_path, data=exported.data)
    table = pq.read_table(tmp_path / "data")
    assert table.num_rows == 0 and table.schema.names == exported.table.schema.names
    assert "- 0 articles in 1 Parquet file(s)" in (tmp_path / "README.md").read_text()


@pytest.mark.parametrize(
    ("args", "code", "said"),
    [
        (("--format", "xml"), 2, "xml: not one of txt, jsonl, parquet"),
        (("--format", "parquet,csv"), 2, "csv"),
        (("--since", "last tuesday"), 2, "not an ISO date"),
        (("--until", "2026-13-01"), 2, "not an ISO date"),
        (("--since", "2026-11-02", "--until", "2026-11-01"), 2, "is not before --until"),
        (("--by", "fetched"), 2, "fetched"),
        (("--sites", "/nonexistent/sites.toml"), 2, "does not exist"),
        (("--site", "nosuchsite"), 3, "no article of such a site"),
        (("--match", "AND OR"), 3, "bad --match query"),
    ],
)
def test_bad_options_are_refused(exported, tmp_path, args, code, said):
    result = newsarchive(
        "export", "--format", "parquet", *args, "--out", tmp_path, data=exported.data, check=False
    )
    assert (result.returncode, said in result.stderr) == (code, True), result.stderr
    assert list(tmp_path.iterdir()) == []  # nothing written, no staging folder left


def test_no_store_is_exit_3(tmp_path):
    result = newsarchive("export", "--format", "parquet", data=tmp_path, check=False)
    assert result.returncode == 3 and "no store" in result.stderr


def _changed_copy(exported, tmp_path: Path, sql: str, params: tuple) -> Path:
    """A copy of the session's store (it is shared: never changed in place) with ``sql`` run on it."""
    data = tmp_path / "data"
    data.mkdir()
    source, copy = sqlite3.connect(exported.data / "news.db"), sqlite3.connect(data / "news.db")
    source.backup(copy)
    source.close()
    copy.execute(sql, params)
    copy.commit()
    copy.close()
    return data


def test_copies_are_left_out_unless_asked_for_and_name_their_original(exported, tmp_path):
    original, copy = exported.rows[0]["id"], exported.rows[1]["id"]
    data = _changed_copy(
        exported, tmp_path, "UPDATE articles SET duplicate_of = ? WHERE id = ?", (original, copy)
    )
    newsarchive("export", "--format", "parquet", "--out", tmp_path / "out", data=data)
    assert copy not in pq.read_table(tmp_path / "out/data").column("id").to_pylist()
    newsarchive("export", "--format", "parquet", "--include-duplicates", "--out", tmp_path / "out", data=data)
    rows = {row["id"]: row for row in pq.read_table(tmp_path / "out/data").to_pylist()}
    assert rows[copy]["duplicate_of"] == original and len(rows) == len(_articles(data, "1"))
    assert "copies included" in (tmp_path / "out/README.md").read_text()


def test_a_value_that_is_no_date_or_list_is_said_and_exit_1(exported, tmp_path):
    row = exported.rows[0]["id"]
    sql = "UPDATE articles SET published = 'yesterday', tags = 'not json' WHERE id = ?"
    data = _changed_copy(exported, tmp_path, sql, (row,))
    result = newsarchive("export", "--format", "parquet", "--out", tmp_path / "out", data=data, check=False)
    assert result.returncode == 1
    assert "1 values of published were no date" in result.stderr and "1 values of tags" in result.stderr
    got = pq.read_table(tmp_path / "out" / "data").to_pylist()
    bad = next(r for r in got if r["id"] == row)
    assert (bad["published"], bad["published_raw"], bad["tags"]) == (None, "yesterday", [])
    assert len(got) == len(exported.rows)
