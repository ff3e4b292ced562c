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

import collections
import contextlib
import queue
import threading
from collections.abc import Callable, Generator, Iterator
from typing import Any, TypeVar

T = TypeVar("T")

_DONE = object()


class Prefetched(Iterator[T]):
    """``items`` (parsing) run in a thread, ahead of the consumer by a bounded amount.

    The bound is a ``budget`` of ``weight(item)`` summed over the queued items (default:
    each item weighs 1 and the budget is ``depth``), so a sync can bound what it holds in
    tasks rather than in plans: many light items (unchanged files, plans with a few changed
    tasks) queue up while the consumer is busy embedding, a few heavy ones do not. One item
    always fits, whatever its weight. An exception raised by ``items`` is re-raised in the
    consumer's thread. Setting ``stop`` (or closing this iterator) ends the producer
    thread. ``starved`` tells the consumer that its next item is not ready yet, so it can
    do useful work (embed what it holds) instead of waiting for it.
    """

    def __init__(
        self,
        items: Iterator[T],
        stop: threading.Event,
        depth: int = 4,
        *,
        weight: Callable[[T], int] | None = None,
        budget: int | None = None,
    ) -> None:
        self._queue: collections.deque[tuple[Any, int]] = collections.deque()
        self._held = 0  # the weight queued
        self._cond = threading.Condition()
        self._weight = weight
        self._budget = max(1, budget if budget is not None else depth)
        self._stop = stop
        self._errors: list[BaseException] = []
        self._items = items
        self._thread = threading.Thread(target=self._produce, name="planvec-parse", daemon=True)
        self._thread.start()
        self._consumer = self._consume()

    def _put(self, item: Any) -> bool:
        w = max(1, self._weight(item)) if self._weight else 1
        with self._cond:
            while self._queue and self._held + w > self._budget:
                if self._stop.is_set():
                    return False
                self._cond.wait(0.1)
            if self._stop.is_set():
                return False
            self._queue.append((item, w))
            self._held += w
            self._cond.notify_all()
        return True

    def _get(self) -> Any:
        with self._cond:
            while not self._queue:
                self._cond.wait()
            item, w = self._queue.popleft()
            self._held -= w
            self._cond.notify_all()
        return item

    def _produce(self) -> None:
        try:
            for item in self._items:
                if not self._put(item):
                    return
        except BaseException as exc:  # re-raised in the consumer thread
            self._errors.append(exc)
        finally:
            self._put_done()

    def _put_done(self) -> None:
        """The end marker: never refused (the consumer may be waiting for it)."""
        with self._cond:
            self._queue.append((_DONE, 0))
            self._cond.notify_all()

    def _consume(self) -> Generator[T, None, None]:
        try:
            while True:
                item = self._get()
                if item is _DONE:
                    break
                yield item
            if self._errors:
                raise self._errors[0]
        finally:
            self._stop.set()
            self._thread.join(timeout=5)

    def __next__(self) -> T:
        return next(self._consumer)

    def close(self) -> None:
        """End the producer thread and wait for it (the consumer stops here), whether or
        not anything was consumed."""
        self._stop.set()
        self._consumer.close()
        self._thread.join(timeout=5)

    def starved(self) -> bool:
        """Whether the next item is not ready: nothing is queued and the producer still runs
        (a hint, true at the moment of the call)."""
        return not self._queue and self._thread.is_alive()


def prefetch(
    items: Iterator[T],
    stop: threading.Event,
    depth: int = 4,
    *,
    weight: Callable[[T], int] | None = None,
    budget: int | None = None,
) -> Prefetched[T]:
    """Run ``items`` in a thread, ahead of the consumer (``Prefetched``)."""
    return Prefetched(items, stop, depth, weight=weight, budget=budget)


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
