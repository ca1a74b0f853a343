"""Page extraction in this process or in a pool of worker processes, for ``extract --workers N``."""

from __future__ import annotations

import multiprocessing
import time
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any, Protocol, TypeVar

from archive.gc_freeze import freeze_start_up
from archive.store.pages import PageJob, PageResult, extract_pages
from archive.store.timings import TIMINGS


class Batch(Protocol):
    """What ``Extractor.run`` needs of a batch: its page jobs (each with what ingest keeps beside)."""

    jobs: list[tuple[PageJob, Any]]


BatchT = TypeVar("BatchT", bound=Batch)

# A page through trafilatura allocates tens of thousands of objects that reference counting
# frees; at Python's default threshold (700) they started ~1.5 collections a page, some
# walking everything the imports loaded: 0.3 ms of ~25 ms CPU a page; 0.08 ms with this
# threshold and the start-up objects frozen. Cycles are still collected.
GC_THRESHOLD = 10_000


class Extractor:
    """Runs page extraction in this process or in a pool of worker processes.

    With a pool, the next batch is already being extracted while this process writes the
    current one to the store, so the workers do not wait for the writes. A worker that dies
    (OOM killer, segfault, kill -9) breaks the pool: concurrent.futures says so on every
    task it held (``BrokenProcessPool``; multiprocessing.Pool would wait for them forever),
    those pages are extracted again here, once, and a fresh pool takes the next batches.
    """

    LOOKAHEAD = 2  # batches handed to the pool ahead of the one being written
    CHUNK = 8  # pages per task

    def __init__(self, workers: int) -> None:
        self.workers = workers
        self.retried = 0  # pages extracted again here after their worker died
        self._pool: ProcessPoolExecutor | None = None
        TIMINGS.reset()  # one Extractor per ingest: its figures are the run's

    @property
    def pool(self) -> ProcessPoolExecutor:
        """The worker processes, started when first needed: an extract with nothing new starts none."""
        if self._pool is None:
            self._pool = self._new_pool()
        return self._pool

    def _new_pool(self) -> ProcessPoolExecutor:
        return ProcessPoolExecutor(
            self.workers,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=start_worker,
            initargs=(GC_THRESHOLD,),
        )

    def run(self, batches: Iterator[BatchT]) -> Iterator[tuple[BatchT, list[PageResult]]]:
        """Each batch with the results of its page jobs, in order.

        Timed as it goes (store/timings.py): reading the batches, the time the caller
        spends on each one before asking for the next (storing it), waiting for workers.
        """
        started = time.perf_counter()
        for batch, results in self._run(_timed("read", batches)):
            _count_pages(results)
            handed = time.perf_counter()
            yield batch, results
            TIMINGS.add("store", time.perf_counter() - handed)
        TIMINGS.add("pages phase", time.perf_counter() - started)
        TIMINGS.counts["workers"] = self.workers

    def _run(self, batches: Iterator[BatchT]) -> Iterator[tuple[BatchT, list[PageResult]]]:
        if self.workers == 1:
            for number, batch in enumerate(batches):
                if number == 0:
                    _load_extraction_here()
                yield batch, extract_pages([job for job, _ in batch.jobs])
            return
        pending: deque = deque()
        for batch in batches:
            pending.append((batch, self._submit([job for job, _ in batch.jobs])))
            if len(pending) > self.LOOKAHEAD:
                yield self._collect(*pending.popleft())
        while pending:
            yield self._collect(*pending.popleft())

    def _submit(self, jobs: list[PageJob]) -> list[tuple[list[PageJob], Future]]:
        chunks = [jobs[i : i + self.CHUNK] for i in range(0, len(jobs), self.CHUNK)]
        try:
            return [(chunk, self.pool.submit(extract_pages, chunk)) for chunk in chunks]
        except BrokenProcessPool:  # broken since the last batch: its tasks are retried in _collect
            self.pool.shutdown(wait=False, cancel_futures=True)
            self._pool = self._new_pool()
            return [(chunk, self.pool.submit(extract_pages, chunk)) for chunk in chunks]

    def _collect(
        self, batch: BatchT, tasks: list[tuple[list[PageJob], Future]]
    ) -> tuple[BatchT, list[PageResult]]:
        results: list[PageResult] = []
        for chunk, future in tasks:
            try:
                with TIMINGS.stage("wait for workers"):
                    results += future.result()
            except BrokenProcessPool:
                self.retried += len(chunk)
                results += extract_pages(chunk)
        return batch, results

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
        TIMINGS.write_if_asked()


def start_worker(first_threshold: int) -> None:
    """A worker process's start: load the extraction stack (pages.py loads it only when a
    page comes), then freeze it with the rest of start-up (gc_freeze.py)."""
    import archive.extract.article  # noqa: F401

    freeze_start_up(first_threshold)


def _load_extraction_here() -> None:
    """Extraction in this process: load its stack now that a page has come and, when start-up
    is frozen (``ingest``), freeze it with the rest, as a worker does (``start_worker``)."""
    import gc

    import archive.extract.article  # noqa: F401

    if gc.get_freeze_count():
        gc.collect()
        gc.freeze()


def _timed(stage: str, items: Iterator[BatchT]) -> Iterator[BatchT]:
    """``items``, the time taken to make each one added to ``stage``."""
    while True:
        started = time.perf_counter()
        item = next(items, None)
        TIMINGS.add(stage, time.perf_counter() - started)
        if item is None:
            return
        yield item


def _count_pages(results: list[PageResult]) -> None:
    """Add the pages' decode and extract seconds, measured where they ran."""
    for result in results:
        TIMINGS.add("decode", result.seconds[0], 1)
        TIMINGS.add("extract", result.seconds[1], 1)
