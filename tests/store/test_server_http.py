"""Server mode against a tiny local HTTP endpoint: transient statuses are retried, others not.

No Qdrant server is needed: the endpoint answers every request with a fixed status, which is
enough to check retry counts, error classes, messages and that the API key is sent but never
shown.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from planvec.errors import StoreError, StoreUnavailable
from planvec.store import open_store


class Endpoint:
    def __init__(self, status: int) -> None:
        self.status = status
        self.requests: list[tuple[str, str | None]] = []


@pytest.fixture
def endpoint() -> Iterator[tuple[Endpoint, str]]:
    state = Endpoint(503)

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            state.requests.append((self.path, self.headers.get("api-key")))
            body = b'{"status":{"error":"nope"}}'
            self.send_response(state.status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield state, f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize("status", [429, 502, 503])
def test_transient_statuses_are_retried(
    endpoint: tuple[Endpoint, str], tmp_path: Path, status: int
) -> None:
    state, url = endpoint
    state.status = status
    store = open_store(
        index_dir=tmp_path, qdrant_url=url, api_key="k-123", retries=3, base_delay=0.001
    )
    try:
        with pytest.raises(StoreUnavailable, match="gave up after 3 attempts") as info:
            store.count("tasks")
    finally:
        store.close()
    assert len(state.requests) == 3
    assert all(key == "k-123" for _, key in state.requests)  # the key is sent...
    assert "k-123" not in str(info.value)  # ...and never shown


@pytest.mark.parametrize(("status", "hint"), [(401, "PLANVEC_API_KEY"), (400, "failed")])
def test_permanent_statuses_fail_fast(
    endpoint: tuple[Endpoint, str], tmp_path: Path, status: int, hint: str
) -> None:
    state, url = endpoint
    state.status = status
    store = open_store(index_dir=tmp_path, qdrant_url=url, api_key="k-123", retries=5)
    try:
        with pytest.raises(StoreError, match=hint) as info:
            store.count("tasks")
    finally:
        store.close()
    assert not isinstance(info.value, StoreUnavailable)
    assert len(state.requests) == 1
