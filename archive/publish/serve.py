"""``newsarchive serve``: the Datasette command line for ``news.db`` with the project's metadata."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

DATASETTE_DIR = Path(__file__).parent / "datasette"


class ServeError(Exception):
    """Nothing to serve, or no Datasette to serve it with."""


def datasette_command(db_path: Path, host: str, port: int) -> list[str]:
    """``datasette serve`` read-only on ``db_path`` with our metadata, plugin, templates and CSS."""
    if not db_path.exists():
        raise ServeError(f"no store at {db_path}: run `newsarchive extract` first")
    datasette = shutil.which("datasette", path=os.path.dirname(sys.executable)) or shutil.which("datasette")
    if datasette is None:
        raise ServeError("datasette is not installed")
    return [
        datasette,
        "serve",
        str(db_path),
        "--host",
        host,
        "--port",
        str(port),
        "--metadata",
        str(DATASETTE_DIR / "metadata.json"),
        "--plugins-dir",
        str(DATASETTE_DIR / "plugins"),
        "--static",
        f"newsarchive-static:{DATASETTE_DIR / 'static'}",
        "--template-dir",
        str(DATASETTE_DIR / "templates"),
        # Facet suggestions scan whole tables on every table page: seconds at 100k articles.
        "--setting",
        "suggest_facets",
        "off",
    ]
