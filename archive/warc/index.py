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

INDEX_NAME = "index.cdxj"


def write_cdxj_index(warc_dir: Path) -> tuple[Path, int, list[Path]]:
    """Write ``warc_dir/index.cdxj`` over the closed WARC and ARC files; returns (path, lines,
    the files left out: WACZ and files that are no archive)."""
    closed = [p for p in list_warc_files(warc_dir) if not p.name.endswith(OPEN_SUFFIX)]
    kinds = {p: file_kind(p) for p in closed}
    files = [str(p) for p in closed if kinds[p] not in ("wacz", "unknown")]
    left_out = [p for p in closed if kinds[p] in ("wacz", "unknown")]
    target = warc_dir / INDEX_NAME
    partial = warc_dir / (INDEX_NAME + ".tmp")
    if files:
        CDXJIndexer(output=str(partial), inputs=files, sort=True, dir_root=str(warc_dir)).process_all()
    else:
        partial.write_text("")
    os.replace(partial, target)
    with open(target, encoding="utf-8") as fh:
        return target, sum(1 for line in fh if line.strip()), left_out
