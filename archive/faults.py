"""Storage faults as one line a user can act on: disk full, read-only, locked or corrupt store.

SQLite says what went wrong in its message only (``sqlite3.OperationalError`` for a full
disk, a lock and a read-only file alike), so the messages are told apart here.
"""

from __future__ import annotations

import errno
import sqlite3
from pathlib import Path

REBUILD = "newsarchive extract --rebuild"


def is_locked(exc: BaseException) -> bool:
    """Another process holds the store: worth trying again later, nothing is wrong with it."""
    return isinstance(exc, sqlite3.OperationalError) and "locked" in str(exc)


def describe(exc: BaseException, db_path: Path) -> str | None:
    """One line saying what the fault is and what to do; None when ``exc`` is no storage fault."""
    if isinstance(exc, sqlite3.DatabaseError):
        message = str(exc)
        if is_locked(exc):
            return f"{db_path} is locked by another process ({message}); try again when it is done"
        if "disk is full" in message or "disk I/O" in message:
            return f"cannot write {db_path}: {message} (free some space; nothing half-written is kept)"
        if "readonly" in message or "unable to open" in message:
            return f"cannot write {db_path}: {message} (is its directory read-only?)"
        return f"{db_path} is unusable: {message}; move it aside and rebuild it from the WARCs: {REBUILD}"
    if isinstance(exc, OSError):
        where = f"{exc.filename}: " if exc.filename else ""
        what = exc.strerror or str(exc)
        if exc.errno == errno.ENOSPC:
            return f"disk full: {where}{what} (free some space and run it again)"
        if exc.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
            return f"cannot write or read {where}{what} (a read-only or protected directory?)"
        return f"{where}{what}"
    return None
