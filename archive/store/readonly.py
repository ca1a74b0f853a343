"""Where the store is and how readers open it: light, for the commands that only read."""

from __future__ import annotations

import sqlite3
from pathlib import Path

DB_NAME = "news.db"


def open_readonly(path: Path) -> sqlite3.Connection | None:
    """A read-only connection to an existing store, or None when there is none yet."""
    if not path.exists():
        return None
    return sqlite3.connect(f"file:{path}?mode=ro", uri=True)
