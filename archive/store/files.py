"""Which archive file is which: the store knows a file by what it holds, not by its name.

A file's content key is its size and the sha1 of its first MB, so a file keeps its key when
it is renamed or moved, and two files that share a name are told apart. A file that grows
(a crawl's ``.open`` file) changes key: it is known by its name and place instead. The
``warc_files`` table keeps each file's key, kind and the path it was last read from; its
``name`` (the key of ``captures.warc_file``) is the file's name, or for a second file of
the same name that name with a piece of its key.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from archive.store.shard import Shard
from archive.warc.files import (
    ARCHIVE_SUFFIXES,
    OPEN_SUFFIX,
    closed_name,
    expand_paths,
    file_kind,
    list_warc_files,
)
from archive.warc.reader import ReadError

KEY_PREFIX_BYTES = 1 << 20


class RebuildError(Exception):
    """``extract --rebuild`` would drop files the store had read."""


def content_key(path: Path) -> str:
    """The file's size and the sha1 of its first MB: cheap, and the same wherever it lies."""
    with open(path, "rb") as fh:
        head = fh.read(KEY_PREFIX_BYTES)
    return f"{Path(path).stat().st_size}:{hashlib.sha1(head).hexdigest()}"


@dataclass
class KnownFile:
    """A file on disk matched to its row in ``warc_files`` (a new one if it has none)."""

    path: Path
    name: str
    content_key: str
    kind: str
    read_to: int = 0
    records: int = 0

    def row(self) -> dict:
        """The identity columns of its ``warc_files`` row (progress is ``Store.record_progress``'s)."""
        return {"name": self.name, "path": str(self.path), "content_key": self.content_key, "kind": self.kind}


class FileTable:
    """The ``warc_files`` rows of a store, matching files on disk to them."""

    def __init__(self, rows: Iterable[dict]) -> None:
        self.rows = {row["name"]: dict(row) for row in rows}
        self.by_path = {row["path"]: row for row in self.rows.values() if row.get("path")}
        self.by_key = {row["content_key"]: row for row in self.rows.values() if row.get("content_key")}

    @classmethod
    def of(cls, conn) -> FileTable:
        """The rows of the store on ``conn`` (sqlite3 connection); none if it has no table yet."""
        try:
            cursor = conn.execute("SELECT * FROM warc_files")
        except Exception:  # a store without tables yet
            return cls([])
        columns = [c[0] for c in cursor.description]
        return cls(dict(zip(columns, row, strict=True)) for row in cursor)

    def match(self, path: Path) -> KnownFile:
        """The store's file that ``path`` is (by content key, else by name and place), or a new one.

        A file read before from this very path, and of the size it had then, is taken to be
        that file without hashing it again: extract runs often over thousands of large files.
        """
        path = Path(path).absolute()
        base, size = closed_name(path), path.stat().st_size
        closed_path = str(path.with_name(base))
        found = self.by_path.get(str(path))
        if found is None or found.get("size") != size or not found.get("content_key"):
            found = None
        key = found["content_key"] if found else content_key(path)
        found = found or self.by_key.get(key)
        if found is None:  # a row made before keys, or a file still growing (``.open``)
            same = self.rows.get(base)
            if same is not None and (same.get("path") is None or _closed(same["path"]) == closed_path):
                found = same
        if found is None:
            name = base
            if name in self.rows:
                suffix = next((s for s in ARCHIVE_SUFFIXES if base.endswith(s)), "")
                name = f"{base[: len(base) - len(suffix)]}~{key.split(':')[1][:8]}{suffix}"
            found = self.rows[name] = {"name": name}
        kind = found.get("kind") if found.get("content_key") == key else None
        found.update(path=str(path), content_key=key, kind=kind or file_kind(path))
        self.by_path[str(path)] = self.by_key[key] = found
        return KnownFile(
            path, found["name"], key, found["kind"], found.get("read_to") or 0, found.get("records") or 0
        )

    def missing(self, files: list[KnownFile], warc_dir: Path) -> tuple[list[Path], list[str]]:
        """For a rebuild: the files the rows name that ``files`` leaves out, found where they
        were read (or in ``warc_dir``), and the names of those found nowhere."""
        have = {f.content_key for f in files}
        found, lost = [], []
        for row in self.rows.values():
            if row.get("content_key") in have:
                continue
            where = Path(row["path"]) if row.get("path") else warc_dir / row["name"]
            closed = where.with_name(closed_name(where))
            place = next((p for p in (closed, Path(f"{closed}{OPEN_SUFFIX}")) if p.is_file()), None)
            if place is None:
                lost.append(f"{row['name']} (read from {where})")
            else:
                found.append(place)
        return found, lost


def _closed(path: str) -> str:
    return str(Path(path).with_name(closed_name(Path(path))))


def files_to_read(
    data_dir: Path, paths: list[Path] | None, table: FileTable, rebuild: bool, shard: Shard | None
) -> tuple[list[KnownFile], list[ReadError]]:
    """The files to read, each matched to its store row; a rebuild adds every file the old
    store had read (raises ``RebuildError`` for any it cannot find)."""
    given = expand_paths(paths) if paths else list_warc_files(data_dir / "warc")
    problems = [ReadError(p.name, 0, "no such file") for p in given if not p.is_file()]
    given = [p for p in given if p.is_file() and p.stat().st_size and (shard is None or shard.holds(p))]
    files = [table.match(p) for p in given]
    if rebuild:
        found, lost = table.missing(files, data_dir / "warc")
        if lost:
            raise RebuildError(
                f"the store had read {len(lost)} file(s) that are gone, so a rebuild would lose their"
                f" records: {', '.join(lost[:5])}{' ...' if len(lost) > 5 else ''}; put them back or"
                " name where they are now as PATHs"
            )
        files += [table.match(p) for p in found if shard is None or shard.holds(p)]
    unique = {f.content_key: f for f in files}  # a file given twice, or by two paths, is read once
    return list(unique.values()), problems
