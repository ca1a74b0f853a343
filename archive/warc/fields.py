"""Names and formats of the WARC fields and records this project writes and looks for."""

from __future__ import annotations

NEWSARCHIVE_SITE_HEADER = "NewsArchive-Site"  # WARC extension field: which site list entry
NEWSARCHIVE_CRAWL_HEADER = "NewsArchive-Crawl"  # WARC extension field: which crawl run
CRAWL_SUMMARY_URI = "urn:newsarchive:crawl-summary"
GZIP_MEMBER = b"\x1f\x8b\x08"
WARC_DATE = "%Y-%m-%dT%H:%M:%S.%fZ"  # as warcio writes WARC/1.1 dates: with microseconds
