"""``newsarchive stats``: what an archive holds, at a glance.

WARC files are counted on disk (the source of truth); everything else comes from the
store, read-only, so it is safe to run while a crawl or an extract is writing.
"""

from __future__ import annotations

import sqlite3
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from archive.publish.summary import ALL_TIME, looked_again
from archive.store.readonly import DB_NAME, open_readonly
from archive.warc.files import file_kind, list_warc_files

LAST_CRAWLS = 5


class StatsError(Exception):
    """The data directory has no readable store."""


@dataclass
class ArchiveStats:
    warc_files: int
    warc_bytes: int
    warc_files_read: int
    warc_files_by_kind: list[tuple[str, int]]  # kind (warc.gz, warc, arc, arc.gz, wacz), files on disk
    digest_mismatches: int  # captures kept whose WARC digests match in neither convention
    captures_by_status: list[tuple[int | None, int]]
    fetch_errors: int
    articles_by_site: list[tuple[str | None, int, int]]  # site, articles, duplicates
    articles_by_language: list[tuple[str | None, int]]
    not_articles_by_site: list[tuple[str | None, str, int]]  # site, reason, captures
    duplicates: int
    crawls: list[sqlite3.Row]
    changed_articles: int = 0  # articles with more than one version
    versions: int = 0  # versions of all articles
    looked_again: tuple[int, int, int] = (0, 0, 0)  # captures revisited, unchanged, changed (summary.py)

    def text(self) -> str:
        articles = sum(count for _, count, _ in self.articles_by_site)
        lines = [
            f"WARC files    {self.warc_files:,} ({self.warc_bytes / 1e6:,.1f} MB), "
            f"{self.warc_files_read:,} read into {DB_NAME}"
            + "".join(f"; {kind}: {n:,}" for kind, n in self.warc_files_by_kind),
            f"captures      {sum(n for _, n in self.captures_by_status):,}; "
            + ", ".join(
                f"{status if status is not None else '?'}: {n:,}" for status, n in self.captures_by_status
            ),
            f"fetch errors  {self.fetch_errors:,} (no response at all)",
            f"bad digests   {self.digest_mismatches:,} (records kept whose digests match in no convention)",
            f"articles      {articles:,}, of which {self.duplicates:,} duplicates of an earlier article",
            f"versions      {self.versions:,}; {self.changed_articles:,} articles changed after their first "
            f"capture; fetched again: {self.looked_again[0]:,} revisited, {self.looked_again[1]:,} "
            f"unchanged, {self.looked_again[2]:,} changed",
            "",
        ]
        lines += text_table(
            ["site", "articles", "duplicates"],
            [[site or "?", f"{n:,}", f"{dups:,}"] for site, n, dups in self.articles_by_site],
        )
        lines.append("")
        reasons: dict[str | None, list[str]] = {}
        for site, reason, n in self.not_articles_by_site:
            reasons.setdefault(site, []).append(f"{reason} {n:,}")
        lines += text_table(
            ["site", "captures that are no article, by reason"],
            [[site or "?", ", ".join(found)] for site, found in reasons.items()],
            left=2,
        )
        lines.append("")
        lines += text_table(
            ["language", "articles"], [[lang or "?", f"{n:,}"] for lang, n in self.articles_by_language]
        )
        lines.append("")
        lines += text_table(
            ["crawl", "started", "finished", "responses", "MB", "errors"],
            [
                [
                    row["id"],
                    row["started"] or "",
                    row["finished"] or "",
                    f"{row['responses'] or 0:,}",
                    f"{(row['bytes'] or 0) / 1e6:,.1f}",
                    f"{row['errors'] or 0:,}",
                ]
                for row in self.crawls
            ],
            left=3,
            empty="no crawl runs yet",
        )
        return "\n".join(lines)


def text_table(header: list[str], rows: list[list[str]], left: int = 1, empty: str = "none") -> list[str]:
    """Aligned columns: the first ``left`` ones left-aligned (names), the rest right (figures)."""
    if not rows:
        return [f"{header[0]}: {empty}"]
    widths = [max(len(str(cell)) for cell in column) for column in zip(header, *rows, strict=True)]
    return [
        "  ".join(
            cell.ljust(width) if i < left else cell.rjust(width)
            for i, (cell, width) in enumerate(zip(line, widths, strict=True))
        ).rstrip()
        for line in [header, *rows]
    ]


def archive_stats(data_dir: Path) -> ArchiveStats:
    """Read the figures; raises StatsError when there is no store or it is not readable."""
    db_path = data_dir / DB_NAME
    db = open_readonly(db_path)
    if db is None:
        raise StatsError(f"no store at {db_path}: run `newsarchive extract` first")
    db.row_factory = sqlite3.Row
    try:
        files = list_warc_files(data_dir / "warc") if (data_dir / "warc").is_dir() else []
        return ArchiveStats(
            warc_files=len(files),
            warc_bytes=sum(p.stat().st_size for p in files),
            warc_files_read=db.execute("SELECT count(*) FROM warc_files").fetchone()[0],
            warc_files_by_kind=sorted(Counter(file_kind(p) for p in files).items()),
            digest_mismatches=db.execute("SELECT count(digest_problem) FROM captures").fetchone()[0],
            captures_by_status=[
                tuple(r) for r in db.execute("SELECT status, count(*) FROM captures GROUP BY 1 ORDER BY 1")
            ],
            fetch_errors=db.execute("SELECT count(*) FROM fetch_errors").fetchone()[0],
            articles_by_site=[
                tuple(r)
                for r in db.execute(
                    "SELECT site, count(*), count(duplicate_of) FROM articles GROUP BY 1 ORDER BY 2 DESC, 1"
                )
            ],
            articles_by_language=[
                tuple(r)
                for r in db.execute("SELECT language, count(*) FROM articles GROUP BY 1 ORDER BY 2 DESC, 1")
            ],
            not_articles_by_site=[
                tuple(r)
                for r in db.execute(
                    "SELECT site, not_article, count(*) FROM captures WHERE not_article IS NOT NULL "
                    "GROUP BY 1, 2 ORDER BY 1, 3 DESC, 2"
                )
            ],
            duplicates=db.execute("SELECT count(duplicate_of) FROM articles").fetchone()[0],
            changed_articles=db.execute("SELECT count(*) FROM articles WHERE versions > 1").fetchone()[0],
            versions=db.execute("SELECT count(*) FROM article_versions").fetchone()[0],
            looked_again=tuple(map(sum, zip((0, 0, 0), *looked_again(db, *ALL_TIME).values(), strict=False))),
            crawls=db.execute(
                "SELECT id, started, finished, responses, bytes, errors FROM crawls "
                "ORDER BY started DESC LIMIT ?",
                [LAST_CRAWLS],
            ).fetchall(),
        )
    except sqlite3.OperationalError as exc:
        if "no such column" in str(exc) or "no such table" in str(exc):  # upgrading is extract's job
            upgrade = "run `newsarchive extract` once to upgrade it"
            raise StatsError(f"{db_path} was made by an older release ({exc}): {upgrade}") from None
        raise StatsError(f"{db_path} cannot be read as a newsarchive store: {exc}") from None
    except sqlite3.DatabaseError as exc:
        raise StatsError(f"{db_path} cannot be read as a newsarchive store: {exc}") from None
    finally:
        db.close()
