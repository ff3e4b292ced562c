"""Threads that overlap the stages of a sync: parsing runs ahead, writing runs behind.

Why: embedding dominates a full sync, and ONNX Runtime releases the GIL while it runs. Parsing
(pure Python) and building and writing points (lexical vectors in Python, the store in Rust)
fit in those gaps when each has its own thread, so the embedder is rarely kept waiting.

Both stages are bounded queues, so memory stays bounded whatever the corpus size. The writer is
one thread that runs its jobs one at a time, in the order they were submitted, and stops at
the first failure without running what was queued after it: the sync's write order (upserts of
a plan before its deletes), on which its crash safety rests, is kept exactly.
"""

from __future__ import annotations

import contextlib
import queue
import threading
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

T = TypeVar("T")

_DONE = object()


def prefetch(items: Iterator[T], stop: threading.Event, depth: int = 4) -> Iterator[T]:
    """Run ``items`` (parsing) in a thread, ``depth`` items ahead of the consumer.

    An exception raised by ``items`` is re-raised in the consumer's thread. Setting ``stop``
    (or closing the returned generator) ends the producer thread.
    """
    q: queue.Queue[Any] = queue.Queue(maxsize=depth)
    errors: list[BaseException] = []

    def put(item: object) -> bool:
        while not stop.is_set():
            try:
                q.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for item in items:
                if not put(item):
                    return
        except BaseException as exc:  # re-raised in the consumer thread
            errors.append(exc)
        finally:
            put(_DONE)

    thread = threading.Thread(target=produce, name="planvec-parse", daemon=True)
    thread.start()
    try:
        while True:
            item = q.get()
            if item is _DONE:
                break
            yield item
        if errors:
            raise errors[0]
    finally:
        stop.set()
        thread.join(timeout=5)


class OrderedWorker:
    """Runs submitted jobs one at a time, in submission order, on one background thread.

    ``submit`` blocks while ``depth`` jobs are waiting (back-pressure). After a job fails, no
    later job runs: the failure is raised by the next ``submit`` or by ``drain``.
    """

    def __init__(self, name: str, depth: int = 2) -> None:
        self._q: queue.Queue[Any] = queue.Queue(maxsize=depth)
        self._error: BaseException | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._work, name=name, daemon=True)
        self._thread.start()

    def _work(self) -> None:
        while True:
            job = self._q.get()
            if job is _DONE or self._stop.is_set():
                return
            if self._error is not None:
                continue  # a job failed: drop the rest, keep draining so submitters never block
            try:
                job()
            except BaseException as exc:  # re-raised in the submitter's thread
                self._error = exc

    def _raise_error(self) -> None:
        if self._error is not None:
            raise self._error

    def submit(self, job: Callable[[], None]) -> None:
        """Queue ``job``; raises the error of an earlier job, if any."""
        self._raise_error()
        while True:
            try:
                self._q.put(job, timeout=0.1)
                return
            except queue.Full:
                self._raise_error()
                if not self._thread.is_alive():
                    raise RuntimeError("the writer thread stopped") from None

    def drain(self) -> None:
        """Wait until every queued job has run; raises the first failure."""
        self._q.put(_DONE)
        self._thread.join()
        self._raise_error()

    def cancel(self) -> None:
        """Stop after the job in progress; queued jobs are dropped (used on Ctrl-C)."""
        self._stop.set()
        with contextlib.suppress(queue.Full):
            self._q.put_nowait(_DONE)
        self._thread.join(timeout=60)
