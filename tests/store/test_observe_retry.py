"""Metrics observer, retry policy arithmetic, batching and RRF helpers."""

from __future__ import annotations

from pathlib import Path

import pytest

from planvec.errors import StoreError, StoreTimeout
from planvec.records import point_id
from planvec.store import (
    CollectionSpec,
    MetricsObserver,
    OperationEvent,
    PointRecord,
    RetryPolicy,
    ScoredPoint,
    SearchRequest,
    open_store,
)
from planvec.store.common import batched, point_size, rrf_fuse
from planvec.store.observe import FanoutObserver


def test_metrics_observer_counts_real_store_calls(tmp_path: Path) -> None:
    metrics = MetricsObserver()
    store = open_store(index_dir=tmp_path, qdrant_url="memory://", observer=metrics)
    try:
        store.ensure_collection("c", CollectionSpec(dimension=3, sparse=False))
        points = [
            PointRecord(id=point_id(str(i)), vector=[1.0, i, 0.5], payload={}) for i in range(7)
        ]
        store.upsert("c", points)
        store.search("c", SearchRequest(dense=[1.0, 0.0, 0.0], limit=3))
        with pytest.raises(StoreError):
            store.count("missing")
    finally:
        store.close()
    assert metrics.counter("upsert", "calls") == 1
    assert metrics.counter("upsert", "points") == 7
    assert metrics.counter("search", "points") == 3
    assert metrics.counter("count", "errors") == 1
    rows = {r["operation"]: r for r in metrics.snapshot()["operations"]}
    latency = rows["upsert"]["latency"]
    assert latency["count"] == 1 and latency["buckets"][-1] == ["+Inf", 1]
    assert latency["sum"] > 0
    counts = [c for _, c in latency["buckets"]]
    assert counts == sorted(counts)  # cumulative, Prometheus style


def test_broken_observer_never_breaks_a_call(tmp_path: Path) -> None:
    class Broken:
        def on_operation(self, event: OperationEvent) -> None:
            raise RuntimeError("observer bug")

    metrics = MetricsObserver()
    store = open_store(
        index_dir=tmp_path, qdrant_url="memory://", observer=FanoutObserver(Broken(), metrics)
    )
    try:
        store.ensure_collection("c", CollectionSpec(dimension=2, sparse=False))
        assert store.count("c") == 0
    finally:
        store.close()
    assert metrics.counter("count", "calls") == 1


def test_backoff_is_exponential_capped_and_jittered() -> None:
    policy = RetryPolicy(attempts=6, base_delay=0.5, ceiling=3.0, jitter=False)
    assert [policy.backoff(i) for i in range(5)] == [0.5, 1.0, 2.0, 3.0, 3.0]
    assert policy.budget() == pytest.approx(9.5)
    jittered = RetryPolicy(attempts=6, base_delay=0.5, ceiling=3.0, seed=1)
    draws = [jittered.backoff(3) for _ in range(200)]
    assert all(0 <= d <= 3.0 for d in draws) and len(set(draws)) > 150


def test_retry_sleeps_then_raises_translated_timeout() -> None:
    slept: list[float] = []
    policy = RetryPolicy(attempts=3, base_delay=0.1, ceiling=1.0, jitter=False, sleep=slept.append)
    calls = []

    def slow() -> None:
        calls.append(1)
        raise TimeoutError("read timed out")

    with pytest.raises(StoreTimeout, match="gave up after 3 attempts"):
        policy.run("search", slow, backend="server", location="http://q:6333")
    assert len(calls) == 3 and slept == [0.1, 0.2]


def test_batches_bounded_by_count_and_bytes() -> None:
    points = [
        PointRecord(id=point_id(str(i)), vector=[0.0] * 100, payload={"t": "x" * 1000})
        for i in range(50)
    ]
    size = point_size(points[0])
    by_count = list(batched(points, max_points=16))
    assert [len(b) for b in by_count] == [16, 16, 16, 2]
    by_bytes = list(batched(points, max_points=1000, max_bytes=size * 5))
    assert all(len(b) == 5 for b in by_bytes) and sum(map(len, by_bytes)) == 50
    huge = list(batched(points[:2], max_points=10, max_bytes=10))
    assert [len(b) for b in huge] == [1, 1]  # an oversized point still goes, alone


def test_rrf_fuse_matches_qdrant_formula() -> None:
    a = [ScoredPoint(id=i, score=1.0, payload={}) for i in (1, 2, 3)]
    b = [ScoredPoint(id=i, score=1.0, payload={}) for i in (3, 4)]
    fused = rrf_fuse([a, b], k=60, weights=[1.0, 3.0], limit=3)
    assert [h.id for h in fused] == [3, 4, 1]
    assert fused[0].score == pytest.approx(1 / 62 + 1 / (1 / 3 + 59))


def test_parallel_upload_sums_and_stops_at_first_error() -> None:
    import threading

    from planvec.store.server import QdrantServerStore

    store = QdrantServerStore(None, backend="server", location="http://x", parallel=3)
    seen: list[int] = []
    lock = threading.Lock()

    def send(batch: list[int]) -> int:
        with lock:
            seen.append(batch[0])
        if batch[0] == 5:
            raise StoreError("batch 5 rejected")
        return len(batch)

    assert store._parallel(send, iter([[i] * 4 for i in range(5)])) == 20
    seen.clear()
    with pytest.raises(StoreError, match="batch 5"):
        store._parallel(send, iter([[i] * 4 for i in range(100)]))
    assert 5 in seen and len(seen) < 100  # nothing is sent once a batch failed (bounded)


def test_otel_spans_when_installed(tmp_path: Path) -> None:
    pytest.importorskip("opentelemetry.sdk.trace")
    from opentelemetry import trace
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    trace.set_tracer_provider(provider)
    store = open_store(index_dir=tmp_path, qdrant_url="memory://")
    try:
        store.ensure_collection("c", CollectionSpec(dimension=2, sparse=False))
        store.count("c")
    finally:
        store.close()
    spans = {s.name: s for s in exporter.get_finished_spans()}
    assert {"planvec.store.ensure_collection", "planvec.store.count"} <= set(spans)
    assert spans["planvec.store.count"].attributes["planvec.store.backend"] == "memory"
