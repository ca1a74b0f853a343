"""A served store whose articles have several versions (issue 18), for the Datasette views.

The session's store (tests/helpers/serve.py) is copied, never changed in place, and one
article is given three versions the way extract records them: a rewritten headline and a
paragraph added, then a correction with a hostile title. words_added/removed and
title_changed are worked out by ``archive.diff`` as the store does.
"""

from __future__ import annotations

import hashlib
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

from archive.diff import word_changes
from tests.helpers.search import copy_store

ARTICLE_ID = "v3rs10n5a2c1e0d9"
HOSTILE_VERSION_TITLE = '<script>alert("v3")</script> Talks end & <b>deal</b> "signed"'
TITLES = ["Velmora talks open in Tarkesh", "Velmora talks end without a deal", HOSTILE_VERSION_TITLE]
OPENING = "The ministers met on Monday in Tarkesh to discuss the velmora."
TEXTS = [
    f"{TITLES[0]}\n\n{OPENING}\n\nThey agreed to meet again next month.",
    f"{TITLES[1]}\n\n{OPENING}\n\nThey agreed on nothing and left early.\n\n"
    "A spokesman said the talks would resume in spring.",
    f"{TITLES[2]}\n\nThe ministers met on Tuesday in Tarkesh to discuss the velmora.\n\n"
    "They agreed on nothing and left early.\n\nA spokesman said the talks would resume in spring.\n\n"
    "Correction: an earlier version of this article gave the wrong day. <img src=x onerror=alert(1)>",
]
DELETED_WORD, INSERTED_WORD = "Monday", "Tuesday"  # the correction, from version 2 to 3


def _warc_date(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def store_with_versions(serve_store: Path, data: Path) -> Path:
    """A copy of ``serve_store`` in ``data`` (its WARCs linked, not copied) with one article of
    three versions, the latest two days ago; returns ``data``."""
    copy_store(serve_store, data)
    (data / "warc").symlink_to(serve_store / "warc")
    copy = sqlite3.connect(data / "news.db")
    captures = [row[0] for row in copy.execute("SELECT id FROM captures WHERE status = 200 ORDER BY id")][:3]
    now = datetime.now(UTC).replace(microsecond=0)
    moments = [now - timedelta(days=40), now - timedelta(days=3), now - timedelta(days=2)]
    rows = zip(TITLES, TEXTS, captures, moments, strict=True)
    for number, (title, text, capture, moment) in enumerate(rows, start=1):
        previous = TEXTS[number - 2] if number > 1 else ""
        added, removed = word_changes(previous.partition("\n\n")[2], text.partition("\n\n")[2])
        copy.execute(
            "INSERT INTO article_versions (article_id, version, capture_id, captured_at, title, text,"
            " text_hash, word_count, words_added, words_removed, title_changed)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                ARTICLE_ID,
                number,
                capture,
                _warc_date(moment),
                title,
                text,
                hashlib.sha256(text.encode()).hexdigest(),
                len(text.split()),
                added if previous else 0,
                removed if previous else 0,
                int(bool(previous) and TITLES[number - 2] != title),
            ),
        )
    copy.execute(
        "INSERT INTO articles (id, url, canonical_url, site, title, text, published, first_seen, last_seen,"
        " capture_id, versions, word_count) VALUES (?, ?, ?, 'versions', ?, ?, ?, ?, ?, ?, 3, ?)",
        (
            ARTICLE_ID,
            f"http://127.0.0.1:1/{ARTICLE_ID}",
            f"http://127.0.0.1:1/{ARTICLE_ID}",
            TITLES[-1],
            TEXTS[-1],
            _warc_date(moments[0]),
            _warc_date(moments[0]),
            _warc_date(moments[-1]),
            captures[-1],
            len(TEXTS[-1].split()),
        ),
    )
    copy.commit()
    copy.close()
    return data
