"""``python -m archive`` is the ``newsarchive`` command."""

from archive.cli import main

main()
