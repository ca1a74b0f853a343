"""``newsarchive wacz``: the closed WARC files as one WACZ 1.1.1 file, the store's articles its pages.

webrecorder's ``wacz`` package does the packaging and the checking: ``wacz create`` indexes
the WARC files (``indexes/index.cdx.gz`` with its ``index.idx``), stores them under
``archive/``, and writes ``datapackage.json`` (a sha256 for every file) and
``datapackage-digest.json``; ``wacz validate`` checks the result. Both run as processes of
their own: importing ``wacz`` adds ``warcinfo`` to cdxj-indexer's record types for the whole
process (``newsarchive index`` would change in it), and it prints its progress on stdout.

The page list is ours. ``wacz create --detect-pages --text`` would guess pages from
referrers and take their text from boilerpy3; the store already knows which captures are
articles and what their text is. So ``pages/pages.jsonl`` is written here and handed over
with ``--pages --copy-pages``: without ``--copy-pages`` wacz rewrites the list and drops the
header's ``hasText``, which is what makes ReplayWeb.page search the pages' ``text``.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from textwrap import shorten

from archive.store.readonly import DB_NAME, open_readonly
from archive.warc.files import OPEN_SUFFIX, list_warc_files
from archive.warc.verify import verify

WACZ_NAME = "newsarchive.wacz"
# WACZ 1.1.1 holds WARC files under archive/; anything else in data/warc is left out.
WARC_NAMES = (".warc.gz", ".warc")
PAGES_HEADER = {"format": "json-pages-1.0", "id": "pages", "title": "Articles", "hasText": True}
MESSAGE_CHARS = 300  # of what wacz printed when it failed: it dumps whole frictionless reports
PAGES_SQL = """SELECT a.id, a.title, a.text, c.url, c.fetched_at, c.warc_file
FROM articles a LEFT JOIN captures c ON c.id = a.capture_id ORDER BY a.first_seen, a.id"""


class WaczError(Exception):
    """Nothing to package: no store, no closed and readable WARC file (exit code 3)."""


class OutputInArchive(WaczError):
    """``--out`` inside data/warc, where ``extract`` would take the package for input (exit code 2)."""


class WaczInvalid(Exception):
    """``wacz create`` failed or ``wacz validate`` rejected its output; nothing was written."""


@dataclass
class WaczReport:
    path: Path
    warc_files: list[str]
    pages: int
    left_out: list[str] = field(default_factory=list)  # one line for each thing not in the package


def write_wacz(data_dir: Path, out: Path, title: str) -> WaczReport:
    """Package ``data_dir/warc`` into ``out``, validated; ``out`` is replaced only when valid."""
    warc_dir = data_dir / "warc"
    if out.resolve().parent == warc_dir.resolve():
        raise OutputInArchive(
            f"{out} is inside {warc_dir}, where extract would read it back; write it elsewhere"
        )
    conn = open_readonly(data_dir / DB_NAME)
    if conn is None:
        raise WaczError(f"no store at {data_dir / DB_NAME}: run `newsarchive extract` first")
    try:
        warcs, left_out = _choose_files(warc_dir)
        if not warcs:
            reasons = "".join(f"; {line}" for line in left_out)
            raise WaczError(f"no closed, readable WARC file in {warc_dir}{reasons}")
        left_out += _unread(conn, warcs)
        out.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=out.parent, prefix=".wacz-") as tmp:
            pages_file = Path(tmp) / "pages.jsonl"
            pages, unlisted = _write_pages(conn, pages_file, {p.name for p in warcs})
            left_out += unlisted
            partial = Path(tmp) / out.name
            _wacz(
                "create", "--output", partial, "--pages", pages_file, "--copy-pages",
                "--hash-type", "sha256", "--title", title,
                "--desc", f"{pages} articles in {len(warcs)} WARC files, packaged by newsarchive",
                *warcs,
            )  # fmt: skip
            validate(partial)
            os.replace(partial, out)
    finally:
        conn.close()
    return WaczReport(out, [p.name for p in warcs], pages, left_out)


def _choose_files(warc_dir: Path) -> tuple[list[Path], list[str]]:
    """The closed, whole WARC files of ``warc_dir``, and a line for each file left out.

    A file with a spot that does not read (a cut-off or corrupt gzip member) is left out:
    ``wacz validate`` inflates every ``.gz`` file to its end and fails the whole package on it.
    """
    chosen, left_out = [], []
    for path in list_warc_files(warc_dir):
        if path.name.endswith(OPEN_SUFFIX):
            left_out.append(f"{path.name}: skipped, still being written (.open)")
        elif not path.name.endswith(WARC_NAMES):
            left_out.append(f"{path.name}: skipped, not a WARC file (a WACZ holds WARC files only)")
        elif errors := verify(path, digests=False):
            more = f" (and {len(errors) - 1} more bad spots)" if len(errors) > 1 else ""
            left_out.append(
                f"{path.name}: skipped, unreadable at offset {errors[0].offset}: {errors[0].message}{more}"
            )
        else:
            chosen.append(path)
    return chosen, left_out


def _unread(conn: sqlite3.Connection, warcs: list[Path]) -> list[str]:
    """A line for each packaged file that extract has not read to its end: pages.jsonl lacks its articles."""
    read_to = dict(conn.execute("SELECT name, read_to FROM warc_files"))
    lines = []
    for path in warcs:
        done, size = read_to.get(path.name) or 0, path.stat().st_size
        if done < size:
            lines.append(
                f"{path.name}: packaged, but extract has read {done:,} of its {size:,} bytes; "
                "the articles in the rest are not in pages.jsonl (run `newsarchive extract` first)"
            )
    return lines


def _write_pages(conn: sqlite3.Connection, path: Path, packaged: set[str]) -> tuple[int, list[str]]:
    """``pages.jsonl`` of the articles whose capture is packaged; (pages, lines for those left out).

    ``url`` and ``ts`` are the capture's WARC-Target-URI and WARC-Date, which ReplayWeb.page
    looks up in the index; ``title`` and ``text`` are what it lists and searches.
    """
    pages, missing = 0, Counter()
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(json.dumps(PAGES_HEADER) + "\n")
        for article_id, title, text, url, ts, warc_file in conn.execute(PAGES_SQL):
            if warc_file not in packaged:
                missing[warc_file] += 1
                continue
            row = {"id": article_id, "url": url, "ts": ts, "title": title or url, "text": text or ""}
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")
            pages += 1
    lines = [
        f"{count} article(s) left out of pages.jsonl: "
        + (
            f"their capture is in {name}, which is not packaged"
            if name
            else "their capture is not in the store"
        )
        for name, count in sorted(missing.items(), key=lambda item: item[0] or "")
    ]
    return pages, lines


def validate(path: Path) -> None:
    """``wacz validate``: hashes, paths and the datapackage schema; raises ``WaczInvalid`` when it fails."""
    _wacz("validate", "--file", path)


def _wacz(*args: str | Path) -> None:
    """Run ``wacz ARGS`` with this interpreter; what it printed, on one line, is the message of a failure.

    Through ``main`` and ``sys.exit``: ``python -m wacz`` drops main's return value, so a
    failed check would exit 0.
    """
    argv = [sys.executable, "-c", "import sys; from wacz.main import main; sys.exit(main())", *map(str, args)]
    result = subprocess.run(argv, capture_output=True, text=True)
    if result.returncode != 0:
        said = shorten(result.stdout + " " + result.stderr, MESSAGE_CHARS, placeholder=" ...")
        raise WaczInvalid(f"wacz {args[0]} failed (exit {result.returncode}): {said}")
