"""Names and formats of the WARC fields and records this project writes and looks for."""

from __future__ import annotations

from datetime import UTC, datetime

NEWSARCHIVE_SITE_HEADER = "NewsArchive-Site"  # WARC extension field: which site list entry
NEWSARCHIVE_CRAWL_HEADER = "NewsArchive-Crawl"  # WARC extension field: which crawl run
# WARC extension field: how the crawl found the URL and where, "<route> <URL>" (route: start,
# feed, sitemap, link, revisit; no URL for a start page or a revisit): the publisher listing
# a page in its feed or sitemap is a sign it is an article, which extraction weighs.
NEWSARCHIVE_DISCOVERED_HEADER = "NewsArchive-Discovered"
CRAWL_SUMMARY_URI = "urn:newsarchive:crawl-summary"
GZIP_MEMBER = b"\x1f\x8b\x08"
WARC_DATE = "%Y-%m-%dT%H:%M:%S.%fZ"  # as warcio writes WARC/1.1 dates: with microseconds


def parse_warc_date(value: str) -> datetime:
    """A WARC-Date or a store time (ISO 8601, ``Z`` or an offset, fractions of a second or
    none) as an aware datetime: such strings do not compare as instants by text."""
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def discovered_value(route: str, found_on: str = "") -> str:
    """The NewsArchive-Discovered field's value."""
    return f"{route} {found_on}".strip()


def parse_discovered(value: str | None) -> tuple[str | None, str | None]:
    """(route, URL found on) of a NewsArchive-Discovered value; (None, None) when absent."""
    route, _, found_on = (value or "").strip().partition(" ")
    return (route or None), (found_on.strip() or None)
