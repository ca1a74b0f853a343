"""Writing the seed-format files (``NNN_<id>.txt``) and ``articles.jsonl``.

The order is stable (first fetch time, then id), files are only rewritten when their
bytes change, and files of an earlier export that no longer belong are removed, so an
export directory always mirrors the store exactly.

An export touches only files an export wrote: it lists them in a manifest in the
directory (``MANIFEST_NAME``), removes only stale files listed there, and leaves a file it
did not write as it is, even where it would write one of that name (counted as skipped).

With ``versions``, every version of each article (``article_versions``) is written too, as
``NNN_<id>.vNNN.txt`` beside the article's ``NNN_<id>.txt`` (the names sort the article's
file first, then its versions in order), and ``versions.jsonl`` has a line per version.
"""

from __future__ import annotations

import json
import os
import re
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from archive.document import FILE_NAME, export_file_name
from archive.publish.selection import Selection, select_articles, select_versions

JSON_LIST_COLUMNS = ("author", "categories", "tags")
JSONL_NAME = "articles.jsonl"
MANIFEST_NAME = ".newsarchive-export"  # the files exports wrote here, one name a line
VERSIONS_JSONL_NAME = "versions.jsonl"
# An article's version: the seed format's name with the version number before .txt.
VERSION_FILE_NAME = re.compile(r"^([0-9]{3,})_([0-9a-f]{16})\.v([0-9]{3,})\.txt$")


@dataclass
class ExportReport:
    directory: Path
    written: int  # files whose bytes changed
    unchanged: int
    removed: int
    articles: int
    skipped: list[Path]  # files of the names it would write that no export wrote: left alone
    versions: int = 0  # versions exported (``versions``)


def version_file_name(position: int, article_id: str, version: int) -> str:
    """``NNN_<id>.vNNN.txt``: after ``NNN_<id>.txt`` in name order, versions in order."""
    return f"{position:03d}_{article_id}.v{version:03d}.txt"


def _exported(name: str) -> bool:
    """A document file an export writes (an article or one of its versions)."""
    return bool(FILE_NAME.match(name) or VERSION_FILE_NAME.match(name))


def _write_if_changed(path: Path, data: bytes) -> bool:
    if path.exists() and path.read_bytes() == data:
        return False
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)
    return True


def _owned(out_dir: Path) -> set[str]:
    """The files earlier exports wrote in ``out_dir``: its manifest's names; for a directory
    exported before manifests, the files its ``articles.jsonl`` lists, and that file."""
    try:
        return set((out_dir / MANIFEST_NAME).read_text("utf-8").splitlines()) - {""}
    except FileNotFoundError:
        pass
    try:
        lines = (out_dir / JSONL_NAME).read_text("utf-8").splitlines()
        listed = {json.loads(line)["file"] for line in lines if line.strip()}
    except (OSError, ValueError, KeyError, TypeError):  # absent, or not an export's
        return set()
    return {JSONL_NAME, *(name for name in listed if isinstance(name, str) and FILE_NAME.match(name))}


class _Writer:
    """Writes files of an export, never over a file no export wrote."""

    def __init__(self, out_dir: Path) -> None:
        self.out_dir = out_dir
        self.owned = _owned(out_dir)
        self.skipped: list[Path] = []

    def write(self, name: str, data: bytes) -> bool | None:
        """True: written; False: unchanged; None: skipped, a file no export wrote is there."""
        path = self.out_dir / name
        if name not in self.owned and path.exists():
            if path.read_bytes() != data:
                self.skipped.append(path)
                return None
            return False
        self.owned.add(name)
        return _write_if_changed(path, data)

    def remove_stale(self, keep: set[str]) -> int:
        stale = {name for name in self.owned if _exported(name) and name not in keep}
        for name in stale:
            (self.out_dir / name).unlink(missing_ok=True)
        self.owned -= stale
        return len(stale)

    def remove(self, name: str) -> None:
        """Remove a file an earlier export wrote that this one does not."""
        if name in self.owned:
            (self.out_dir / name).unlink(missing_ok=True)
            self.owned.discard(name)

    def save_manifest(self) -> None:
        names = "".join(f"{name}\n" for name in sorted(self.owned))
        _write_if_changed(self.out_dir / MANIFEST_NAME, names.encode("utf-8"))


def _json_row(row: sqlite3.Row, file_name: str) -> dict:
    record = {key: row[key] for key in row.keys() if key not in ("text_hash", "claims_canonical")}
    for key in JSON_LIST_COLUMNS:
        record[key] = json.loads(record[key]) if record[key] else []
    record["file"] = file_name
    return record


def _version_row(row: sqlite3.Row, file_name: str) -> dict:
    record = {key: row[key] for key in row.keys() if key != "text_hash"}
    record["title_changed"] = bool(record["title_changed"])
    record["file"] = file_name
    return record


def export(
    db_path: Path,
    out_dir: Path,
    selection: Selection | None = None,
    txt: bool = True,
    jsonl: bool = True,
    versions: bool = False,
) -> ExportReport:
    """Write one file per selected article (``txt``) and ``articles.jsonl`` (``jsonl``) into
    ``out_dir``; with ``versions``, a file per version of each and ``versions.jsonl`` too."""
    rows = select_articles(db_path, selection or Selection())
    out_dir.mkdir(parents=True, exist_ok=True)
    writer = _Writer(out_dir)
    keep: set[str] = set()
    written = unchanged = 0

    def document(name: str, text: str) -> None:
        nonlocal written, unchanged
        keep.add(name)
        done = writer.write(name, text.encode("utf-8")) if txt else None
        written += done is True
        unchanged += done is False

    lines = []
    for position, row in enumerate(rows):
        name = export_file_name(position, row["id"])
        document(name, row["text"])
        lines.append(json.dumps(_json_row(row, name), ensure_ascii=False))
    if jsonl:
        writer.write(JSONL_NAME, "".join(line + "\n" for line in lines).encode("utf-8"))
    version_lines = []
    if versions:
        by_article = select_versions(db_path, [row["id"] for row in rows])
        for position, row in enumerate(rows):
            for version in by_article.get(row["id"], []):
                name = version_file_name(position, row["id"], version["version"])
                document(name, version["text"])
                version_lines.append(json.dumps(_version_row(version, name), ensure_ascii=False))
        if jsonl:
            writer.write(VERSIONS_JSONL_NAME, "".join(line + "\n" for line in version_lines).encode("utf-8"))
    elif jsonl:
        writer.remove(VERSIONS_JSONL_NAME)  # an earlier export's with --versions: no longer this one's
    removed = writer.remove_stale(keep) if txt else 0
    writer.save_manifest()
    return ExportReport(out_dir, written, unchanged, removed, len(rows), writer.skipped, len(version_lines))
