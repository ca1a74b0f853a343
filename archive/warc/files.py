"""WARC file names, ``.open`` files, finding the archive files of a directory and what each is.

A file is written as ``NAME.warc.gz.open`` and renamed when closed (DESIGN.md), so a crash
leaves a file that is recognisably unfinished. Other tools' files come as ``.warc``,
``.warc.gz``, ``.arc``, ``.arc.gz`` and ``.wacz``; what a file holds is told from its first
bytes (``file_kind``), not its name.
"""

from __future__ import annotations

import os
import re
import socket
import zlib
from datetime import UTC, datetime
from pathlib import Path

OPEN_SUFFIX = ".open"
WARC_SUFFIX = ".warc.gz"
GZIP_MAGIC = b"\x1f\x8b"
ARCHIVE_SUFFIXES = (".warc.gz", ".warc", ".arc.gz", ".arc", ".wacz")


def safe_host(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9.]+", "_", name).strip("._") or "host"


def warc_file_name(serial: int, when: datetime | None = None) -> str:
    """``NEWSARCHIVE-<UTC yyyymmddHHMMSS>-<serial>-<host>-<pid>.warc.gz``.

    The pid after the host keeps names unique across processes on one host.
    """
    when = when or datetime.now(UTC)
    return (
        f"NEWSARCHIVE-{when:%Y%m%d%H%M%S}-{serial:05d}-"
        f"{safe_host(socket.gethostname())}-{os.getpid()}{WARC_SUFFIX}"
    )


def closed_name(path: Path) -> str:
    """The name a WARC file has (or will have) once closed: the store's key for it."""
    name = path.name
    return name[: -len(OPEN_SUFFIX)] if name.endswith(OPEN_SUFFIX) else name


def list_warc_files(directory: Path) -> list[Path]:
    """Closed and still-open archive files (WARC, ARC, WACZ) in ``directory``, oldest name first."""
    if not directory.is_dir():
        return []
    found = [p for p in directory.iterdir() if p.is_file() and closed_name(p).endswith(ARCHIVE_SUFFIXES)]
    return sorted(found, key=lambda p: closed_name(p))


def expand_paths(paths: list[Path]) -> list[Path]:
    """Paths as given, a directory standing for the archive files in it."""
    return [found for path in paths for found in (list_warc_files(path) if path.is_dir() else [path])]


def file_kind(path: Path) -> str:
    """What the file holds, from its first bytes: ``warc``, ``warc.gz``, ``arc``, ``arc.gz``,
    ``wacz`` or ``unknown``."""
    with open(path, "rb") as fh:
        head = fh.read(4096)
    if head.startswith(b"PK\x03\x04"):
        return "wacz"
    suffix = ""
    if head.startswith(GZIP_MAGIC):
        try:
            head, suffix = zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(head, 64), ".gz"
        except zlib.error:
            return "unknown"
    head = head.lstrip(b"\r\n")
    if head.startswith(b"WARC/"):
        return "warc" + suffix
    if head.startswith(b"filedesc://"):
        return "arc" + suffix
    return "unknown"
