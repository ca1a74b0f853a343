"""`newsarchive report`: a static page of what the archive holds, to look at rather than read.

Articles per day per site (a chart), then the captures that were not articles by reason,
the duplicates per site, and the articles whose text changed (``article_versions``), as
tables with bars drawn in CSS. A self-contained HTML file with an inline SVG (no scripts,
no network), so it opens anywhere, can be mailed or published beside the Datasette copy.
Hand-drawn SVG rather than a Datasette chart plugin: the maintained ones need JavaScript from a CDN, which an
offline archive viewer cannot count on.
"""

from __future__ import annotations

import sqlite3
from collections import defaultdict
from datetime import date, timedelta
from html import escape
from pathlib import Path

from archive.store.readonly import DB_NAME, open_readonly

PALETTE = (
    "#4e79a7",
    "#f28e2b",
    "#e15759",
    "#76b7b2",
    "#59a14f",
    "#edc948",
    "#b07aa1",
    "#ff9da7",
    "#9c755f",
    "#bab0ac",
)
WIDTH, HEIGHT, MARGIN = 960, 360, 48

DAY_SQL = """
SELECT site, substr(coalesce(published, first_seen), 1, 10) AS day, count(*) AS n
FROM articles WHERE duplicate_of IS NULL AND site IS NOT NULL
GROUP BY site, day HAVING day >= ? ORDER BY day
"""


def articles_per_day(db: sqlite3.Connection, days: int) -> tuple[list[str], dict[str, dict[str, int]]]:
    """(days in order, site -> day -> articles) for the last ``days`` days that have any."""
    rows = db.execute("SELECT max(substr(coalesce(published, first_seen), 1, 10)) FROM articles").fetchone()
    if not rows or not rows[0]:
        return [], {}
    last = date.fromisoformat(rows[0])
    first = last - timedelta(days=days - 1)
    counts: dict[str, dict[str, int]] = defaultdict(dict)
    for site, day, n in db.execute(DAY_SQL, [first.isoformat()]):
        counts[site][day] = n
    axis = [(first + timedelta(days=i)).isoformat() for i in range(days)]
    return axis, dict(counts)


# The share of captures that were not articles, by reason (captures.not_article; empty: an article).
REASONS_SQL = """
SELECT coalesce(nullif(not_article, ''), 'article') AS reason, count(*) AS n
FROM captures GROUP BY reason ORDER BY reason = 'article' DESC, n DESC, reason
"""
DUPLICATES_SQL = """
SELECT site, count(*) AS articles, sum(duplicate_of IS NOT NULL) AS duplicates
FROM articles WHERE site IS NOT NULL GROUP BY site ORDER BY duplicates DESC, site
"""
# Articles with more than one version: how often and how much their text changed.
CHANGED_SQL = """
SELECT a.title, a.site, count(*) + 1 AS versions, sum(v.words_added) AS added,
  sum(v.words_removed) AS removed, sum(v.title_changed) AS title_changes, max(v.captured_at) AS last_changed
FROM article_versions v JOIN articles a ON a.id = v.article_id
WHERE v.version > 1 GROUP BY a.id ORDER BY last_changed DESC, a.id LIMIT ?
"""
CHANGED_LISTED = 50


def _columns(db: sqlite3.Connection, table: str) -> set[str]:
    return {row[1] for row in db.execute(f"PRAGMA table_info([{table}])")}


def capture_reasons(db: sqlite3.Connection) -> list[tuple[str, int]]:
    """(reason, captures) with ``article`` first: why each capture was, or was not, an article."""
    if "not_article" not in _columns(db, "captures"):  # a store from before issue 16
        return []
    return [(reason, n) for reason, n in db.execute(REASONS_SQL)]


def duplicates_per_site(db: sqlite3.Connection) -> list[tuple[str, int, int]]:
    """(site, articles, of which duplicates of an earlier article)."""
    return [(site, n, dups or 0) for site, n, dups in db.execute(DUPLICATES_SQL)]


