"""Which articles an export holds: ``--match``, duplicates, ``--since``/``--until``, ``--site``.

Shared by every export format (export.py: seed files and JSON Lines; dataset.py: Parquet),
so one selection always yields the same rows, in the seed format's stable order.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from archive.store.readonly import open_readonly

BY_CHOICES = ("published", "captured")
# --by published: the date the page states; captured: when the archive first fetched it.
_BY_COLUMN = {"published": "a.published", "captured": "a.first_seen"}


class ExportError(ValueError):
    """The export cannot run as asked (no store, a bad --match query, an unknown site)."""


def parse_bound(value: str, end: bool) -> datetime:
    """``--since``/``--until`` as an aware UTC instant: a date alone means its whole day (UTC),
    so ``--until`` of a date ends where the next day begins; a time without offset is UTC."""
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{value!r} is not an ISO date or date and time (e.g. 2026-11-30)") from None
    if end and _is_date(value):
        moment += timedelta(days=1)
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _is_date(value: str) -> bool:
    try:
        date.fromisoformat(value)
    except ValueError:
        return False
    return True


@dataclass(frozen=True)
class Selection:
    match: str | None = None
    include_duplicates: bool = False
    since: datetime | None = None  # inclusive
    until: datetime | None = None  # exclusive (parse_bound makes a date's end the next day)
    by: str = "published"
    sites: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.by not in BY_CHOICES:
            raise ExportError(f"--by must be one of {', '.join(BY_CHOICES)}, not {self.by!r}")
        if self.since and self.until and self.since >= self.until:
            raise ExportError(f"--since {_instant(self.since)} is not before --until {_instant(self.until)}")

    def describe(self) -> str:
        """One line saying what was selected, for the dataset card."""
        parts = [f"matching `{self.match}`" if self.match else "all articles"]
        if self.sites:
            parts.append(f"of the sites {', '.join(self.sites)}")
        if self.since or self.until:
            window = f"{_instant(self.since) or '…'} to {_instant(self.until) or '…'} (end excluded)"
            parts.append(f"{self.by} {window}")
        parts.append("copies included" if self.include_duplicates else "copies of earlier articles left out")
        return ", ".join(parts)


def _instant(moment: datetime | None) -> str | None:
    return moment.isoformat().replace("+00:00", "Z") if moment else None


def _query(selection: Selection) -> tuple[str, list[str]]:
    where = [] if selection.include_duplicates else ["a.duplicate_of IS NULL"]
    params: list[str] = []
    join = ""
    if selection.match:
        join = "JOIN articles_fts f ON f.rowid = a.rowid"
        where.append("articles_fts MATCH ?")
        params.append(selection.match)
    if selection.sites:
        where.append(f"a.site IN ({', '.join('?' * len(selection.sites))})")
        params.extend(selection.sites)
    # SQLite's julianday reads every form the store holds (a date alone, a time with any UTC
    # offset or Z) as one instant, where comparing the strings would not.
    column = _BY_COLUMN[selection.by]
    for bound, op in ((selection.since, ">="), (selection.until, "<")):
        if bound:
            where.append(f"julianday({column}) {op} julianday(?)")
            params.append(bound.isoformat())
    sql = (
        "SELECT a.*, c.warc_file, c.warc_offset, c.warc_length, c.payload_digest, "
        "c.fetched_at AS captured_at, c.record_type, c.discovered_by, c.discovered_from "
        f"FROM articles a LEFT JOIN captures c ON c.id = a.capture_id {join} "
        f"{'WHERE ' + ' AND '.join(where) if where else ''} ORDER BY a.first_seen, a.id"
    )
    return sql, params


def check_sites(conn: sqlite3.Connection, sites: tuple[str, ...]) -> None:
    known = {row[0] for row in conn.execute("SELECT DISTINCT site FROM articles")}
    unknown = [name for name in sites if name not in known]
    if unknown:
        raise ExportError(
            f"--site {', '.join(unknown)}: no article of such a site in the store "
            f"(its sites: {', '.join(sorted(known)) or 'none'})"
        )


def iter_articles(db_path: Path, selection: Selection, batch: int = 1000) -> Iterator[list[sqlite3.Row]]:
    """The selected article rows in batches (stable order), each with its capture's provenance."""
    conn = open_readonly(db_path)
    if conn is None:
        raise ExportError(f"no store at {db_path}: run `newsarchive extract` first")
    conn.row_factory = sqlite3.Row
    try:
        check_sites(conn, selection.sites)
        sql, params = _query(selection)
        try:
            cursor = conn.execute(sql, params)
        except sqlite3.OperationalError as exc:
            if selection.match:
                raise ExportError(f"bad --match query {selection.match!r}: {exc}") from None
            raise
        while rows := cursor.fetchmany(batch):
            yield rows
    finally:
        conn.close()


def select_articles(db_path: Path, selection: Selection) -> list[sqlite3.Row]:
    """All selected rows at once (the seed export numbers its files in this order)."""
    return [row for rows in iter_articles(db_path, selection) for row in rows]


def select_versions(db_path: Path, ids: list[str], batch: int = 500) -> dict[str, list[sqlite3.Row]]:
    """The versions of the articles ``ids`` (article_versions), oldest first, by article id."""
    conn = open_readonly(db_path)
    if conn is None:
        raise ExportError(f"no store at {db_path}: run `newsarchive extract` first")
    conn.row_factory = sqlite3.Row
    found: dict[str, list[sqlite3.Row]] = {}
    try:
        for start in range(0, len(ids), batch):
            chunk = ids[start : start + batch]
            for row in conn.execute(
                f"SELECT * FROM article_versions WHERE article_id IN ({', '.join('?' * len(chunk))})"
                " ORDER BY article_id, version",
                chunk,
            ):
                found.setdefault(row["article_id"], []).append(row)
    finally:
        conn.close()
    return found
