"""Retries under injected faults: same final points as a clean run, clear errors, no half-done."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from planvec.errors import StoreError, StoreUnavailable
from planvec.records import point_id
from planvec.store import (
    FaultInjector,
    Filter,
    MatchValue,
    MetricsObserver,
    PointRecord,
    SparseVector,
    VectorStore,
)
from planvec.store.retry import InjectedFault, Phase

from .conftest import make_store
from .test_contract import SPEC, vec

NAME = "faulty"


def workload(store: VectorStore) -> None:
    """A sync-like sequence of every write operation."""
    store.ensure_collection(NAME, SPEC)
    points = [
        PointRecord(
            id=point_id("f", str(i)),
            vector=vec(i),
            payload={"status": "todo" if i % 2 else "done", "plan": f"p{i % 5}", "line": i},
            sparse=SparseVector((i % 50, 60 + i % 3), (1.0, 0.5)),
        )
        for i in range(200)
    ]
    assert store.upsert(NAME, points) == 200
    store.set_payload(NAME, {p.id: {**p.payload, "status": "done"} for p in points[:30]})
    store.delete(NAME, ids=[p.id for p in points[30:40]])
    store.delete(NAME, filter=Filter(must=(MatchValue("plan", "p4"),)))
    store.upsert(
        NAME,
        [
            PointRecord(id=p.id, vector=vec(p.payload["line"] + 1000), payload={"v": 2})
            for p in points[50:70]
        ],
    )
    store.write_manifest(NAME, {"done": True, "points": store.count(NAME)})


def state(store: VectorStore) -> tuple[dict[Any, Any], dict[str, Any] | None]:
    points = {
        p.id: (p.payload, [round(x, 5) for x in p.vector or []], p.sparse)
        for p in store.scroll(NAME, with_vectors=True)
    }
    return points, store.read_manifest(NAME)


@pytest.mark.parametrize("backend", ["edge", "memory"], indirect=True)
def test_transient_faults_end_in_the_clean_state(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    clean = make_store(backend, tmp_path / "clean", request.config, batch_size=32)
    try:
        workload(clean)
        expected = state(clean)
    finally:
        clean.close()
    injector = FaultInjector(rate=0.35, after_share=0.5, seed=7)
    metrics = MetricsObserver()
    faulty = make_store(
        backend,
        tmp_path / "faulty",
        request.config,
        batch_size=32,
        retries=12,
        fault_hook=injector,
        observer=metrics,
    )
    try:
        workload(faulty)
        assert state(faulty) == expected
    finally:
        faulty.close()
    assert injector.injected >= 10  # faults before and after writes were really injected
    retries = sum(row["retries"] for row in metrics.snapshot()["operations"])
    assert retries == injector.injected
    assert metrics.counter("upsert", "points") == 220


@pytest.mark.parametrize("backend", ["edge", "memory"], indirect=True)
def test_always_failing_store_gives_up_within_budget(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    store = make_store(
        backend,
        tmp_path,
        request.config,
        retries=4,
        base_delay=0.01,
        retry_ceiling=0.02,
        fault_hook=FaultInjector(always=True),
    )
    try:
        start = time.perf_counter()
        with pytest.raises(StoreUnavailable, match="gave up after 4 attempts"):
            store.ensure_collection(NAME, SPEC)
        assert time.perf_counter() - start < 2.0  # budget: 0.01 + 0.02 + 0.02 s of sleep
    finally:
        store.close()


class FailFrom:
    """Fails every attempt of ``operation`` after the first ``ok`` ones (a dying server)."""

    def __init__(self, operation: str, ok: int) -> None:
        self.operation, self.ok, self.calls = operation, ok, 0

    def __call__(self, operation: str, phase: Phase) -> None:
        if operation == self.operation and phase == "before":
            self.calls += 1
            if self.calls > self.ok:
                raise InjectedFault("server went away")


@pytest.mark.parametrize("backend", ["edge", "memory"], indirect=True)
def test_interrupted_upsert_is_not_reported_done_and_resumes(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    hook = FailFrom("upsert", ok=3)
    store = make_store(backend, tmp_path, request.config, batch_size=10, retries=2, fault_hook=hook)
    try:
        store.ensure_collection(NAME, SPEC)
        points = [
            PointRecord(id=point_id("r", str(i)), vector=vec(i), payload={"i": i})
            for i in range(100)
        ]
        with pytest.raises(StoreUnavailable):
            store.upsert(NAME, points)
        assert store.count(NAME) == 30  # three batches landed; the call still failed
        hook.ok = 10**9  # the server is back: re-running the same upsert completes it
        assert store.upsert(NAME, points) == 100
        assert store.count(NAME) == 100
    finally:
        store.close()


def test_unreachable_server_is_a_clear_error(tmp_path: Path) -> None:
    from planvec.store import open_store

    store = open_store(
        index_dir=tmp_path,
        qdrant_url="http://127.0.0.1:9",
        api_key="secret-key-123",
        retries=3,
        base_delay=0.01,
        retry_ceiling=0.01,
        timeout=2,
    )
    try:
        health = store.health()
        assert not health.ok
        assert "not reachable" in health.detail and "secret-key-123" not in health.detail
        with pytest.raises(StoreUnavailable) as info:
            store.count("anything")
        message = str(info.value)
        assert "http://127.0.0.1:9" in message and "embedded default" in message
        assert "gave up after 3 attempts" in message
        assert "secret-key-123" not in message
    finally:
        store.close()


def test_http_status_classification() -> None:
    import httpx
    from qdrant_client.http.exceptions import ResponseHandlingException, UnexpectedResponse

    from planvec.store.retry import classify, translate

    def response(status: int) -> UnexpectedResponse:
        return UnexpectedResponse(status, "x", b'{"status":"err"}', httpx.Headers())

    assert classify(response(429)) == "unavailable"
    assert classify(response(503)) == "unavailable"
    assert classify(response(400)) == "permanent"
    assert classify(ResponseHandlingException(httpx.ReadTimeout("slow"))) == "timeout"
    assert classify(ResponseHandlingException(httpx.ConnectError("refused"))) == "unavailable"
    denied = translate(response(401), backend="server", location="https://q", operation="count")
    assert "PLANVEC_API_KEY" in str(denied)
    assert isinstance(denied, StoreError)


def test_permanent_errors_fail_fast(tmp_path: Path, request: pytest.FixtureRequest) -> None:
    calls = []

    def hook(operation: str, phase: Phase) -> None:
        calls.append(operation)

    store = make_store("memory", tmp_path, request.config, retries=5, fault_hook=hook)
    try:
        store.ensure_collection(NAME, SPEC)
        calls.clear()
        bad = PointRecord(
            id=point_id("x"), vector=vec(1), payload={}, sparse=SparseVector((1, 1), (1.0, 2.0))
        )
        with pytest.raises(StoreError):
            store.upsert(NAME, [bad])  # duplicate sparse indices: the backend rejects it
        assert calls.count("upsert") == 1  # not retried
    finally:
        store.close()
