"""Datasette plugin for news.db: article text as paragraphs, and archived pages one click away.

``/-/capture/<warc file>/<offset>`` serves the body of an archived response straight from
its WARC record. Archived HTML is untrusted, so it goes out with a
``Content-Security-Policy: sandbox`` header (its own opaque origin, no scripts, no forms,
nothing it can do on the Datasette origin) that also forbids loading anything from the
network, and styles: many news pages hide their body until a script of theirs runs, so
the archived HTML shows as a plain document, and viewing it tells no one. A faithful
replay with styles and images is pywb's job (``newsarchive index``).

Loaded with ``datasette --plugins-dir`` (``newsarchive serve`` does it). The ``archive``
package is imported only when a capture is served, so a published copy of news.db
without the WARC files (``datasette publish``) renders the same pages without it.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from urllib.parse import quote

from datasette import hookimpl
from datasette.utils.asgi import Response
from markupsafe import Markup, escape

ARCHIVED_PAGE_POLICY = "sandbox; default-src 'none'; img-src data:"
CAPTURE_HEADERS = {
    "Content-Security-Policy": ARCHIVED_PAGE_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "private, max-age=3600",
}
HIGHLIGHT_OPEN, HIGHLIGHT_CLOSE = "<mark>", "</mark>"  # what the search query's snippet() puts around hits


def capture_path(datasette, warc_file: str, warc_offset: int) -> str:
    return datasette.urls.path(f"/-/capture/{quote(warc_file, safe='')}/{warc_offset}")


def paragraphs_html(text: str) -> Markup:
    """A document (headline, empty line, one paragraph per line) as HTML paragraphs."""
    headline, _, body = text.partition("\n\n")
    parts = [Markup("<p><strong>{}</strong></p>").format(headline)]
    parts += [Markup("<p>{}</p>").format(line) for line in body.split("\n") if line.strip()]
    return Markup('<div class="article-text">{}</div>').format(Markup("").join(parts))


def highlighted_html(snippet: str) -> Markup:
    """Escape a snippet, then turn only the highlight markers back into <mark> elements."""
    escaped = str(escape(snippet))
    for marker in (HIGHLIGHT_OPEN, HIGHLIGHT_CLOSE):
        escaped = escaped.replace(str(escape(marker)), marker)
    return Markup(escaped)


async def _capture_link(datasette, database: str, capture_id: str) -> Markup | None:
    rows = await datasette.get_database(database).execute(
        "select warc_file, warc_offset from captures where id = ?", [capture_id]
    )
    row = rows.first()
    if row is None:
        return None
    return Markup('<a class="archived-page" href="{}" title="{}">archived page</a>').format(
        capture_path(datasette, row["warc_file"], row["warc_offset"]), capture_id
    )


@hookimpl
def render_cell(row, value, column, table, database, datasette):
    if value is None:
        return None
    if table == "articles" and column == "text":
        return paragraphs_html(value)
    if table == "articles" and column == "capture_id":
        return _capture_link(datasette, database, value)
    if column == "warc_offset" and table != "fetch_errors" and "warc_file" in row.keys():
        return Markup('<a class="archived-page" href="{}">{}</a>').format(
            capture_path(datasette, row["warc_file"], value), value
        )
    if table is None and column == "snippet":
        return highlighted_html(value)
    if table is None and column == "article_id":
        return Markup('<a href="{}">{}</a>').format(datasette.urls.row(database, "articles", value), value)
    return None


def _error(status: int, message: str) -> Response:
    return Response.text(message + "\n", status=status)


async def _find_capture(datasette, warc_file: str, offset: int):
    """(database, capture row) for a capture at this spot, in whichever served store holds it."""
    for db in datasette.databases.values():
        if db.is_memory or not await db.table_exists("captures"):
            continue
        rows = await db.execute(
            "select payload_digest from captures where warc_file = ? and warc_offset = ?",
            [warc_file, offset],
        )
        row = rows.first()
        if row is not None:
            return db, row
    return None, None


def _warc_path(db, warc_file: str) -> Path | None:
    """The file in the store's sibling warc/ directory, closed or still being written."""
    warc_dir = Path(db.path).parent / "warc"
    for name in (warc_file, warc_file + ".open"):
        if (warc_dir / name).is_file():
            return warc_dir / name
    return None


def _read_capture(path: Path, offset: int):
    """The WARC record and its body with chunking and Content-Encoding undone, or an error Response."""
    from archive.warc.body import BodyDecodingError, BodyTooLarge
    from archive.warc.reader import read_record_at

    try:
        record = read_record_at(path, offset)
        body, _ = record.body()  # capped at the crawl's download cap (body.MAX_BODY)
    except BodyTooLarge as exc:
        return None, _error(413, f"the archived body is too large to serve: {exc}")
    except ValueError as exc:  # BodyDecodingError is one too
        kind = "body cannot be decoded" if isinstance(exc, BodyDecodingError) else "record cannot be read"
        return None, _error(500, f"the archived {kind}: {exc}")
    return record, body


async def capture(request, datasette) -> Response:
    warc_file, offset = request.url_vars["warc_file"], int(request.url_vars["offset"])
    db, row = await _find_capture(datasette, warc_file, offset)
    if row is None:  # only spots the store knows as captures are read: no probing of files
        return _error(404, f"no capture at {warc_file}:{offset}")
    path = _warc_path(db, warc_file)
    if path is None:
        return _error(404, f"{warc_file} is not in {Path(db.path).parent / 'warc'} (a copy without WARCs?)")
    record, body = await asyncio.to_thread(_read_capture, path, offset)
    if record is None:
        return body
    if record.type == "revisit":
        # The body is its original's: the first record with that payload, as files are named
        # by time and records follow each other in a file.
        original = (
            await db.execute(
                "select warc_file, warc_offset from captures where payload_digest = ? "
                "order by warc_file, warc_offset limit 1",
                [row["payload_digest"]],
            )
        ).first()
        if original is None or (original["warc_file"], original["warc_offset"]) == (warc_file, offset):
            return _error(404, f"the revisit at {warc_file}:{offset} has no original capture in the store")
        return Response.redirect(capture_path(datasette, original["warc_file"], original["warc_offset"]))
    content_type = record.http_header("Content-Type") or record.mime or "application/octet-stream"
    return Response(body, status=200, headers=dict(CAPTURE_HEADERS), content_type=content_type)


@hookimpl
def register_routes():
    return [(r"^/-/capture/(?P<warc_file>[^/]+)/(?P<offset>[0-9]+)$", capture)]
