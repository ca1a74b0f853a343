"""What a crawl run did, per site, and which sites need a look: the `run` summary.

Built from the store (``crawls`` rows come from the summary record each crawl writes into
its WARC, articles from extraction), so it is the same whether read right after the run
or months later.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path

from archive.store.readonly import DB_NAME, open_readonly
from archive.warc.fields import parse_warc_date

DEFAULT_SILENT_AFTER_RUNS = 3
WALLS = ("bot_challenge", "consent_wall", "paywall")  # what a site shows a crawler it blocks
WALLS_FLAGGED = 0.25  # share of a site's pages in one run that came back as walls: a block
WALLS_AT_LEAST = 3


@dataclass
class SiteRun:
    site: str
    responses: int
    new_articles: int
    errors: int
    bytes: int
    source_errors: int
    not_articles: dict[str, int] = field(default_factory=dict)  # captures of the run by reason
    revisited: int = 0  # articles looked at again on the revisit schedule (discovered_by 'revisit')
    unchanged: int = 0  # articles fetched again that had not changed: a 304, or the same text
    changed: int = 0  # articles fetched again with a new text: a new version
    problems: list[str] = field(default_factory=list)


    def looked_again(self) -> str:
        """", 3 revisited: 2 unchanged, 1 changed", or nothing when no article was fetched again."""
        if not (self.revisited or self.unchanged or self.changed):
            return ""
        return f", {self.revisited} revisited: {self.unchanged} unchanged, {self.changed} changed"


@dataclass
class RunSummary:
    crawl_id: str
    seconds: float
    sites: list[SiteRun]

    @property
    def problems(self) -> list[str]:
        return [f"{s.site}: {p}" for s in self.sites for p in s.problems]

    def text(self) -> str:
        """One paragraph a person reads in cron mail: per site what happened, then problems."""
        parts = [
            f"{s.site} {s.responses} pages, {s.new_articles} new articles, {s.errors} errors, "
            f"{s.bytes / 1e6:.1f} MB{s.looked_again()}"
            for s in self.sites
        ]
        text = f"Crawl {self.crawl_id} ({self.seconds:.0f}s): " + "; ".join(parts) + "."
        reasons = [
            f"{s.site} " + ", ".join(f"{reason} {n}" for reason, n in sorted(s.not_articles.items()))
            for s in self.sites
            if s.not_articles
        ]
        if reasons:
            text += " Not articles: " + "; ".join(reasons) + "."
        if self.problems:
            text += " Needs a look: " + "; ".join(self.problems) + "."
        return text


def _load(value: str | None) -> dict | list:
    return json.loads(value) if value else {}


def _new_articles(db: sqlite3.Connection, started: str, finished: str) -> dict[str, int]:
    rows = db.execute(
        "SELECT site, count(*) FROM articles WHERE first_seen >= ? AND first_seen <= ? GROUP BY site",
        [started, finished],
    )
    return dict(rows.fetchall())


def _not_articles(db: sqlite3.Connection, started: str, finished: str) -> dict[str, dict[str, int]]:
    """Per site, the run's captures that are no article, by reason (NULL: an article)."""
    found: dict[str, dict[str, int]] = {}
    for site, reason, count in db.execute(
        "SELECT site, not_article, count(*) FROM captures WHERE fetched_at >= ? AND fetched_at <= ? "
        "GROUP BY 1, 2",
        [started, finished],
    ):
        found.setdefault(site, {})[reason or ""] = count
    return found


ALL_TIME = ("", "\uffff")  # (started, finished) around every time string the store holds


def looked_again(db: sqlite3.Connection, started: str, finished: str) -> dict[str, tuple[int, int, int]]:
    """Per site, the articles the window's captures looked at again: (revisited, unchanged,
    changed). Revisited: captures the revisit schedule asked for; unchanged: 304s of an
    article's URL and article captures whose text was the version before's; changed:
    captures that made a new version (not the first)."""
    found: dict[str, list[int]] = {}
    queries = (
        "SELECT site, count(*) FROM captures WHERE discovered_by = 'revisit' AND fetched_at BETWEEN ? AND ?"
        " GROUP BY 1",
        """SELECT c.site, count(*) FROM captures c WHERE c.fetched_at BETWEEN ? AND ? AND (
             (c.status = 304 AND EXISTS
               (SELECT 1 FROM captures a WHERE a.url = c.url AND a.article_id IS NOT NULL))
             OR (c.article_id IS NOT NULL AND NOT EXISTS
               (SELECT 1 FROM article_versions v WHERE v.capture_id = c.id))
           ) GROUP BY 1""",
        """SELECT c.site, count(*) FROM article_versions v JOIN captures c ON c.id = v.capture_id
           WHERE v.version > 1 AND c.fetched_at BETWEEN ? AND ? GROUP BY 1""",
    )
    for column, sql in enumerate(queries):
        for site, count in db.execute(sql, [started, finished]):
            found.setdefault(site, [0, 0, 0])[column] = count
    return {site: (counts[0], counts[1], counts[2]) for site, counts in found.items()}


