"""WARC file names, ``.open`` files and finding the files of a directory.

A file is written as ``NAME.warc.gz.open`` and renamed when closed (DESIGN.md), so a crash
leaves a file that is recognisably unfinished; the store knows a file by its closed name.
"""

from __future__ import annotations

import os
import re
import socket
from datetime import UTC, datetime
from pathlib import Path

OPEN_SUFFIX = ".open"
WARC_SUFFIX = ".warc.gz"


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
    """Closed and still-open WARC files in ``directory``, oldest name first."""
    if not directory.is_dir():
        return []
    found = [
        p
        for p in directory.iterdir()
        if p.is_file() and (p.name.endswith(WARC_SUFFIX) or p.name.endswith(WARC_SUFFIX + OPEN_SUFFIX))
    ]
    return sorted(found, key=lambda p: closed_name(p))
