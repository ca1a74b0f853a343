"""`run` when the crawl could not write its own summary record into the archive (the disk
filled as it closed: tests/test_warc_full_disk.py makes that happen for real): extract and
export still run, and the run ends with one line and the crawl's exit code, no traceback."""

from __future__ import annotations

import click

from archive.cli import crawling
from archive.cli.common import EXIT_STORAGE


def test_run_says_there_is_no_summary_and_keeps_the_crawls_exit_code(tmp_path, monkeypatch, capsys):
    sites = tmp_path / "sites.toml"
    sites.write_text('[[sites]]\nname = "one"\nstart_urls = ["http://127.0.0.1:1/"]\n')
    # What crawl_and_check returns after a crawl stopped by a full disk: exit 5, and the id of
    # a crawl whose summary record never reached the archive.
    monkeypatch.setattr(
        crawling, "crawl_and_check", lambda *a, **k: (EXIT_STORAGE, {"newsarchive/crawl_id": "lost-1"})
    )
    with click.Context(crawling.run):
        code = crawling._run(tmp_path / "data", sites, (), (), 1, None)
    err = capsys.readouterr().err
    assert code == EXIT_STORAGE
    assert "run: no summary of this run: no crawl lost-1 in the store" in err
    assert "Traceback" not in err
