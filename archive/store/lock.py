"""One run at a time per data directory: ``data/.lock``, held with flock."""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


class Locked(Exception):
    """Another run holds the data directory's lock."""


@contextmanager
def run_lock(data_dir: Path) -> Iterator[None]:
    """flock on ``data/.lock``: the kernel drops it when a run dies, so no stale locks."""
    data_dir.mkdir(parents=True, exist_ok=True)
    with open(data_dir / ".lock", "a+") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise Locked(f"another run holds {data_dir / '.lock'}; not starting") from None
        fh.seek(0)
        fh.truncate()
        fh.write(f"{os.getpid()}\n")
        fh.flush()
        yield