def changed_articles(db: sqlite3.Connection, limit: int = CHANGED_LISTED) -> tuple[int, list[tuple]]:
    """(articles that changed, the latest ``limit`` of them: title, site, versions, words added,
    words removed, title changes, last change); (0, []) on a store that keeps no versions."""
    if not _columns(db, "article_versions"):
        return 0, []
    total = db.execute(
        "SELECT count(DISTINCT article_id) FROM article_versions WHERE version > 1"
    ).fetchone()[0]
    return total, db.execute(CHANGED_SQL, [limit]).fetchall()


def _bar(share: float, colour: str = PALETTE[0]) -> str:
    """A bar as wide as ``share`` (0..1) of its cell: CSS only."""
    return f'<span class="bar" style="width:{share * 100:.1f}%;background:{colour}"></span>'


def _reasons_html(reasons: list[tuple[str, int]]) -> str:
    total = sum(n for _, n in reasons)
    if not total:
        return "<p>No captures yet.</p>"
    not_articles = sum(n for reason, n in reasons if reason != "article")
    rows = "".join(
        f"<tr><th>{escape(reason)}</th><td>{n}</td><td>{n / total:.1%}</td>"
        f'<td class="bar-cell">{_bar(n / total, PALETTE[0] if reason == "article" else PALETTE[1])}</td></tr>'
        for reason, n in reasons
    )
    return (
        f"<p>{not_articles} of {total} captures ({not_articles / total:.1%}) were not articles.</p>"
        '<table class="figures"><tr><th>reason</th><th>captures</th><th>share</th><th></th></tr>'
        f"{rows}</table>"
    )


def _duplicates_html(sites: list[tuple[str, int, int]]) -> str:
    articles, duplicates = sum(n for _, n, _ in sites), sum(d for _, _, d in sites)
    if not articles:
        return "<p>No articles yet.</p>"
    rows = "".join(
        f"<tr><th>{escape(site)}</th><td>{n}</td><td>{dups}</td><td>{dups / n:.1%}</td>"
        f'<td class="bar-cell">{_bar(dups / n, PALETTE[2])}</td></tr>'
        for site, n, dups in sites
    )
    return (
        f"<p>{duplicates} of {articles} articles ({duplicates / articles:.1%}) are copies of an earlier "
        "article (the same body, or a near copy such as a wire story on another site).</p>"
        '<table class="figures"><tr><th>site</th><th>articles</th><th>duplicates</th><th>share</th>'
        "<th></th></tr>"
        f"{rows}</table>"
    )


def _changed_html(total: int, changed: list[tuple]) -> str:
    if not total:
        return "<p>No article has changed since it was first archived.</p>"
    rows = "".join(
        f'<tr><td class="title">{escape(title or "")}</td><td>{escape(site or "")}</td><td>{versions}</td>'
        f'<td class="added">+{added or 0}</td><td class="removed">&minus;{removed or 0}</td>'
        f"<td>{title_changes or 0}</td><td>{escape((last or '')[:16].replace('T', ' '))}</td></tr>"
        for title, site, versions, added, removed, title_changes, last in changed
    )
    listed = f", the latest {len(changed)} listed" if total > len(changed) else ""
    return (
        f"<p>{total} article{'' if total == 1 else 's'} changed after they were first archived{listed}.</p>"
        '<table class="figures"><tr><th>title</th><th>site</th><th>versions</th><th>words added</th>'
        f"<th>removed</th><th>title changes</th><th>last change (UTC)</th></tr>{rows}</table>"
    )


