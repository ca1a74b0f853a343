"""Page extraction in this process or in a pool of worker processes, for ``extract --workers N``."""

from __future__ import annotations

import multiprocessing
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any, Protocol, TypeVar

from archive.gc_freeze import freeze_start_up
from archive.store.pages import PageJob, PageResult, extract_pages


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
        self.pool = self._new_pool() if workers > 1 else None

    def _new_pool(self) -> ProcessPoolExecutor:
        return ProcessPoolExecutor(
            self.workers,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=freeze_start_up,
            initargs=(GC_THRESHOLD,),
        )

    def run(self, batches: Iterator[BatchT]) -> Iterator[tuple[BatchT, list[PageResult]]]:
        """Each batch with the results of its page jobs, in order."""
        if self.pool is None:
            for batch in batches:
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
            self.pool = self._new_pool()
            return [(chunk, self.pool.submit(extract_pages, chunk)) for chunk in chunks]

    def _collect(
        self, batch: BatchT, tasks: list[tuple[list[PageJob], Future]]
    ) -> tuple[BatchT, list[PageResult]]:
        results: list[PageResult] = []
        for chunk, future in tasks:
            try:
                results += future.result()
            except BrokenProcessPool:
                self.retried += len(chunk)
                results += extract_pages(chunk)
        return batch, results

    def close(self) -> None:
        if self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=True)
