"""Article versions: every distinct text an article has had (``article_versions``, issue 18).

Each article capture says which article it made and the hash of its text as the store holds
that text now (``captures.article_id``, ``captures.text_hash``). An article's versions are
the collapse of its captures' texts in time order: consecutive equal texts make one
version, dated by the earliest of them. They are derived again from all the article's
captures whenever one is added, so they do not depend on the order records are read in
(several WARC files, a fleet's interleaved files, ``--rebuild``, ``merge``). Every hash a
capture holds is the hash of one of the article's versions, so the version rows are also
where the texts are found: a text that comes back is known by its hash, and no old text
is kept twice.

Site boilerplate (boilerplate.py) is learned after the fact and cleans articles in the
settle pass; ``clean_versions`` applies the same model to the version texts afterwards and
collapses again, so a page whose only change is a house ad adds no version.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from datetime import UTC, datetime

from archive.diff import word_changes
from archive.document import text_hash, word_count
from archive.store.boilerplate import clean_document, learned
from archive.store.db import Store
from archive.store.settle import settle
from archive.store.timings import TIMINGS
from archive.warc.fields import parse_warc_date

COLUMNS = (
    "article_id",
    "version",
    "capture_id",
    "captured_at",
    "title",
    "text",
    "text_hash",
    "word_count",
    "words_added",
    "words_removed",
    "title_changed",
)
INSERT = f"INSERT INTO article_versions ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))})"
Text = tuple[str, str]  # (title, text) of a version, by its text hash
PAGE = 500  # articles re-derived per query


def _when(value: str) -> datetime:
    """A capture time for ordering: WARC-Dates may carry fractions of a second, which their
    strings do not sort by; an unreadable one sorts first (the id then orders)."""
    try:
        return parse_warc_date(value)
    except (AttributeError, ValueError):
        return datetime.min.replace(tzinfo=UTC)


def _body(text: str) -> str:
    """A document without its headline: words added and removed are counted in the body,
    the headline's change is ``title_changed`` (as the Datasette diff view tells it)."""
    return text.partition("\n\n")[2]


def body_words(text: str) -> int:
    """Words of a document's body (the headline not counted), as ``articles.word_count``."""
    return word_count(_body(text))


def record_captures(store: Store, articles: Iterable[dict]) -> None:
    """Article rows just stored (one per capture, ``capture_id`` and ``last_seen`` its own):
    note each capture's article and text, and derive those articles' versions again."""
    texts: dict[str, dict[str, Text]] = {}
    words: dict[str, int] = {}
    marks = []
    for row in articles:
        texts.setdefault(row["id"], {})[row["text_hash"]] = (row["title"], row["text"])
        if row.get("word_count") is not None:  # extract counted the body's words: body_words(text)
            words[row["text_hash"]] = row["word_count"]
        marks.append((row["id"], row["text_hash"], row["capture_id"]))
    if not marks:
        return
    with TIMINGS.stage("store: versions"):
        store.db.conn.executemany("UPDATE captures SET article_id = ?, text_hash = ? WHERE id = ?", marks)
        derive(store, texts, words)


def _pages(ids: list[str]) -> Iterator[list[str]]:
    for start in range(0, len(ids), PAGE):
        yield ids[start : start + PAGE]


def derive(
    store: Store, new_texts: Mapping[str, Mapping[str, Text]], words: Mapping[str, int] | None = None
) -> int:
    """Derive the versions of the articles in ``new_texts`` (id -> texts by hash not, or not
    yet, among its versions) from all their captures; returns how many articles changed.

    ``words``: texts' body word counts already known, by text hash (an article row's
    ``word_count`` is ``body_words`` of its text); the others are counted here.
    """
    words = words or {}
    changed = 0
    for ids in _pages(sorted(new_texts)):
        marks = ",".join("?" * len(ids))
        captures: dict[str, list[tuple[datetime, str, str, str]]] = {}
        for article_id, capture_id, fetched_at, digest in store.db.execute(
            f"SELECT article_id, id, fetched_at, text_hash FROM captures WHERE article_id IN ({marks})", ids
        ):
            captures.setdefault(article_id, []).append((_when(fetched_at), capture_id, fetched_at, digest))
        old_rows: dict[str, list[tuple]] = {}
        known: dict[str, dict[str, Text]] = {}  # the texts of the versions held, by hash
        for row in store.db.execute(
            f"SELECT {', '.join(COLUMNS)} FROM article_versions WHERE article_id IN ({marks})"
            " ORDER BY article_id, version",
            ids,
        ):
            old_rows.setdefault(row[0], []).append(tuple(row))
            known.setdefault(row[0], {}).setdefault(row[6], (row[4], row[5]))
        # Rows go in with one executemany for a run of articles, deleted first where the
        # article had some: the same statements, in the same order, as one article at a time.
        inserts: list[tuple] = []
        counts: list[tuple[int, str, int]] = []
        for article_id in ids:
            texts = {**new_texts[article_id], **known.get(article_id, {})}
            old = old_rows.get(article_id, [])
            rows = _versions(article_id, sorted(captures.get(article_id, [])), texts, old, words)
            if rows != old:
                changed += 1
                if old:
                    store.db.conn.executemany(INSERT, inserts)
                    inserts = []
                    store.db.execute("DELETE FROM article_versions WHERE article_id = ?", [article_id])
                inserts += rows
            counts.append((len(rows), article_id, len(rows)))
        store.db.conn.executemany(INSERT, inserts)
        store.db.conn.executemany(  # also when a merged row brought its own store's count
            "UPDATE articles SET versions = ? WHERE id = ? AND versions IS NOT ?", counts
        )
        _seen_since(store, ids)
    return changed


