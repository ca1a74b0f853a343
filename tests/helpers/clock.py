"""A fake clock for runs of ``newsarchive`` as processes: libfaketime's ``faketime`` command.

It shifts the whole process's clock (``clock_gettime`` in libc, monotonic clocks too, so
Twisted's timers keep their pace): the schedule a crawl computes and the WARC-Date it
writes see the same time, with no hook in the code under test. Debian's ``faketime``
package (tools/system-packages.txt).
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from tests.helpers.cli import command


def faketime() -> str:
    """The ``faketime`` program, or an error naming the package that has it."""
    program = shutil.which("faketime")
    if program is None:
        raise RuntimeError("faketime is not installed (tools/system-packages.sh installs it)")
    return program


def _argv(offset: str | None, args: tuple[str | Path, ...], data: Path) -> list[str]:
    argv = command(*args, data=data)
    return [faketime(), "-f", offset, *argv] if offset is not None else argv


def start_at(offset: str | None, *args: str | Path, data: Path) -> subprocess.Popen:
    """``newsarchive_at`` started in the background (text stdout and stderr piped)."""
    return subprocess.Popen(
        _argv(offset, args, data), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def newsarchive_at(
    offset: str | None, *args: str | Path, data: Path, timeout: int = 120
) -> subprocess.CompletedProcess:
    """``newsarchive ARGS --data DATA`` as a process whose clock runs ``offset`` ahead of the
    real one (faketime's ``+3h``, ``+2d``); ``None``: on the real clock."""
    return subprocess.run(_argv(offset, args, data), capture_output=True, text=True, timeout=timeout)
