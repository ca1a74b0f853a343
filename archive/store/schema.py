"""What ``news.db`` holds, and the migrations that bring any store to it.

SCHEMA, INDEXES and the full-text index describe today's store; MIGRATIONS, sqlite-utils'
own, get a store there when ``Store`` opens it. They record what they applied in
``_sqlite_migrations``, so opening an up-to-date store changes nothing.

``create_schema`` makes today's store from SCHEMA on a new file, and on a file made before
migrations were recorded adds whatever it lacks. A later change to the schema is made in
SCHEMA and in a new function below it, decorated with ``@MIGRATIONS()`` and named for what
it does. A new store already has the change from SCHEMA when that function runs, so it must
leave such a store as it is: ``add_missing`` does, for new tables, columns and indexes.
"""

from __future__ import annotations

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

SCHEMA: dict[str, tuple[dict, str | tuple[str, ...]]] = {
    "warc_files": (
        {
            "name": str,
            "size": int,
            "records": int,
            "read_to": int,
            "read_at": str,
            "errors": str,
            "path": str,  # where the file was last read from
            "content_key": str,  # what the file is: its size and a hash of its first MB (store/files.py)
            "kind": str,  # warc, warc.gz, arc, arc.gz or wacz, from its bytes
        },
        "name",
    ),
    "captures": (
        {
            "id": str,
            "url": str,
            "status": int,
            "mime": str,
            "fetched_at": str,
            "warc_file": str,
            "warc_offset": int,
            "warc_length": int,
            "payload_digest": str,
            "site": str,
            "record_type": str,  # response, resource or revisit
            "digest_problem": str,  # a WARC digest that matches the record in neither convention
            "refers_to": str,  # a revisit's original capture, when the store holds it
            "not_article": str,  # why the capture is no article (pagetype's reasons); NULL: it is one
            "discovered_by": str,  # how the crawl found the URL: start, feed, sitemap, link, revisit
            "discovered_from": str,  # the feed, sitemap or page it was found on
            # An article capture's article and text: the hash of the text as the store holds it
            # now (cleaned of boilerplate), always one of that article's versions (versions.py)
            "article_id": str,
            "text_hash": str,
        },
        "id",
    ),
    "fetch_errors": (
        {
            "id": str,
            "url": str,
            "site": str,
            "error": str,
            "fetched_at": str,
            "warc_file": str,
            "warc_offset": int,
        },
        "id",
    ),
    "articles": (
        {
            "id": str,
            "url": str,
            "canonical_url": str,
            "claims_canonical": str,  # a canonical URL the page declared on another site (not trusted)
            "site": str,
            "title": str,
            "text": str,
            "author": str,
            "published": str,
            "sitename": str,
            "language": str,
            "description": str,
            "categories": str,
            "tags": str,
            "image": str,
            "word_count": int,
            "first_seen": str,
            "last_seen": str,
            "capture_id": str,
            "text_hash": str,
            "duplicate_of": str,
            "versions": int,  # how many distinct texts the article has had (article_versions)
        },
        "id",
    ),
    # Every distinct text an article has had, oldest first (issue 18): a capture whose title
    # and text equal the previous version's adds none. words_added/removed (in the body) and
    # title_changed compare a version with the one before it (archive/diff.py). Derived from
    # the captures' article_id and text_hash (versions.py), so merge derives them anew.
    "article_versions": (
        {
            "article_id": str,
            "version": int,  # 1, 2, ... by capture time
            "capture_id": str,
            "captured_at": str,
            "title": str,
            "text": str,
            "text_hash": str,
            "word_count": int,
            "words_added": int,
            "words_removed": int,
            "title_changed": int,
        },
        ("article_id", "version"),
    ),
    # Each text's fingerprint for finding copies (copies.py), made once (settle.py).
    "fingerprints": ({"text_hash": str, "params": str, "body_hash": str, "minhash": bytes}, "text_hash"),
    # The paragraphs each article had as extracted, per site: boilerplate.py's model.
    "site_blocks": ({"site": str, "block": str, "article_id": str}, ("site", "block", "article_id")),
    "crawls": (
        {
            "id": str,
            "started": str,
            "finished": str,
            "reason": str,
            "sites": str,
            "requests": int,
            "responses": int,
            "bytes": int,
            "errors": int,
            "known_skipped": int,
            "warc_files": str,
            "site_responses": str,
            "site_errors": str,
            "site_bytes": str,
            "source_errors": str,
        },
        "id",
    ),
}
INDEXES = {
    "captures": [
        ["url"],
        ["warc_file"],
        ["site", "fetched_at"],
        ["payload_digest"],
        ["site", "not_article"],
        ["article_id"],
    ],
    "warc_files": [["content_key"]],
    # published and language: the Datasette table page sorts by the one and facets by the other
    "articles": [
        ["text_hash"],
        ["site", "published"],
        ["first_seen"],
        ["canonical_url"],
        ["published"],
        ["language"],
    ],
    "site_blocks": [["article_id"]],
    "article_versions": [["captured_at"], ["capture_id"]],
}
# sqlite-utils' FTS update trigger re-indexes a row's text on any update; this one only when
# the title or text changes: not when copies are marked, nor for a new capture of the same text.
FTS_UPDATE_TRIGGER = """CREATE TRIGGER [articles_au] AFTER UPDATE OF [title], [text] ON [articles]
WHEN old.[title] IS NOT new.[title] OR old.[text] IS NOT new.[text] BEGIN
  INSERT INTO [articles_fts] ([articles_fts], rowid, [title], [text])
    VALUES('delete', old.rowid, old.[title], old.[text]);
  INSERT INTO [articles_fts] (rowid, [title], [text]) VALUES (new.rowid, new.[title], new.[text]);
END"""
# Whether articles changed since copies and boilerplate were last settled (settle.py). Set
# in the same transaction as the article rows, so a run killed before settling leaves it
# set. Not in SCHEMA: it is this file's own state, nothing to merge or to browse.
SETTLE_STATE = (
    "CREATE TABLE IF NOT EXISTS settle_state (id INTEGER PRIMARY KEY CHECK (id = 1), pending INTEGER)"
)

