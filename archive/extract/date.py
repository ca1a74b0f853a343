"""The publication date: from the publisher's fields, never later than the fetch, never guessed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from htmldate import find_date
from lxml import etree


def _parse_time(value: str) -> datetime | None:
    try:
        return datetime.fromisoformat(value.strip().replace(" ", "T", 1))
    except ValueError:
        return None


def _not_after_fetch(moment: datetime, fetched: datetime | None) -> bool:
    """A page's date may not be later than its fetch; a time without offset may be in any
    zone, so it is allowed up to UTC+14."""
    if fetched is None:
        return True
    if moment.tzinfo is None:
        return moment <= fetched.replace(tzinfo=None) + timedelta(hours=14)
    return moment <= fetched


def choose_published(candidates: list[str | None], fetched_at: str) -> str | None:
    """The first candidate that parses as ISO 8601 and is not after the fetch.

    Full timestamps (JSON-LD ``datePublished``, ``article:published_time``) keep their time
    and offset; a bare day stays a day. Anything else stays unknown (None), never guessed.
    """
    fetched = _parse_time(fetched_at) if fetched_at else None
    if fetched is not None and fetched.tzinfo is None:
        fetched = fetched.replace(tzinfo=UTC)
    for value in candidates:
        moment = _parse_time(value) if value else None
        if moment is None or not _not_after_fetch(moment, fetched):
            continue
        if len(value.strip()) <= 10:
            return moment.date().isoformat()
        return moment.isoformat()
    return None


def is_dated(tree: etree._Element, max_date: str) -> bool:
    """The page's markup carries a date (htmldate without its search through the text,
    which finds some date on nearly any page, listings included)."""
    return find_date(tree, extensive_search=False, max_date=max_date) is not None
