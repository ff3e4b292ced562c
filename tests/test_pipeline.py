"""The pipeline stages: order, back-pressure, and the stop-at-first-failure rule."""

from __future__ import annotations

import threading
import time

import pytest

from planvec.pipeline import OrderedWorker, prefetch


def test_worker_runs_jobs_in_submission_order() -> None:
    done: list[int] = []
    worker = OrderedWorker("test", depth=2)
    for i in range(50):
        worker.submit(lambda i=i: (time.sleep(0.001 * (i % 3)), done.append(i)))
    worker.drain()
    assert done == list(range(50))


def test_no_job_runs_after_a_failure_and_the_failure_reaches_the_submitter() -> None:
    done: list[int] = []

    def fail() -> None:
        raise OSError("disk full")

    worker = OrderedWorker("test", depth=8)
    worker.submit(lambda: done.append(1))
    worker.submit(fail)
    for i in range(2, 6):  # e.g. the deletes that must not follow a failed upsert
        try:
            worker.submit(lambda i=i: done.append(i))
        except OSError:
            break
    with pytest.raises(OSError, match="disk full"):
        worker.drain()
    assert done == [1]


def test_submit_blocks_while_the_queue_is_full() -> None:
    gate = threading.Event()
    worker = OrderedWorker("test", depth=1)
    worker.submit(gate.wait)  # running
    worker.submit(lambda: None)  # queued: the queue is now full
    started = time.perf_counter()
    threading.Timer(0.2, gate.set).start()
    worker.submit(lambda: None)  # waits for the gate
    assert time.perf_counter() - started >= 0.15
    worker.drain()


def test_cancel_drops_queued_jobs() -> None:
    gate = threading.Event()
    done: list[int] = []
    worker = OrderedWorker("test", depth=4)
    worker.submit(gate.wait)
    for i in range(3):
        worker.submit(lambda i=i: done.append(i))
    threading.Timer(0.1, gate.set).start()
    worker.cancel()  # while the first job still runs: it finishes, the queued ones never start
    assert done == []


def test_prefetch_yields_everything_and_reraises_the_producer_error() -> None:
    def items():  # type: ignore[no-untyped-def]
        yield from range(10)
        raise ValueError("bad plan source")

    got: list[int] = []
    with pytest.raises(ValueError, match="bad plan source"):
        for x in prefetch(items(), threading.Event(), depth=2):
            got.append(x)
    assert got == list(range(10))


def test_prefetch_is_starved_only_while_the_producer_works_on_the_next_item() -> None:
    gate = threading.Event()

    def items():  # type: ignore[no-untyped-def]
        yield 1
        gate.wait(5)  # parsing the next file
        yield 2

    stream = prefetch(items(), threading.Event(), depth=2)
    assert next(stream) == 1
    deadline = time.monotonic() + 5
    while not stream.starved() and time.monotonic() < deadline:
        time.sleep(0.01)
    assert stream.starved()  # nothing queued, the producer is inside the gate
    gate.set()
    assert next(stream) == 2
    while stream.starved() and time.monotonic() < deadline:
        time.sleep(0.01)
    assert not stream.starved()  # the end marker is queued: no more waiting
    assert list(stream) == []


def test_closing_a_prefetch_nothing_was_read_from_ends_its_thread() -> None:
    started = threading.Event()

    def items():  # type: ignore[no-untyped-def]
        started.set()
        while True:
            yield 1

    stream = prefetch(items(), threading.Event(), depth=2)
    started.wait(5)
    stream.close()
    assert not [t for t in threading.enumerate() if t.name == "planvec-parse" and t.is_alive()]


def test_prefetch_bounds_the_weight_it_holds_not_the_item_count() -> None:
    produced: list[int] = []

    def items():  # type: ignore[no-untyped-def]
        for w in [1] * 8 + [100, 1]:
            produced.append(w)
            yield w

    stream = prefetch(items(), threading.Event(), weight=lambda w: w, budget=5)

    def settled(n: int) -> bool:
        deadline = time.monotonic() + 5
        while len(produced) < n and time.monotonic() < deadline:
            time.sleep(0.01)
        time.sleep(0.1)
        return len(produced) == n

    # five light items queued (budget 5), the sixth waits in put: more than a depth of 4
    assert settled(6)
    assert [next(stream) for _ in range(8)] == [1] * 8
    # an item heavier than the whole budget still goes through once the queue is empty
    assert next(stream) == 100
    assert list(stream) == [1]
