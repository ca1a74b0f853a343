"""A CDXJ index beside the WARC files, so pywb and other replay tools can use the archive.

cdxj-indexer (webrecorder's own indexer, the one pywb uses) does the work, on WARC and ARC
files, gzipped or not; this only chooses the files (closed ones: an ``.open`` file is still
being written; not WACZ files, which carry their own index and which pywb does not open)
and replaces the index atomically.
"""

from __future__ import annotations

import os
from pathlib import Path

from cdxj_indexer.main import CDXJIndexer

from archive.warc.files import OPEN_SUFFIX, file_kind, list_warc_files
from archive.warc.reader import one_line

INDEX_NAME = "index.cdxj"
LEFT_OUT = {"wacz": "a WACZ (it has its own index)", "unknown": "not a WARC or ARC file"}


def _indexes(path: str) -> str | None:
    """None when cdxj-indexer reads ``path`` to its end, else why not. Its errors are those
    of warcio, zlib and its own parsing, with no common class: any of them means the file
    cannot be indexed."""
    try:
        CDXJIndexer(output=os.devnull, inputs=[path]).process_all()
    except Exception as exc:  # noqa: BLE001 - see the docstring
        return one_line(f"{type(exc).__name__}: {exc}")
    return None


def write_cdxj_index(warc_dir: Path) -> tuple[Path, int, list[tuple[Path, str]]]:
    """Write ``warc_dir/index.cdxj`` over the closed WARC and ARC files; returns (path, lines,
    the files left out and why: WACZ, files that are no archive, files it cannot read)."""
    closed = [p for p in list_warc_files(warc_dir) if not p.name.endswith(OPEN_SUFFIX)]
    kinds = {p: file_kind(p) for p in closed}
    files = [str(p) for p in closed if kinds[p] not in ("wacz", "unknown")]
    left_out = [(p, LEFT_OUT[kinds[p]]) for p in closed if kinds[p] in LEFT_OUT]
    target = warc_dir / INDEX_NAME
    partial = warc_dir / (INDEX_NAME + ".tmp")
    try:
        _index(files, partial, warc_dir)
    except Exception:  # noqa: BLE001 - a file it cannot read (_indexes): find it, index the rest
        unreadable = {f: why for f in files if (why := _indexes(f))}
        left_out += [(Path(f), f"cannot be read: {why}") for f, why in unreadable.items()]
        _index([f for f in files if f not in unreadable], partial, warc_dir)
    os.replace(partial, target)
    with open(target, encoding="utf-8") as fh:
        return target, sum(1 for line in fh if line.strip()), left_out


def _index(files: list[str], partial: Path, warc_dir: Path) -> None:
    if files:
        CDXJIndexer(output=str(partial), inputs=files, sort=True, dir_root=str(warc_dir)).process_all()
    else:
        partial.write_text("")
