"""The ``newsarchive`` command: a thin click layer over crawler/ and archive/.

``common`` holds the group, the shared options and the exit codes; each other module holds
the commands of one stage, and each command imports what it uses when it runs.
"""

from archive.cli import crawling, extracting, publishing  # noqa: F401  (they register the commands)
from archive.cli.common import main

__all__ = ["main"]
