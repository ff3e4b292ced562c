"""`planvec serve --watch` follows edits, atomic saves and deletions; drift alerts reach a
webhook (a local HTTP receiver). Real owner subprocesses on 127.0.0.1."""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

import pytest

from .conftest import Owner, start_owner
from .test_owner import _http

pytestmark = pytest.mark.timeout(180)


def _eventually(check: Callable[[], bool], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.1)
    raise AssertionError("condition not met in time")


def _texts(owner: Owner, plan: str) -> list[str]:
    status, body = _http(owner, "POST", "/search", {"query": "task", "plan": plan, "limit": 50})
    return sorted(h["text"] for h in body["hits"]) if status == 200 else []  # type: ignore[index]


def _plan_count(owner: Owner) -> int:
    status, body = _http(owner, "GET", "/plans")
    return int(body["total"]["plans"]) if status == 200 else -1  # type: ignore[index]


def test_watch_follows_edits_atomic_saves_and_deletions(
    plan_dir: Path, tmp_path: Path, owner_factory: list[Owner]
) -> None:
    owner = start_owner(tmp_path, str(plan_dir), "--watch", "--debounce", "0.5")
    owner_factory.append(owner)
    _eventually(lambda: _plan_count(owner) == 2)
    new = plan_dir / "new.md"
    new.write_text("# New\n\n- [ ] first task\n", encoding="utf-8")
    _eventually(lambda: _texts(owner, "new.md") == ["first task"])
    # a burst of saves gives one sync (or two on a loaded machine), not one per save
    runs_before = _quiet_sync_runs(owner)
    for i in range(10):
        new.write_text(f"# New\n\n- [ ] first task\n- [ ] burst task {i}\n", encoding="utf-8")
    _eventually(lambda: "burst task 9" in _texts(owner, "new.md"))
    assert _quiet_sync_runs(owner) - runs_before <= 2
    # an editor's atomic save: write a temp file, rename it over the plan
    tmp = plan_dir / ".new.md.swp"
    tmp.write_text("# New\n\n- [x] first task\n- [ ] saved atomically\n", encoding="utf-8")
    os.replace(tmp, new)
    _eventually(lambda: _texts(owner, "new.md") == ["first task", "saved atomically"])
    (plan_dir / "sub" / "notes.md").unlink()
    _eventually(lambda: _plan_count(owner) == 2 and not _texts(owner, "sub/notes.md"))
    status, metrics = owner_metrics(owner)
    assert status == 200 and "planvec_watch_events_total" in metrics
    assert owner.stop() == 0


def _quiet_sync_runs(owner: Owner, quiet: float = 1.5) -> float:
    """The sync count once it stopped moving for ``quiet`` seconds."""
    last, since = _sync_runs(owner), time.monotonic()
    while time.monotonic() - since < quiet:
        time.sleep(0.2)
        now = _sync_runs(owner)
        if now != last:
            last, since = now, time.monotonic()
    return last


def _sync_runs(owner: Owner) -> float:
    _, text = owner_metrics(owner)
    return sum(
        float(line.rsplit(" ", 1)[1])
        for line in text.splitlines()
        if line.startswith("planvec_sync_runs_total{") and 'outcome="ok"' in line
    )


def owner_metrics(owner: Owner) -> tuple[int, str]:
    import urllib.request

    with urllib.request.urlopen(owner.info.url + "/metrics", timeout=30) as response:
        return response.status, response.read().decode()


@pytest.fixture
def receiver() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    """A local webhook receiver: the JSON bodies it got."""
    received: list[dict[str, Any]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers["Content-Length"])
            received.append(json.loads(self.rfile.read(length)))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/hook", received
    server.shutdown()
    server.server_close()


def test_quality_drift_posts_the_webhook(
    plan_dir: Path,
    tmp_path: Path,
    owner_factory: list[Owner],
    receiver: tuple[str, list[dict[str, Any]]],
) -> None:
    url, received = receiver
    index_dir = tmp_path / ".planvec"
    # the baseline stored with the index claims a far better model than the one serving now
    baseline = index_dir / ".planvec_tasks.quality-baseline.json"
    index_dir.mkdir()
    baseline.write_text(
        json.dumps(
            {"schema_version": 1, "model_id": "better", "metrics": {"probe_accuracy": 1.0,
             "probe_mrr": 1.0, "self_retrieval_at1": 1.0, "self_retrieval_mrr": 1.0}}
        ),
        encoding="utf-8",
    )  # fmt: skip
    baseline.chmod(0o600)
    owner = start_owner(tmp_path, str(plan_dir), "--quality-interval", "0.5", "--webhook-url", url)
    owner_factory.append(owner)
    _eventually(lambda: bool(received), timeout=60)
    alert = received[0]
    assert alert["event"] == "quality_drift" and alert["alerts"]
    assert alert["comparison"]["probe_accuracy"]["baseline"] == 1.0
    _, text = owner_metrics(owner)
    assert "planvec_quality_alert 1.0" in text
    assert 'planvec_webhook_posts_total{outcome="ok"}' in text
    assert owner.stop() == 0
