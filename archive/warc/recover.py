"""Closing the ``.open`` files of writers that died, after their last whole record."""

from __future__ import annotations

import logging
import os
import re
import socket
from dataclasses import dataclass
from pathlib import Path

from archive.warc.files import OPEN_SUFFIX, WARC_SUFFIX, closed_name, safe_host
from archive.warc.reader import iter_records

logger = logging.getLogger(__name__)

NAME_PATTERN = re.compile(r"^NEWSARCHIVE-\d{14}-\d{5}-(?P<host>[A-Za-z0-9._]+)-(?P<pid>\d+)\.warc\.gz")


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, owned by someone else
        return True
    return True


@dataclass
class Recovered:
    path: Path  # the closed file
    dropped: int  # bytes of a last record cut short by the crash


def recover_orphans(directory: Path) -> list[Recovered]:
    """Close the ``.open`` files of writers that died (SIGKILL, power loss) on this host.

    A file whose writing process no longer runs is cut after its last whole record and
    renamed, so every tool reads it; files of live writers and of other hosts are left.
    """
    recovered = []
    host = safe_host(socket.gethostname())
    for path in sorted(Path(directory).glob(f"*{WARC_SUFFIX}{OPEN_SUFFIX}")):
        match = NAME_PATTERN.match(path.name)
        if not match or match["host"] != host or _process_alive(int(match["pid"])):
            continue
        end = 0
        for record in iter_records(path, with_payload=False):
            end = record.offset + record.length
        size = path.stat().st_size
        if end < size:
            os.truncate(path, end)
        final = path.with_name(closed_name(path))
        os.replace(path, final)
        recovered.append(Recovered(final, size - end))
        logger.warning(
            "closed %s, left open by a writer that died (%d bytes of a cut-off record dropped)",
            final.name,
            size - end,
        )
    return recovered