MIGRATIONS = Migrations("newsarchive")


def add_missing(db: Database) -> None:
    """Create the tables, columns and indexes of SCHEMA and INDEXES that ``db`` lacks."""
    for name, (columns, pk) in SCHEMA.items():
        table = db.table(name)
        if not table.exists():
            table.create(columns, pk=pk)
            continue
        for column, col_type in columns.items():
            if column not in table.columns_dict:
                table.add_column(column, col_type)
    for name, indexes in INDEXES.items():
        for columns in indexes:
            db.table(name).create_index(columns, if_not_exists=True)


@MIGRATIONS()
def create_schema(db: Database) -> None:
    """Today's store, made whole on a new file; a store of an earlier version (one without
    ``_sqlite_migrations``) gains what it lacks and keeps its rows."""
    add_missing(db)
    if not db.table("articles_fts").exists():
        db.table("articles").enable_fts(
            ["title", "text"], create_triggers=True, tokenize="unicode61 remove_diacritics 2"
        )
    trigger = db.execute("SELECT sql FROM sqlite_master WHERE name = 'articles_au'").fetchone()
    if trigger != (FTS_UPDATE_TRIGGER,):  # sqlite-utils' own, made just now or by an old version
        db.execute("DROP TRIGGER IF EXISTS [articles_au]")
        db.execute(FTS_UPDATE_TRIGGER)
    db.execute(SETTLE_STATE)
    db.execute("INSERT OR IGNORE INTO settle_state VALUES (1, 1)")  # a store that lacked it settles once


@MIGRATIONS()
def read_any_warc(db: Database) -> None:
    """Captures say their record type and any digest mismatch (and a revisit its original);
    WARC files are known by their content as well as their name (issue 15)."""
    add_missing(db)


# What a capture's status, record type and media type tell, for captures read before
# not_article existed (pagetype.capture_reason says the same for new ones).
KNOWN_REASONS = """UPDATE captures SET not_article = CASE
  WHEN record_type = 'revisit' THEN 'duplicate'
  WHEN status >= 400 THEN 'error_page'
  WHEN status = 304 THEN 'not_modified'
  WHEN status >= 300 THEN 'redirect'
  WHEN mime IS NOT NULL AND mime NOT IN ('text/html', 'application/xhtml+xml') THEN 'not_html'
END WHERE not_article IS NULL"""


@MIGRATIONS()
def say_why_not_article(db: Database) -> None:
    """Captures say why they are not an article and how the crawl found them (issue 16).
    Those read before get what their status and media type tell; why an HTML page read
    before is no article needs ``extract --rebuild``."""
    add_missing(db)
    db.execute(KNOWN_REASONS)


@MIGRATIONS()
def distrust_foreign_canonicals(db: Database) -> None:
    """Articles say which other site's canonical URL they claimed (issue 17); those read
    before keep the id of their claim until ``extract --rebuild``."""
    add_missing(db)


@MIGRATIONS()
def keep_versions(db: Database) -> None:
    """Every distinct text of an article is kept (issue 18). An article read before starts
    with one version, the text it has; the texts it had before come back with
    ``extract --rebuild``, which reads every capture again."""
    add_missing(db)
    db.execute(
        """INSERT OR IGNORE INTO article_versions (article_id, version, capture_id, captured_at, title,
             text, text_hash, word_count, words_added, words_removed, title_changed)
           SELECT a.id, 1, a.capture_id, coalesce(c.fetched_at, a.last_seen), a.title, a.text,
             a.text_hash, a.word_count, 0, 0, 0
           FROM articles a LEFT JOIN captures c ON c.id = a.capture_id"""
    )
    db.execute("UPDATE articles SET versions = 1 WHERE versions IS NULL")
    db.execute(  # the capture of that version, as versions.py marks the captures it reads
        """UPDATE captures SET article_id = a.id, text_hash = a.text_hash FROM articles a
           WHERE captures.id = a.capture_id AND captures.article_id IS NULL"""
    )