def _svg(axis: list[str], counts: dict[str, dict[str, int]]) -> str:
    totals = [sum(c.get(day, 0) for c in counts.values()) for day in axis]
    top = max(totals, default=0) or 1
    plot_w, plot_h = WIDTH - 2 * MARGIN, HEIGHT - 2 * MARGIN
    bar_w = plot_w / max(len(axis), 1)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" role="img" '
        f'aria-label="Articles per day per site">'
    ]
    for i, day in enumerate(axis):
        y = HEIGHT - MARGIN
        for j, site in enumerate(sorted(counts)):
            n = counts[site].get(day, 0)
            if not n:
                continue
            h = n / top * plot_h
            y -= h
            parts.append(
                f'<rect x="{MARGIN + i * bar_w:.1f}" y="{y:.1f}" width="{max(bar_w - 1, 1):.1f}" '
                f'height="{h:.1f}" fill="{PALETTE[j % len(PALETTE)]}">'
                f"<title>{escape(site)}, {day}: {n}</title></rect>"
            )
        if len(axis) <= 31 or i % max(len(axis) // 15, 1) == 0:
            parts.append(
                f'<text x="{MARGIN + (i + 0.5) * bar_w:.1f}" y="{HEIGHT - MARGIN + 14}" font-size="9" '
                f'text-anchor="middle">{day if len(axis) > 366 else day[5:]}</text>'
            )
    parts.append(f'<text x="{MARGIN - 6}" y="{MARGIN + 4}" font-size="10" text-anchor="end">{top}</text>')
    parts.append(f'<text x="{MARGIN - 6}" y="{HEIGHT - MARGIN}" font-size="10" text-anchor="end">0</text>')
    parts.append(
        f'<line x1="{MARGIN}" y1="{HEIGHT - MARGIN}" x2="{WIDTH - MARGIN}" y2="{HEIGHT - MARGIN}" '
        'stroke="#333"/></svg>'
    )
    return "".join(parts)


def write_report(data_dir: Path, out: Path, days: int = 60) -> tuple[Path, int]:
    """Write the chart page to ``out``; returns (path, articles charted)."""
    db = open_readonly(data_dir / DB_NAME)
    if db is None:
        raise FileNotFoundError(f"no store at {data_dir / DB_NAME}: run `newsarchive extract` first")
    try:
        axis, counts = articles_per_day(db, days)
        reasons, duplicates = capture_reasons(db), duplicates_per_site(db)
        changed_total, changed = changed_articles(db)
    finally:
        db.close()
    total = sum(sum(c.values()) for c in counts.values())
    legend = "".join(
        f'<li><span style="background:{PALETTE[j % len(PALETTE)]}"></span>{escape(site)} '
        f"({sum(counts[site].values())})</li>"
        for j, site in enumerate(sorted(counts))
    )
    rows = "".join(
        f"<tr><th>{escape(site)}</th>"
        + "".join(f"<td>{counts[site].get(day, '')}</td>" for day in axis)
        + "</tr>"
        for site in sorted(counts)
    )
    page = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>newsarchive: what the archive holds</title>
<style>body{{font:14px system-ui,sans-serif;margin:2em}} ul{{list-style:none;padding:0}}
li{{display:inline-block;margin-right:1.5em}}
li span{{display:inline-block;width:.9em;height:.9em;margin-right:.3em}}
table{{border-collapse:collapse;font-size:11px}}
td,th{{border:1px solid #ddd;padding:2px 4px;text-align:right}}
h2{{margin-top:1.6em}} table.figures{{font-size:13px}}
table.figures td.title{{text-align:left;max-width:40em}}
td.bar-cell{{width:16em;text-align:left}} span.bar{{display:inline-block;height:.8em;min-width:1px}}
td.added{{color:#1a6b2a}} td.removed{{color:#a12020}}
</style></head><body>
<h1>Articles per day per site</h1>
<p>{total} articles (duplicates left out), by publication date (or first fetch when the page gives none),
{escape(axis[0]) if axis else "-"} to {escape(axis[-1]) if axis else "-"}.</p>
<ul>{legend}</ul>
{_svg(axis, counts) if axis else "<p>No articles yet.</p>"}
<details><summary>The figures</summary><table><tr><th></th>{"".join(f"<th>{d[5:]}</th>" for d in axis)}</tr>
{rows}</table></details>
<h2>Captures that were not articles</h2>
{_reasons_html(reasons)}
<h2>Duplicates</h2>
{_duplicates_html(duplicates)}
<h2>Changed articles</h2>
{_changed_html(changed_total, changed)}
</body></html>
"""
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(page, encoding="utf-8")
    return out, total