def _versions(
    article_id: str,
    captures: list[tuple[datetime, str, str, str]],
    texts: dict[str, Text],
    old: list[tuple],
    words: Mapping[str, int],
) -> list[tuple]:
    """The version rows of one article from its captures in time order (a capture whose text
    is unknown, which only a damaged store can hold, is left out)."""
    # A diff already worked out is not worked out again (SequenceMatcher is the costly part).
    diffs = {(a[6], b[6]): (b[8], b[9]) for a, b in zip(old, old[1:], strict=False)}
    rows: list[tuple] = []
    for _, capture_id, fetched_at, digest in captures:
        if digest not in texts or (rows and rows[-1][6] == digest):
            continue
        title, text = texts[digest]
        if rows:
            before = rows[-1]
            added, removed = diffs.get((before[6], digest)) or word_changes(_body(before[5]), _body(text))
            title_changed = int(before[4] != title)
        else:
            added = removed = title_changed = 0
        rows.append(
            (
                article_id,
                len(rows) + 1,
                capture_id,
                fetched_at,
                title,
                text,
                digest,
                words[digest] if digest in words else body_words(text),
                added,
                removed,
                title_changed,
            )
        )
    return rows


def _seen_since(store: Store, ids: list[str]) -> None:
    """An article's ``last_seen`` also counts the 304s and revisit records of its URLs read
    before it (revisit.py moves it for those read after)."""
    marks = ",".join("?" * len(ids))
    store.db.execute(
        f"""UPDATE articles SET last_seen = seen.at FROM (
              SELECT a.article_id AS id, max(c.fetched_at) AS at
              FROM (SELECT DISTINCT article_id, url FROM captures WHERE article_id IN ({marks})) a
              JOIN captures c ON c.url = a.url AND (c.status = 304 OR c.record_type = 'revisit')
              GROUP BY a.article_id) AS seen
            WHERE articles.id = seen.id AND articles.last_seen < seen.at""",
        ids,
    )


def clean_versions(store: Store) -> int:
    """Clean the version texts with the site boilerplate model as the settle pass cleans
    articles, and collapse again where cleaning made texts equal; returns how many
    articles' versions changed."""
    cleaned: dict[str, dict[str, Text]] = {}
    with TIMINGS.stage("boilerplate: cleaning versions"):
        for site, boilerplate in learned(store).items():
            marks = ",".join("?" * len(boilerplate))
            rows = store.db.execute(
                f"""
                SELECT v.article_id, v.title, v.text, v.text_hash FROM article_versions v
                JOIN articles a ON a.id = v.article_id WHERE a.site = ? AND v.article_id IN (
                    SELECT article_id FROM site_blocks WHERE site = ? AND block IN ({marks}))
                """,
                [site, site, *boilerplate],
            ).fetchall()
            for article_id, title, text, digest in rows:
                clean = clean_document(text, boilerplate)
                if clean == text:
                    continue
                new = text_hash(clean)
                store.db.execute(
                    "UPDATE captures SET text_hash = ? WHERE article_id = ? AND text_hash = ?",
                    [new, article_id, digest],
                )
                cleaned.setdefault(article_id, {})[new] = (title, clean)
        return derive(store, cleaned) if cleaned else 0


def settle_all(store: Store) -> int:
    """The settle pass (copies, boilerplate), then the version texts cleaned with the same
    model: skipped, as settle is, when no article changed. For extract and merge alike;
    returns how many articles are copies."""
    pending = store.settle_pending
    duplicates = settle(store)
    if pending:
        clean_versions(store)
    return duplicates
