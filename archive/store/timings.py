"""Where an ``extract`` run's time goes, kept as it runs: a few clock reads a batch.

The stages (read, decode, extract, store, copies, boilerplate, ...) are timed where they
run, in the main process or, for a page's decode and extract, in the worker that took it
(``PageResult.seconds``). ``bench/extract.py`` reads them to show what a page costs in
the whole command, not in a re-implementation of it: it sets ``NEWSARCHIVE_TIMINGS`` to
a file path and the run writes its figures there as JSON when it ends.
"""

from __future__ import annotations

import json
import os
import time
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ENV = "NEWSARCHIVE_TIMINGS"


class Timings:
    """Seconds per stage and counts, summed over the run (this process's figures, plus the
    page figures its workers sent back)."""

    def __init__(self) -> None:
        self.seconds: defaultdict[str, float] = defaultdict(float)
        self.counts: defaultdict[str, int] = defaultdict(int)

    def reset(self) -> None:
        """Start a run's figures afresh (a process may run several, as the tests do)."""
        self.seconds.clear()
        self.counts.clear()

    def add(self, stage: str, seconds: float, count: int = 0) -> None:
        self.seconds[stage] += seconds
        self.counts[stage] += count

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        started = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[name] += time.perf_counter() - started

    def write_if_asked(self) -> None:
        """Write the figures to the file ``$NEWSARCHIVE_TIMINGS`` names, if it names one."""
        path = os.environ.get(ENV)
        if path:
            Path(path).write_text(json.dumps({"seconds": self.seconds, "counts": self.counts}, indent=1))


TIMINGS = Timings()  # this process's: one extract per process
