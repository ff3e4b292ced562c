"""Index syncs against a failing store: transient faults, a store that dies mid-run, and a
loopback HTTP proxy that drops connections, stalls past the timeout and answers 503/429.

With 20-30 % of store attempts failing (before the write, or *after* it was applied), a sync
must end identical to a clean one. With the store gone, the error is a clear
``StoreUnavailable``; once it is back, the next run resumes and converges.
"""

from __future__ import annotations

import json
import random
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from planvec.errors import StoreUnavailable
from planvec.index import sources_for
from planvec.store import FaultInjector, open_store
from planvec.store.retry import InjectedFault, Phase

from .conftest import Figures, full_run
from .helpers import diff_counts, make_index, plan_slice, snapshot

pytestmark = pytest.mark.reliability


@pytest.fixture(scope="module")
def plans(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return plan_slice(tmp_path_factory.mktemp("faults") / "plans", files=4)


@pytest.fixture(scope="module")
def clean_states(plans: Path, tmp_path_factory: pytest.TempPathFactory) -> Any:
    """A clean sync per backend, made on first use (Edge keeps sparse values in float32,
    memory in float64, so each backend is compared with itself)."""
    cache: dict[str, Any] = {}

    def get(backend: str) -> Any:
        if backend not in cache:
            url = None if backend == "edge" else "memory://"
            where = tmp_path_factory.mktemp(f"clean-{backend}")
            store = open_store(index_dir=where, qdrant_url=url)
            try:
                assert make_index(store).sync(sources_for([plans])).added > 100
                cache[backend] = snapshot(store)
            finally:
                store.close()
        return cache[backend]

    return get


def _store(backend: str, where: Path, hook: Any, retries: int = 12) -> Any:
    url = None if backend == "edge" else "memory://"
    return open_store(
        index_dir=where,
        qdrant_url=url,
        retries=retries,
        base_delay=0.001,
        retry_ceiling=0.005,
        fault_hook=hook,
        batch_size=16,  # more write calls, more chances to fail
    )


@pytest.mark.parametrize("backend", ["memory", "edge"])
@pytest.mark.parametrize("rate", [0.2, 0.3])
def test_sync_under_transient_faults_equals_a_clean_sync(
    request: pytest.FixtureRequest,
    backend: str,
    rate: float,
    plans: Path,
    clean_states: Any,
    tmp_path: Path,
    figures: Figures,
) -> None:
    if (rate, backend) != (0.3, "edge") and not full_run(request):
        pytest.skip("runs with --reliability-full (make test runs 30 % on Edge)")
    clean_state = clean_states(backend)
    injector = FaultInjector(rate=rate, after_share=0.5, seed=int(rate * 100))
    store = _store(backend, tmp_path / "faulty", injector)
    try:
        index = make_index(store)
        report = index.sync(sources_for([plans]))
        assert report.failed == 0
        got = snapshot(store)
        again = index.sync(sources_for([plans]))  # nothing left to do, even under faults
        assert again.added + again.updated + again.payload_only + again.deleted == 0
    finally:
        store.close()
    lost, orphaned, differing = diff_counts(clean_state, got)
    figures.add("store_faults", "faults_injected", injector.injected)
    figures.add("store_faults", "syncs_under_faults", 2)
    figures.add("store_faults", "points_lost", lost)
    assert (lost, orphaned, differing) == (0, 0, 0)
    assert injector.injected >= 10, "the injector barely fired: the test proves nothing"


class DyingStore:
    """A fault hook: every write fails once ``down`` is set (a server that went away)."""

    def __init__(self, fail_after_writes: int) -> None:
        self.writes = 0
        self.fail_after = fail_after_writes
        self.down = False
        self.refused = 0

    def __call__(self, operation: str, phase: Phase) -> None:
        if phase != "before":
            return
        if operation in ("upsert", "delete", "set_payload"):
            self.writes += 1
            if self.writes > self.fail_after:
                self.down = True
        if self.down:
            self.refused += 1
            raise InjectedFault(f"connection refused ({operation})")


@pytest.mark.parametrize("backend", ["memory", "edge"])
def test_store_gone_mid_sync_is_a_clear_error_and_the_next_run_resumes(
    request: pytest.FixtureRequest,
    backend: str,
    plans: Path,
    clean_states: Any,
    tmp_path: Path,
    figures: Figures,
) -> None:
    if backend == "edge" and not full_run(request):
        pytest.skip("runs with --reliability-full (make test runs it on memory)")
    clean_state = clean_states(backend)
    hook = DyingStore(fail_after_writes=5)
    store = _store(backend, tmp_path / "dying", hook, retries=3)
    try:
        index = make_index(store)
        with pytest.raises(StoreUnavailable) as info:
            index.sync(sources_for([plans]))
        message = str(info.value)
        assert "failed transiently" in message and "gave up after 3 attempts" in message
        hook.down, hook.fail_after = False, 10**9  # the store is back
        partial = store.count("planvec_tasks")
        assert 0 < partial < len(clean_state)
        resumed = index.sync(sources_for([plans]))
        assert resumed.added == len(clean_state) - partial  # only what was missing
        got = snapshot(store)
    finally:
        store.close()
    figures.add("store_faults", "faults_injected", hook.refused)
    figures.add("store_faults", "outages_survived", 1)
    assert diff_counts(clean_state, got) == (0, 0, 0)


# -- loopback HTTP proxy in front of a (tiny, fake) Qdrant endpoint -----------------------------

COLLECTIONS = ["alpha", "beta", "planvec_tasks"]


class _Upstream(BaseHTTPRequestHandler):
    """Answers ``GET /collections`` like Qdrant does; nothing else is needed here."""

    def do_GET(self) -> None:
        if self.path.rstrip("/") == "/collections":
            body = json.dumps(
                {
                    "result": {"collections": [{"name": n} for n in COLLECTIONS]},
                    "status": "ok",
                    "time": 0.0,
                }
            ).encode()
            self.send_response(200)
        else:
            body = b'{"status":{"error":"not found"}}'
            self.send_response(404)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


class ProxyState:
    def __init__(self, upstream: str, rate: float, stall: float, seed: int) -> None:
        self.upstream = upstream
        self.rate = rate
        self.stall = stall
        self.rng = random.Random(seed)
        self.lock = threading.Lock()
        self.faults: dict[str, int] = {}
        self.forwarded = 0

    def draw(self) -> str:
        with self.lock:
            if self.rng.random() >= self.rate:
                self.forwarded += 1
                return "forward"
            kind = self.rng.choice(["drop", "stall", "503", "429"])
            self.faults[kind] = self.faults.get(kind, 0) + 1
            return kind


def _proxy_handler(state: ProxyState) -> type[BaseHTTPRequestHandler]:
    import http.client
    from urllib.parse import urlsplit

    class Proxy(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _relay(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else None
            fault = state.draw()
            if fault == "drop":  # close without answering: the client sees a dead connection
                self.close_connection = True
                return
            if fault in ("503", "429"):
                payload = b'{"status":{"error":"try later"}}'
                self.send_response(int(fault))
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                if fault == "429":
                    self.send_header("Retry-After", "0")
                self.end_headers()
                self.wfile.write(payload)
                return
            if fault == "stall":
                time.sleep(state.stall)  # longer than the client's timeout
            target = urlsplit(state.upstream)
            conn = http.client.HTTPConnection(target.hostname or "", target.port, timeout=5)
            try:
                headers = {k: v for k, v in self.headers.items() if k.lower() != "host"}
                conn.request(self.command, self.path, body=body, headers=headers)
                answer = conn.getresponse()
                data = answer.read()
            finally:
                conn.close()
            try:
                self.send_response(answer.status)
                self.send_header("Content-Type", answer.getheader("Content-Type") or "")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
            except (BrokenPipeError, ConnectionResetError):  # the client gave up (stall)
                self.close_connection = True

        do_GET = do_POST = do_PUT = do_DELETE = _relay

        def log_message(self, *args: object) -> None:
            pass

    return Proxy


def _serve(handler: type[BaseHTTPRequestHandler], port: int = 0) -> ThreadingHTTPServer:
    server = ThreadingHTTPServer(("127.0.0.1", port), handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    return server


def _stop(server: ThreadingHTTPServer) -> None:
    server.shutdown()
    server.server_close()


@pytest.fixture
def upstream() -> Iterator[str]:
    server = _serve(_Upstream)
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        _stop(server)


def test_http_proxy_faults_are_survived_and_a_dead_server_is_clear(
    upstream: str, tmp_path: Path, request: pytest.FixtureRequest, figures: Figures
) -> None:
    calls = 150 if full_run(request) else 40
    state = ProxyState(upstream, rate=0.3, stall=0.6, seed=11)
    proxy = _serve(_proxy_handler(state))
    port = proxy.server_address[1]
    url = f"http://127.0.0.1:{port}"
    store = open_store(
        index_dir=tmp_path, qdrant_url=url, timeout=0.3, retries=15, base_delay=0.01,
        retry_ceiling=0.05, api_key="proxy-secret-key",
    )  # fmt: skip
    try:
        for _ in range(calls):
            assert store.list_collections() == COLLECTIONS
        injected = sum(state.faults.values())
        assert injected >= 5 and len(state.faults) >= 3, state.faults
        _stop(proxy)  # the server goes away
        with pytest.raises(StoreUnavailable) as info:
            store.list_collections()
        message = str(info.value)
        assert url in message and "not reachable" in message and "gave up" in message
        assert "proxy-secret-key" not in message
    finally:
        store.close()
    # it comes back on the same address: the next run works
    state.rate = 0.0
    proxy = _serve(_proxy_handler(state), port=port)
    store = open_store(index_dir=tmp_path, qdrant_url=url, timeout=1, retries=3)
    try:
        assert store.list_collections() == COLLECTIONS
    finally:
        store.close()
        _stop(proxy)
    figures.add("http_proxy_faults", "requests", calls)
    for kind, count in state.faults.items():
        figures.add("http_proxy_faults", f"fault {kind}", count)
    figures.add("http_proxy_faults", "faults_injected", injected)


def test_rate_limited_429_with_retry_after_is_retried() -> None:
    """Qdrant answers rate limiting with 429 + Retry-After; qdrant-client turns that into
    ``ResourceExhaustedResponse`` (no status code): it must be retried, not fail the run."""
    from qdrant_client.common.client_exceptions import ResourceExhaustedResponse

    from planvec.store.retry import RetryPolicy, classify

    exc = ResourceExhaustedResponse("too many requests", 1)
    assert classify(exc) == "unavailable"
    slept: list[float] = []
    answers: list[Exception | str] = [exc, "ok"]

    def call() -> str:
        item = answers.pop(0)
        if isinstance(item, Exception):
            raise item
        return item

    policy = RetryPolicy(attempts=3, base_delay=0.01, ceiling=5, sleep=slept.append, seed=1)
    assert policy.run("count", call, backend="server", location="http://q") == "ok"
    assert slept == [1.0]  # the server's Retry-After is honoured (within the ceiling)
