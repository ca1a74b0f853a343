"""`newsarchive report`: a static page charting articles per day per site.

A self-contained HTML file with an inline SVG (no scripts, no network), so it opens
anywhere, can be mailed or published beside the Datasette copy. Hand-drawn SVG rather than
a Datasette chart plugin: the maintained ones need JavaScript from a CDN, which an
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
<html lang="en"><head><meta charset="utf-8"><title>newsarchive: articles per day per site</title>
<style>body{{font:14px system-ui,sans-serif;margin:2em}} ul{{list-style:none;padding:0}}
li{{display:inline-block;margin-right:1.5em}}
li span{{display:inline-block;width:.9em;height:.9em;margin-right:.3em}}
table{{border-collapse:collapse;font-size:11px}}
td,th{{border:1px solid #ddd;padding:2px 4px;text-align:right}}
</style></head><body>
<h1>Articles per day per site</h1>
<p>{total} articles (duplicates left out), by publication date (or first fetch when the page gives none),
{escape(axis[0]) if axis else "-"} to {escape(axis[-1]) if axis else "-"}.</p>
<ul>{legend}</ul>
{_svg(axis, counts) if axis else "<p>No articles yet.</p>"}
<details><summary>The figures</summary><table><tr><th></th>{"".join(f"<th>{d[5:]}</th>" for d in axis)}</tr>
{rows}</table></details>
</body></html>
"""
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(page, encoding="utf-8")
    return out, total
