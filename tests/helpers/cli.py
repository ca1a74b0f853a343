"""The ``newsarchive`` command as the tests run it.

In this process (click's ``CliRunner``) where it can be; as a real process for the commands
that start a Twisted reactor (it starts once per process: ``crawl``, ``run``, ``replay``,
``demo``), for ``serve`` (it execs Datasette in place), and wherever the process itself is
what a test is about (``start``, ``command``).
"""

from __future__ import annotations

import gc
import logging
import os
import resource
import subprocess
import sys
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from click.testing import CliRunner

from archive.cli import main

# A crawl on loopback needs no politeness delay; everything else is as in production.
FAST = [
    "-s",
    "AUTOTHROTTLE_ENABLED=False",
    "-s",
    "CONCURRENT_REQUESTS_PER_DOMAIN=8",
    "-s",
    "RETRY_TIMES=1",
    "-s",
    "DOWNLOAD_TIMEOUT=10",
]

PROCESS_COMMANDS = frozenset({"crawl", "run", "replay", "demo", "serve"})
# Every command a test starts as a process runs under this address-space cap, so a case
# that lets memory run away (a bomb, a trap) fails that test with MemoryError instead of
# bringing the CI machine down; a normal crawl or extract stays far below it.
MEMORY_LIMIT = 4 << 30


def _capped() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))


def command(*args: str | Path, data: Path | None = None) -> list[str]:
    """The argv of ``newsarchive ARGS --data DATA`` as a process of its own."""
    return [sys.executable, "-m", "archive", *_argv(args, data)]


def start(*args: str | Path, data: Path, **popen) -> subprocess.Popen:
    """``newsarchive ARGS --data DATA`` started in the background (text stdout and stderr piped)."""
    piped = {"stdout": subprocess.PIPE, "stderr": subprocess.PIPE, "text": True}
    popen = {**piped, "preexec_fn": _capped, **popen}
    return subprocess.Popen(command(*args, data=data), **popen)


def newsarchive(
    *args: str | Path,
    data: Path | None,
    check: bool = True,
    timeout: int = 300,
    process: bool | None = None,
) -> subprocess.CompletedProcess:
    """Run ``newsarchive ARGS --data DATA``: returncode, stdout and stderr as of a process.

    ``process`` None: a process of its own for the PROCESS_COMMANDS, this process for the
    others (``timeout`` applies to processes only). ``data`` None: no ``--data``.
    """
    if process is None:
        process = bool(args) and str(args[0]) in PROCESS_COMMANDS
    if process:
        argv = command(*args, data=data)
        result = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, preexec_fn=_capped)
    else:
        result = _invoke(_argv(args, data))
    if check and result.returncode != 0:
        raise AssertionError(
            f"{result.args} exited {result.returncode}\n{result.stdout}\n{result.stderr}"
        )
    return result


def _argv(args: tuple[str | Path, ...], data: Path | None) -> list[str]:
    return [*map(str, args), *(["--data", str(data)] if data is not None else [])]


def _invoke(argv: list[str]) -> subprocess.CompletedProcess:
    """The command in this process; an uncaught exception is exit code 1 and a traceback on
    stderr, as Python gives a process."""
    with _global_state_kept():
        result = CliRunner().invoke(main, argv, prog_name="newsarchive", catch_exceptions=True)
    returncode, stderr = result.exit_code, result.stderr
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        returncode = 1
        stderr += "".join(traceback.format_exception(*result.exc_info))
    return subprocess.CompletedProcess(["newsarchive", *argv], returncode, result.stdout, stderr)


@contextmanager
def _global_state_kept() -> Iterator[None]:
    """What a command could change for the rest of the test process is put back after it:
    the working directory, the environment, the collector (archive/gc_freeze.py), logging."""
    cwd, environ = os.getcwd(), dict(os.environ)
    threshold, frozen = gc.get_threshold(), gc.get_freeze_count()
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    try:
        yield
    finally:
        os.chdir(cwd)
        if dict(os.environ) != environ:
            os.environ.clear()
            os.environ.update(environ)
        gc.set_threshold(*threshold)
        if frozen == 0 and gc.get_freeze_count():
            gc.unfreeze()
        root.handlers[:] = handlers
        root.setLevel(level)
