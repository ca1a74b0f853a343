"""Looking again at archived articles on a schedule (a site's ``revisit`` steps).

Articles are edited after publication, mostly in their first hours, so each one is fetched
again at fixed steps after it was first seen (``revisit = ["2h", "1d", "3d", "7d"]``) and
never after the last. The schedule keeps no state of its own: an article is due when a step
has passed and its latest capture (of any status: a 304 confirms it unchanged) is older
than that step, both read from the store and the WARC files, so it survives cron runs and
is the same for every process that reads the same archive.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from archive.warc.fields import parse_warc_date

if TYPE_CHECKING:  # the site list loads this module; the archive's reader is for the crawl only
    from archive.store.lookup import ArchiveIndex

DURATION = re.compile(r"([1-9][0-9]{0,5})([mhdw])")  # fullmatch: "90m", "2h", "3d", "1w"
UNITS = {"m": timedelta(minutes=1), "h": timedelta(hours=1), "d": timedelta(days=1), "w": timedelta(weeks=1)}
MAX_STEP = timedelta(days=36_500)  # a century: the most a datetime around "now" is safe with


def parse_duration(text: object) -> timedelta:
    """``"2h"`` -> 2 hours (units m, h, d, w); ``ValueError`` saying what is wrong."""
    match = DURATION.fullmatch(text) if isinstance(text, str) else None
    if match is None:
        raise ValueError(f'{text!r} is not a duration like "90m", "2h", "3d" or "1w"')
    step = int(match[1]) * UNITS[match[2]]
    if step > MAX_STEP:
        raise ValueError(f"{text!r} is longer than {MAX_STEP.days:,} days")
    return step


def parse_steps(value: object) -> tuple[timedelta, ...]:
    """A ``revisit`` list: durations, strictly increasing; ``ValueError`` saying what is wrong."""
    if not isinstance(value, list):
        raise ValueError(f'{value!r} is not a list of durations, e.g. ["2h", "1d", "3d", "7d"]')
    steps = tuple(parse_duration(v) for v in value)
    for before, after, text in zip(steps, steps[1:], value[1:], strict=False):
        if after <= before:
            raise ValueError(f"steps must be strictly increasing: {text!r} is not after the step before")
    return steps


def due_since(
    first_seen: datetime, latest: datetime | None, steps: Sequence[timedelta], now: datetime
) -> datetime | None:
    """The latest step time (``first_seen + step``) that has passed with no capture since it,
    or None: the article is not due. ``latest``: its latest capture, of any status."""
    passed = [first_seen + step for step in steps if first_seen + step <= now]
    if not passed or (latest is not None and latest >= passed[-1]):
        return None
    return passed[-1]


def due_revisits(
    index: ArchiveIndex, site: str, steps: Sequence[timedelta], now: datetime
) -> Iterator[tuple[str, datetime]]:
    """(URL, step time) of the archived articles of ``site`` due for a look again."""
    if not steps:
        return
    # The store narrows by text (ISO times sort as text; a second's margin for their
    # fractions); the exact rule is applied here.
    until = (now - steps[0] + timedelta(seconds=1)).strftime("%Y-%m-%dT%H:%M:%S")
    for url, first_seen in index.first_seen(site, until):
        try:
            first = parse_warc_date(first_seen)
            capture = index.latest.get(url)
            latest = parse_warc_date(capture.date) if capture is not None else None
        except ValueError:  # a time no reader wrote: no schedule for that row
            continue
        if (since := due_since(first, latest, steps, now)) is not None:
            yield url, since
