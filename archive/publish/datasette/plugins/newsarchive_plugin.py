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

The articles table page reads as a list (title, site, published, a passage) rather than a
wide table (``_layout=table``, ``_col`` or ``_nocol`` give the table back); a ``_search``
there is ranked by relevance (FTS5 bm25, a title word weighing ten text words) with the
matching passage highlighted, under Datasette's own filters, facets and counts
(``_order=newest``, or another sort, gives Datasette's own order). Datasette
0.65 sorts a table page only by a column, so the ranked rows come from this plugin's own
query (``extra_template_vars``), built from the same filters Datasette applies.

An article's page lists its versions (``article_versions``), and
``/-/versions/<article id>?from=1&to=3`` shows what changed between two of them: the
title, and the words added and removed inline (``<ins>``/``<del>``, no script).
"""

from __future__ import annotations

import asyncio
import urllib.parse
from contextlib import closing
from pathlib import Path
from urllib.parse import quote

from datasette import hookimpl
from datasette.database import QueryInterrupted
from datasette.facets import Facet
from datasette.utils import (
    escape_sqlite,
    path_with_added_args,
    path_with_removed_args,
    path_with_replaced_args,
    tilde_decode,
    tilde_encode,
)
from datasette.utils.asgi import Response
from markupsafe import Markup, escape

ARCHIVED_PAGE_POLICY = "sandbox; default-src 'none'; img-src data:"
CAPTURE_HEADERS = {
    "Content-Security-Policy": ARCHIVED_PAGE_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "private, max-age=3600",
}
# The diff view is our own HTML around archived text: it needs no script and loads nothing
# from elsewhere, so it says so (Datasette's menus work without script).
DIFF_HEADERS = {
    "Content-Security-Policy": "script-src 'none'; object-src 'none'; base-uri 'none'; form-action 'self'",
    "X-Content-Type-Options": "nosniff",
}
HIGHLIGHT_OPEN, HIGHLIGHT_CLOSE = "<mark>", "</mark>"  # what the search query's snippet() puts around hits
TITLE_WEIGHT, TEXT_WEIGHT = 10.0, 1.0  # bm25 column weights, as in the canned *Search articles* query
PASSAGE_TOKENS = 24  # words of context snippet() gives around the hits
LEAD_CHARS = 240  # the passage shown for an article when nothing is searched
WIDE_LAYOUT_ARGS = ("_col", "_nocol")  # the user picked columns: give Datasette's own table


def capture_path(datasette, warc_file: str, warc_offset: int) -> str:
    return datasette.urls.path(f"/-/capture/{quote(warc_file, safe='')}/{warc_offset}")


def versions_path(datasette, article_id: str, old: int | None = None, new: int | None = None) -> str:
    query = "" if old is None else "?" + urllib.parse.urlencode({"from": old, "to": new})
    return datasette.urls.path(f"/-/versions/{tilde_encode(article_id)}{query}")


def article_path(datasette, database: str, article_id: str) -> str:
    return datasette.urls.row(database, "articles", tilde_encode(article_id))


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


def _after_headline(snippet: str, title: str) -> str:
    """A snippet that starts with the article's headline (the text begins with it) without it:
    the list shows the title already. Markers are skipped while the headline is matched."""
    at = matched = 0
    while matched < len(title) and at < len(snippet):
        marker = next((m for m in (HIGHLIGHT_OPEN, HIGHLIGHT_CLOSE) if snippet.startswith(m, at)), None)
        if marker:
            at += len(marker)
        elif snippet[at] == title[matched]:
            at, matched = at + 1, matched + 1
        else:
            return snippet
    rest = snippet[at:]
    rest = rest[len(HIGHLIGHT_CLOSE) :] if rest.startswith(HIGHLIGHT_CLOSE) else rest
    return rest.strip() or snippet


def lead_passage(text: str | None, limit: int = LEAD_CHARS) -> str:
    """The start of an article's body (its headline left out), cut at a word: what a list shows."""
    body = " ".join((text or "").partition("\n\n")[2].split())
    if len(body) <= limit:
        return body
    return body[:limit].rsplit(" ", 1)[0] + " …"


def _archived_path(datasette, row) -> str | None:
    """The archived-page path of a row with ``warc_file`` and ``warc_offset`` (None without)."""
    return capture_path(datasette, row["warc_file"], row["warc_offset"]) if row["warc_file"] else None


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
    if table in ("articles", "article_versions") and column == "capture_id":
        return _capture_link(datasette, database, value)
    if column == "warc_offset" and table != "fetch_errors" and "warc_file" in row.keys():
        return Markup('<a class="archived-page" href="{}">{}</a>').format(
            capture_path(datasette, row["warc_file"], value), value
        )
    if table is None and column == "snippet":
        return highlighted_html(value)
    if table is None and column == "article_id":
        return Markup('<a href="{}">{}</a>').format(article_path(datasette, database, value), value)
    if table is None and column == "what_changed" and "last_version" in row.keys():
        # the changed-articles query: from the version before the period to the latest
        return Markup('<a class="diff-link" href="{}">what changed</a>').format(
            versions_path(datasette, value, row["from_version"], row["last_version"])
        )
    return None


# --- The articles page: a list to read, search ranked by relevance -------------------------


class MonthFacet(Facet):
    """Counts by month (``YYYY-MM`` of an ISO date), newest first; a month selects
    ``<column>__startswith=YYYY-MM``. Datasette has a day facet only, too fine for a year of news."""

    type = "month"

    async def facet_results(self):
        results, timed_out = [], []
        args = dict(self.get_querystring_pairs())
        size = self.get_facet_size()
        for source_and_config in self.get_configs():
            config = source_and_config["config"]
            column = config.get("column") or config["simple"]
            month = f"substr({escape_sqlite(column)}, 1, 7)"
            sql = (
                f"select {month} as value, count(*) as count from ({self.sql}) "
                f"where {escape_sqlite(column)} glob '[0-9][0-9][0-9][0-9]-[0-9][0-9]*' "
                f"group by value order by value desc limit {size + 1}"
            )
            try:
                rows = await self.ds.execute(
                    self.database,
                    sql,
                    self.params,
                    truncate=False,
                    custom_time_limit=self.ds.setting("facet_time_limit_ms"),
                )
            except QueryInterrupted:  # the facet timed out: the page still shows
                timed_out.append(column)
                continue
            key = f"{column}__startswith"
            values = []
            for row in rows.rows[:size]:
                selected = args.get(key) == row["value"]
                toggle = (
                    path_with_removed_args(self.request, {key: row["value"]})
                    if selected
                    else path_with_added_args(self.request, {key: row["value"]})
                )
                values.append(
                    {
                        "value": row["value"],
                        "label": row["value"],
                        "count": row["count"],
                        "toggle_url": self.ds.absolute_url(self.request, toggle),
                        "selected": selected,
                    }
                )
            results.append(
                {
                    "name": column,
                    "type": self.type,
                    "results": values,
                    "hideable": source_and_config["source"] != "metadata",
                    "toggle_url": path_with_removed_args(self.request, {"_facet_month": column}),
                    "truncated": len(rows.rows) > size,
                }
            )
        return results, timed_out


@hookimpl
def register_facet_classes():
    return [MonthFacet]


def _page_size(datasette, request, table_metadata: dict) -> int:
    size = request.args.get("_size") or table_metadata.get("size") or datasette.setting("default_page_size")
    maximum = datasette.setting("max_returned_rows")
    if size == "max":
        return maximum
    try:
        return max(1, min(int(size), maximum))
    except ValueError:
        return int(table_metadata.get("size") or datasette.setting("default_page_size"))


async def _filters_where(datasette, database: str, table: str, request) -> tuple[list[str], dict, str]:
    """The where clauses, parameters and description (``where site = "rss"``) of Datasette's
    table page for this request: column filters, ``_search``, ``_where``."""
    from datasette.filters import Filters
    from datasette.plugins import pm
    from datasette.utils import await_me_maybe

    pairs = [
        (key, value)
        for key in request.args
        if not (key.startswith("_") and "__" not in key)
        for value in request.args.getlist(key)
    ]
    filters = Filters(sorted(pairs))
    where, params = filters.build_where_clauses(table)
    described = []
    hooks = pm.hook.filters_from_request(request=request, table=table, database=database, datasette=datasette)
    for hook in hooks:
        arguments = await await_me_maybe(hook)
        if arguments:
            where.extend(arguments.where_clauses)
            params.update(arguments.params)
            described.extend(arguments.human_descriptions)
    return where, params, filters.human_description_en(extra=described)


async def ranked_search(datasette, database: str, request) -> tuple[list[dict], str]:
    """The page's best matches for ``_search`` by bm25 (titles weighted), with the passage,
    under the same filters as Datasette's own rows (so its count and facets describe them),
    and what the page heading says of them."""
    table_metadata = datasette.table_metadata(database, "articles")
    where, params, described = await _filters_where(datasette, database, "articles", request)
    mode = request.args.get("_searchmode") or table_metadata.get("searchmode")
    match = ":search" if mode == "raw" else "escape_fts(:search)"
    size = _page_size(datasette, request, table_metadata)
    sql = f"""select a.id, a.title, a.site, a.published, c.warc_file, c.warc_offset,
  highlight(articles_fts, 0, '{HIGHLIGHT_OPEN}', '{HIGHLIGHT_CLOSE}') as marked_title,
  snippet(articles_fts, 1, '{HIGHLIGHT_OPEN}', '{HIGHLIGHT_CLOSE}', ' … ', {PASSAGE_TOKENS}) as passage
from articles_fts
join (select rowid as article_rowid, id, title, site, published, capture_id from articles
      {"where " + " and ".join(where) if where else ""}) as a on a.article_rowid = articles_fts.rowid
left join captures c on c.id = a.capture_id
where articles_fts match {match}
order by bm25(articles_fts, {TITLE_WEIGHT}, {TEXT_WEIGHT}), a.id
limit {size}"""
    rows = await datasette.get_database(database).execute(sql, params)
    ranked = [
        {
            "href": article_path(datasette, database, row["id"]),
            "title": highlighted_html(row["marked_title"] or row["id"]),
            "site": row["site"],
            "published": (row["published"] or "")[:10],
            "passage": highlighted_html(_after_headline(row["passage"] or "", row["title"] or "")),
            "archived": _archived_path(datasette, row),
        }
        for row in rows
    ]
    return ranked, f"{described}, best matches first"


def _articles_page_vars(datasette, database: str, request) -> dict:
    """What the articles list template (``_table-news-articles.html``) needs besides Datasette's rows."""
    args = request.args
    wide = any(arg in args for arg in WIDE_LAYOUT_ARGS) or args.get("_layout") == "table"
    # Datasette's search form sends the table's default sort back (_sort_desc=published): that
    # is still "no order asked for"; another sort, or _order=newest, is one.
    default_sort = datasette.table_metadata(database, "articles").get("sort_desc")
    by_relevance = (
        "_search" in args
        and args.get("_order") != "newest"
        and not args.get("_sort")
        and args.get("_sort_desc") in (None, "", default_sort)
    )

    async def inner():
        page = {
            "reading_list": not wide,
            "lead_passage": lead_passage,
            "article_href": lambda article_id: article_path(datasette, database, article_id),
            "wide_table_url": path_with_added_args(request, {"_layout": "table"}),
            "reading_list_url": path_with_removed_args(request, {"_layout": "table"}),
            "ranked": None,
        }
        if not (by_relevance and not wide):
            return {"articles_page": page}
        page["ranked"], heading = await ranked_search(datasette, database, request)
        page["by_date_url"] = path_with_added_args(request, {"_order": "newest"})
        size = _page_size(datasette, request, datasette.table_metadata(database, "articles"))
        if len(page["ranked"]) == size < datasette.setting("max_returned_rows"):
            more = min(size * 2, datasette.setting("max_returned_rows"))
            page["more_url"] = path_with_replaced_args(request, {"_size": more})
        # Datasette's heading would say "sorted by published descending": it is not
        return {"articles_page": page, "human_description_en": heading}

    return inner


# --- Versions: an article's page lists them, /-/versions/<id> shows what changed ------------


async def _versions(db, article_id: str) -> list[dict]:
    rows = await db.execute(
        """select v.version, v.captured_at, v.title, v.word_count, v.words_added, v.words_removed,
             v.title_changed, v.capture_id, c.warc_file, c.warc_offset
           from article_versions v left join captures c on c.id = v.capture_id
           where v.article_id = ? order by v.version""",
        [article_id],
    )
    return [dict(row) for row in rows]


def _article_versions_vars(datasette, database: str, request) -> dict:
    """The row page's list of versions, each with a link to what changed from the one before."""

    async def inner():
        db = datasette.get_database(database)
        if not await db.table_exists("article_versions"):
            return {"article_versions": []}
        article_id = tilde_decode(request.url_vars["pks"])
        versions = await _versions(db, article_id)
        for previous, version in zip([None, *versions], versions, strict=False):
            version["diff"] = (
                versions_path(datasette, article_id, previous["version"], version["version"])
                if previous
                else None
            )
            version["archived"] = _archived_path(datasette, version)
        first_to_last = (
            versions_path(datasette, article_id, versions[0]["version"], versions[-1]["version"])
            if len(versions) > 2
            else None
        )
        return {"article_versions": versions, "first_to_last_diff": first_to_last}

    return inner


@hookimpl
def extra_template_vars(template, database, table, view_name, request, datasette):
    if request is None or table not in ("articles",):
        return None
    if view_name == "table":
        return _articles_page_vars(datasette, database, request)
    if view_name == "row":
        return _article_versions_vars(datasette, database, request)
    return None


def _coalesced(paragraph) -> list[tuple[str, str]]:
    """The pieces with changes that only spaces separate merged into one deletion and one
    insertion: "<del>to meet again</del><ins>on nothing</ins>" reads better than word
    against word. Presentation only: the words are archive.diff's."""
    merged: list[tuple[str, str]] = []
    deleted, inserted = [], []
    for index, piece in enumerate(paragraph):
        between_changes = (
            piece.op == "equal"
            and not piece.text.strip()
            and (deleted or inserted)
            and index + 1 < len(paragraph)
            and paragraph[index + 1].op != "equal"
        )
        if piece.op == "delete" or between_changes:
            deleted.append(piece.text)
        if piece.op == "insert" or between_changes:
            inserted.append(piece.text)
        if piece.op == "equal" and not between_changes:
            if any(t.strip() for t in deleted):
                merged.append(("delete", "".join(deleted)))
            if any(t.strip() for t in inserted):
                merged.append(("insert", "".join(inserted)))
            deleted, inserted = [], []
            merged.append(("equal", piece.text))
    if any(t.strip() for t in deleted):
        merged.append(("delete", "".join(deleted)))
    if any(t.strip() for t in inserted):
        merged.append(("insert", "".join(inserted)))
    return merged


def pieces_html(paragraph) -> Markup:
    """One paragraph of ``archive.diff`` pieces: unchanged text, <ins> added, <del> removed."""
    tags = {"equal": "{}", "insert": "<ins>{}</ins>", "delete": "<del>{}</del>"}
    return Markup("").join(Markup(tags[op]).format(text) for op, text in _coalesced(paragraph))


def diff_html(old: str, new: str) -> list[dict]:
    """The paragraphs of two texts merged, as HTML, each saying whether it was added, removed,
    edited or kept whole (a class the style sheet marks in the margin)."""
    from archive.diff import diff_paragraphs

    paragraphs = []
    for paragraph in diff_paragraphs(old, new):
        ops = {piece.op for piece in paragraph}
        kind = {
            frozenset({"insert"}): "added",
            frozenset({"delete"}): "removed",
            frozenset({"equal"}): "kept",
        }
        kind = kind.get(frozenset(ops), "edited")
        paragraphs.append({"kind": kind, "html": pieces_html(paragraph)})
    return paragraphs


async def _find_store(datasette, table: str):
    """The first served store that has ``table`` (news.db; not the in-memory one)."""
    for db in datasette.databases.values():
        if not db.is_memory and await db.table_exists(table):
            return db
    return None


def _chosen_versions(args, numbers: list[int]) -> tuple[int, int] | None:
    """(from, to) asked for: ``to`` defaults to the latest, ``from`` to the one before ``to``;
    None when either is not a version of the article."""
    try:
        new = int(args.get("to") or numbers[-1])
        old = int(args.get("from") or max((n for n in numbers if n < new), default=new))
    except ValueError:
        return None
    return (old, new) if old in numbers and new in numbers else None


async def versions_view(request, datasette) -> Response:
    """What changed between two versions of an article: the title, then the body's paragraphs
    with the words added and removed inline, everything escaped."""
    from archive.diff import diff_paragraphs, word_changes

    article_id = tilde_decode(request.url_vars["article_id"])
    db = await _find_store(datasette, "article_versions")
    if db is None:
        return _error(404, "this store keeps no versions (article_versions): run `newsarchive extract`")
    versions = {v["version"]: v for v in await _versions(db, article_id)}
    if not versions:
        return _error(404, f"no versions of article {article_id}")
    chosen = _chosen_versions(request.args, sorted(versions))
    if chosen is None:
        numbers = ", ".join(map(str, versions))
        return _error(400, f"from and to must be versions of article {article_id}: {numbers}")
    old, new = (versions[number] for number in chosen)
    texts = {
        row["version"]: row["text"] or ""
        for row in await db.execute(
            "select version, text from article_versions where article_id = ? and version in (?, ?)",
            [article_id, *chosen],
        )
    }
    # the text starts with the headline, which is the title: the body is what follows
    body_old, body_new = (texts[number].partition("\n\n")[2] for number in chosen)
    added, removed = word_changes(body_old, body_new)
    article = (await db.execute("select title, site, url from articles where id = ?", [article_id])).first()
    for version in versions.values():
        version["archived"] = _archived_path(datasette, version)
    title_pieces = diff_paragraphs(old["title"] or "", new["title"] or "")
    context = {
        "article_id": article_id,
        "database": db.name,
        "article": dict(article) if article else {"title": new["title"], "site": None, "url": None},
        "article_href": article_path(datasette, db.name, article_id),
        "versions": list(versions.values()),
        "old": old,
        "new": new,
        "title_changed": (old["title"] or "") != (new["title"] or ""),
        "title_html": Markup("").join(pieces_html(paragraph) for paragraph in title_pieces),
        "paragraphs": diff_html(body_old, body_new),
        "words_added": added,
        "words_removed": removed,
        "self_path": datasette.urls.path(f"/-/versions/{tilde_encode(article_id)}"),
    }
    html = await datasette.render_template("newsarchive_versions.html", context, request=request)
    return Response.html(html, headers=dict(DIFF_HEADERS))


# --- The archived page ---------------------------------------------------------------------


def _error(status: int, message: str) -> Response:
    return Response.text(message + "\n", status=status)


async def _find_capture(datasette, warc_file: str, offset: int):
    """(database, capture row) for a capture at this spot, in whichever served store holds it."""
    for db in datasette.databases.values():
        if db.is_memory or not await db.table_exists("captures"):
            continue
        rows = await db.execute(
            "select payload_digest, digest_problem from captures where warc_file = ? and warc_offset = ?",
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


def _read_capture(path: Path, offset: int, known_problem: str | None = None):
    """The WARC record and its body with chunking and Content-Encoding undone, or an error Response.

    The record's digests are checked: a record that no longer matches them (and matched when
    extract read it: ``known_problem`` is what extract found) is damaged, and says so rather
    than serving what a flipped byte made of it."""
    from archive.warc.body import BodyDecodingError, BodyTooLarge
    from archive.warc.reader import iter_records

    where = f"{path.name}:{offset}"
    errors: list = []
    try:
        # read_record_at, but with the digests checked: the first record from offset is the one
        with closing(iter_records(path, offset, errors, digests=True)) as records:
            record = next(records, None)
    except (OSError, ValueError) as exc:
        return None, _error(502, f"the record at {where} is damaged: {exc}")
    if record is None or record.offset != offset:
        reason = errors[0].message if errors else "no record starts there"
        return None, _error(502, f"the record at {where} is damaged: {reason}")
    if record.digest_problem and record.digest_problem != known_problem:
        return None, _error(502, f"the record at {where} is damaged: {record.digest_problem}")
    try:
        body, _ = record.body()  # capped at the crawl's download cap (body.MAX_BODY)
    except BodyTooLarge as exc:
        return None, _error(413, f"the archived body is too large to serve: {exc}")
    except BodyDecodingError as exc:
        return None, _error(500, f"the archived body cannot be decoded: {exc}")
    return record, body


async def capture(request, datasette) -> Response:
    warc_file, offset = request.url_vars["warc_file"], int(request.url_vars["offset"])
    db, row = await _find_capture(datasette, warc_file, offset)
    if row is None:  # only spots the store knows as captures are read: no probing of files
        return _error(404, f"no capture at {warc_file}:{offset}")
    path = _warc_path(db, warc_file)
    if path is None:
        return _error(404, f"{warc_file} is not in {Path(db.path).parent / 'warc'} (a copy without WARCs?)")
    record, body = await asyncio.to_thread(_read_capture, path, offset, row["digest_problem"])
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
    return [
        (r"^/-/capture/(?P<warc_file>[^/]+)/(?P<offset>[0-9]+)$", capture),
        (r"^/-/versions/(?P<article_id>[^/]+)$", versions_view),
    ]