def walls_problem(reasons: dict[str, int]) -> str | None:
    """A site whose pages came back as walls or challenges in this run: it may block us now."""
    pages = sum(n for reason, n in reasons.items() if reason not in ("not_html", "redirect", "not_modified"))
    walls = {reason: reasons[reason] for reason in WALLS if reasons.get(reason)}
    count = sum(walls.values())
    if count < WALLS_AT_LEAST or count < WALLS_FLAGGED * pages:
        return None
    detail = ", ".join(f"{reason} {n}" for reason, n in walls.items())
    return f"{count} of {pages} pages came back as walls or challenges ({detail}): blocked?"


def run_summary(data_dir: Path, crawl_id: str, silent_after_runs: dict[str, int] | None = None) -> RunSummary:
    """The summary of crawl ``crawl_id``; a site is flagged when its feeds, sitemaps or start
    pages failed, when it yielded no new article in its last ``silent_after_runs[site]``
    runs (default 3), or when its pages came back as walls or challenges (``walls_problem``)."""
    silent_after_runs = silent_after_runs or {}
    db = open_readonly(data_dir / DB_NAME)
    if db is None:
        raise LookupError(f"no store at {data_dir / DB_NAME}")
    db.row_factory = sqlite3.Row
    try:
        crawl = db.execute("SELECT * FROM crawls WHERE id = ?", [crawl_id]).fetchone()
        if crawl is None:
            raise LookupError(f"no crawl {crawl_id} in the store")
        history = db.execute(
            "SELECT sites, started, finished FROM crawls WHERE started <= ? ORDER BY started DESC",
            [crawl["started"]],
        ).fetchall()
        new_by_run = [
            (json.loads(r["sites"]), _new_articles(db, r["started"], r["finished"])) for r in history
        ]
        responses, errors = _load(crawl["site_responses"]), _load(crawl["site_errors"])
        reasons = _not_articles(db, crawl["started"], crawl["finished"])
        again = looked_again(db, crawl["started"], crawl["finished"])
        site_bytes, source_errors = _load(crawl["site_bytes"]), _load(crawl["source_errors"])
        sites = []
        for site in json.loads(crawl["sites"]):
            run = SiteRun(
                site=site,
                responses=responses.get(site, 0),
                new_articles=new_by_run[0][1].get(site, 0),
                errors=errors.get(site, 0),
                bytes=site_bytes.get(site, 0),
                source_errors=source_errors.get(site, 0),
                not_articles={r: n for r, n in reasons.get(site, {}).items() if r},
            )
            run.revisited, run.unchanged, run.changed = again.get(site, (0, 0, 0))
            if run.source_errors:
                run.problems.append(f"{run.source_errors} feeds/sitemaps/start pages failed")
            limit = silent_after_runs.get(site, DEFAULT_SILENT_AFTER_RUNS)
            runs_of_site = [new.get(site, 0) for names, new in new_by_run if site in names][:limit]
            if limit and len(runs_of_site) >= limit and not any(runs_of_site):
                run.problems.append(f"no new article in {limit} runs (layout change? blocked?)")
            if walls := walls_problem(reasons.get(site, {})):
                run.problems.append(walls)
            sites.append(run)
    finally:
        db.close()
    started, finished = parse_warc_date(crawl["started"]), parse_warc_date(crawl["finished"])
    return RunSummary(crawl_id, (finished - started).total_seconds(), sites)


def crawl_site_lines(stats: dict) -> list[str]:
    """A crawl's per-site figures (its ``newsarchive/site_*`` stats) as aligned text lines."""
    responses = stats.get("newsarchive/site_responses", {})
    errors, sizes = stats.get("newsarchive/site_errors", {}), stats.get("newsarchive/site_bytes", {})
    failed = stats.get("newsarchive/source_errors", {})
    sites = sorted(set(responses) | set(errors) | set(failed))
    if not sites:
        return []
    width = max(len("site"), *map(len, sites))
    lines = [f"  {'site':<{width}}  responses  errors      MB  sources failed"]
    for site in sites:
        lines.append(
            f"  {site:<{width}}  {responses.get(site, 0):>9}  {errors.get(site, 0):>6}  "
            f"{sizes.get(site, 0) / 1e6:>6.1f}  {failed.get(site, 0):>14}"
        )
    return lines
