"""Our own ``metadata`` records as rows: crawl summaries and fetch errors (FORMAT.md).

Other tools' metadata records (wget's, warcprox's, Heritrix's) are read and counted, and
give no rows: their payloads are not these JSON objects.
"""

from __future__ import annotations

import json

from archive.warc.fields import CRAWL_SUMMARY_URI
from archive.warc.reader import WarcRecord


def metadata_rows(record: WarcRecord) -> tuple[dict | None, dict | None]:
    """(crawl row, fetch error row) of a metadata record, each None when it is not one."""
    try:
        fields = json.loads(record.payload)
    except ValueError:
        return None, None
    if not isinstance(fields, dict):
        return None, None
    if record.url == CRAWL_SUMMARY_URI and "crawl_id" in fields:
        return _crawl_row(fields), None
    if "fetch_error" in fields:
        return None, {
            "id": record.record_id,
            "url": record.url,
            "site": fields.get("site") or None,
            "error": fields["fetch_error"],
            "fetched_at": record.date,
            "warc_file": record.file,
            "warc_offset": record.offset,
        }
    return None, None


def _crawl_row(summary: dict) -> dict:
    row = {
        k: summary.get(k)
        for k in (
            "started",
            "finished",
            "reason",
            "requests",
            "responses",
            "bytes",
            "errors",
            "known_skipped",
        )
    }
    row["id"] = summary["crawl_id"]
    for key in ("sites", "warc_files", "site_responses", "site_errors", "site_bytes", "source_errors"):
        row[key] = json.dumps(summary.get(key, []), ensure_ascii=False)
    return row
