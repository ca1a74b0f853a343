"""``newsarchive changes``: the articles whose text changed since a date, and how much.

Read from ``article_versions`` (archive/store/versions.py): a change is a version after the
first, its words added and removed and whether the headline changed worked out when it was
stored (archive/diff.py), so this tells the same story as the Datasette diff view.
"""

from __future__ import annotations

import sqlite3
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path

from archive.publish.selection import ExportError, check_sites
from archive.publish.stats import text_table
from archive.store.readonly import open_readonly


@dataclass
class Change:
    id: str
    title: str
    site: str | None
    versions: int  # all of the article's versions
    changes: int  # versions after the first made since the date
    last_change: str  # capture time of the latest of them
    words_added: int  # summed over those changes
    words_removed: int
    title_changed: bool  # the headline changed in one of them

    def json(self) -> dict:
        return asdict(self)


# Datetimes compared as instants (julianday), as export's --since does: WARC-Dates may
# carry fractions of a second or another offset, which their strings do not sort by.
QUERY = """
SELECT a.id, a.title, a.site, a.versions, count(*), max(v.captured_at), sum(v.words_added),
       sum(v.words_removed), max(v.title_changed)
FROM article_versions v JOIN articles a ON a.id = v.article_id
WHERE v.version > 1 AND julianday(v.captured_at) >= julianday(?) {sites}
GROUP BY a.id ORDER BY max(julianday(v.captured_at)) DESC, a.id
"""


def changed_articles(db_path: Path, since: datetime, sites: tuple[str, ...] = ()) -> list[Change]:
    """Articles with a new version captured at or after ``since`` (of ``sites``, if given),
    the latest change first. Raises ExportError when there is no store or a site is unknown."""
    conn = open_readonly(db_path)
    if conn is None:
        raise ExportError(f"no store at {db_path}: run `newsarchive extract` first")
    try:
        check_sites(conn, sites)
        where = f"AND a.site IN ({', '.join('?' * len(sites))})" if sites else ""
        rows = conn.execute(QUERY.format(sites=where), [since.isoformat(), *sites]).fetchall()
    except sqlite3.OperationalError as exc:
        if "no such" in str(exc):  # read-only here: upgrading the store is extract's job
            raise ExportError(
                f"{db_path} was made by an older release: run `newsarchive extract` once"
            ) from None
        raise
    finally:
        conn.close()
    return [
        Change(id_, title, site, versions, changes, last, added, removed, bool(title_changed))
        for id_, title, site, versions, changes, last, added, removed, title_changed in rows
    ]


def changes_table(changes: list[Change]) -> list[str]:
    """The changes as aligned text lines, one article a line."""
    if not changes:
        return ["no article changed in that time"]
    return text_table(
        ["title", "site", "versions", "last change", "words +", "words -", "title changed"],
        [
            [
                _short(c.title),
                c.site or "?",
                str(c.versions),
                c.last_change,
                f"{c.words_added:,}",
                f"{c.words_removed:,}",
                "yes" if c.title_changed else "no",
            ]
            for c in changes
        ],
        left=2,
    )


def _short(title: str, width: int = 60) -> str:
    return title if len(title) <= width else title[: width - 1] + "…"
