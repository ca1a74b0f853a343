"""Extraction collects garbage less often, in this process and in its workers, and puts
the collector back as it was when it ends."""

from __future__ import annotations

import gc

from archive.store import ingest, pages, workers
from archive.warc.writer import WarcWriter
from tests.helpers.warc import exchange


def test_extraction_freezes_start_up_objects_and_collects_less(tmp_path, monkeypatch):
    writer = WarcWriter(tmp_path / "warc", warcinfo={"operator": "tests"})
    writer.write_exchange(exchange(1, b"<html><body><p>A page.</p></body></html>"))
    writer.close()
    seen = []

    def probe(job):
        seen.append((gc.get_threshold()[0], gc.get_freeze_count()))
        return pages.PageResult(None, None)

    monkeypatch.setattr(pages, "extract_page", probe)
    before = gc.get_threshold(), gc.get_freeze_count()
    ingest.ingest(tmp_path, show_progress=False)
    assert len(seen) == 1
    threshold, frozen = seen[0]
    assert threshold == workers.GC_THRESHOLD and frozen > 10_000  # trafilatura, lxml, sqlite-utils...
    assert (gc.get_threshold(), gc.get_freeze_count()) == before


def test_worker_processes_collect_less():
    extractor = workers.Extractor(2)
    try:
        assert extractor.pool.submit(gc.get_threshold).result()[0] == workers.GC_THRESHOLD
        assert extractor.pool.submit(gc.get_freeze_count).result() > 10_000
    finally:
        extractor.close()
