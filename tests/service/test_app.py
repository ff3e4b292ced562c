"""The ASGI app in process (Starlette's TestClient): endpoints, errors, limits, auth, OpenAPI.

Runs against a real Edge index in a temp dir, built with the hashing embedder.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from planvec.service.app import create_app
from planvec.service.config import ServiceSettings
from planvec.service.state import ServiceState
from planvec.settings import Settings

TOKEN = "t0ken-for-tests"


@pytest.fixture
def state(plan_dir: Path, tmp_path: Path) -> Iterator[ServiceState]:
    settings = Settings(index_dir=tmp_path / "index", embedder="hashing", cache_dir=tmp_path / "c")
    config = ServiceSettings(
        index=settings, paths=(plan_dir,), token=TOKEN, max_limit=50, sync_on_start=False
    )
    service = ServiceState(config)
    service.open()
    service.sync()
    yield service
    service.close()


@pytest.fixture
def client(state: ServiceState) -> Iterator[TestClient]:
    with TestClient(create_app(state.config, state=state)) as c:
        c.headers["Authorization"] = f"Bearer {TOKEN}"
        yield c


def test_search_returns_hits_with_filters(client: TestClient) -> None:
    body = client.post("/search", json={"query": "sauvegarde base de données", "limit": 3})
    assert body.status_code == 200
    hits = body.json()["hits"]
    assert 1 <= len(hits) <= 3
    assert "sauvegarde" in hits[0]["text"]
    done = client.post("/search", json={"query": "sauvegarde", "status": "done"}).json()["hits"]
    assert done and all(h["status"] == "done" for h in done)


def test_tasks_and_plans(client: TestClient) -> None:
    hit = client.post("/search", json={"query": "rotation des sauvegardes", "limit": 1}).json()
    task_id = hit["hits"][0]["id"]
    view = client.get(f"/tasks/{task_id}").json()
    assert view["task"]["key"] == "1.1.2"
    assert [p["key"] for p in view["parents"]] == ["1.1"]
    plans = client.get("/plans").json()
    assert plans["total"] == {"plans": 2, "tasks": 9, "done": 3, "percent": 33.3}
    one = client.get("/plans/sub/notes.md").json()
    assert (one["plan"], one["tasks"], one["done"], one["percent"]) == ("sub/notes.md", 2, 1, 50.0)
    roadmap = client.get("/plans/roadmap.md").json()
    assert [s["title"] for s in roadmap["sections"]] == ["Phase 1 : Fondations", "Phase 2 : API"]


def test_errors_are_problem_details(client: TestClient) -> None:
    missing = client.get("/tasks/00000000-0000-0000-0000-000000000000")
    assert missing.status_code == 404
    assert missing.headers["content-type"] == "application/problem+json"
    assert missing.json()["title"] == "TaskNotFound" and missing.json()["status"] == 404
    assert client.get("/plans/nope.md").status_code == 404
    unknown = client.get("/nowhere")
    assert unknown.status_code == 404 and unknown.json()["status"] == 404
    bad = client.post("/search", json={"query": ""})
    assert bad.status_code == 422 and bad.json()["errors"]


def test_limits_on_limit_query_and_body(client: TestClient, state: ServiceState) -> None:
    assert client.post("/search", json={"query": "x", "limit": 51}).status_code == 422
    long_query = "x" * (state.config.max_query_chars + 1)
    assert client.post("/search", json={"query": long_query}).status_code == 422
    huge = b'{"query": "' + b"x" * (state.config.max_body + 10) + b'"}'
    too_big = client.post("/search", content=huge, headers={"content-type": "application/json"})
    assert too_big.status_code == 413 and too_big.json()["status"] == 413


def test_token_required_but_not_for_probes(client: TestClient) -> None:
    del client.headers["Authorization"]
    assert client.post("/search", json={"query": "x"}).status_code == 401
    wrong = client.get("/plans", headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401 and wrong.headers["www-authenticate"] == "Bearer"
    assert client.get("/healthz").status_code == 200
    assert client.get("/readyz").status_code == 200
    assert client.get("/metrics").status_code == 200


def test_readyz_reports_freshness(client: TestClient, plan_dir: Path) -> None:
    ready = client.get("/readyz").json()
    assert ready["ready"] and ready["fresh"] and ready["plans_changed_since_sync"] == 0
    assert ready["checks"]["manifest"]["ok"] and ready["last_sync_at"]
    (plan_dir / "roadmap.md").write_text("# R\n\n- [ ] new task\n", encoding="utf-8")
    stale = client.get("/readyz").json()
    assert stale["plans_changed_since_sync"] == 1 and not stale["fresh"]
    assert client.get("/readyz?strict=true").status_code == 503
    refused = client.post("/sync", json={})  # the deletion guard: 7 of 7 tasks of a plan
    assert refused.status_code == 409 and refused.json()["title"] == "DeleteRefused"
    report = client.post("/sync", json={"allow_delete": True}).json()
    assert report["deleted"] == 7 and report["added"] == 1
    assert client.get("/readyz?strict=true").status_code == 200


def test_sync_is_refused_while_one_runs(client: TestClient, state: ServiceState) -> None:
    assert state._sync_lock.acquire(blocking=False)  # a sync in progress
    try:
        busy = client.post("/sync", json={})
        assert busy.status_code == 409 and busy.json()["title"] == "SyncBusy"
    finally:
        state._sync_lock.release()
    assert client.post("/sync", json={"dry_run": True}).status_code == 200


def test_check_quality_health_and_metrics(client: TestClient, plan_dir: Path) -> None:
    check = client.get("/check", params={"path": str(plan_dir), "render": "true"}).json()
    assert check["exit_code"] == 0 and "markdown" in check
    quality = client.get("/quality", params={"sample": 20}).json()
    assert quality["points"] == 9 and "self_retrieval_at1" in quality["metrics"]
    assert client.get("/health").json()["ok"] is True
    client.post("/search", json={"query": "api"})
    text = client.get("/metrics").text
    assert "planvec_index_points 9.0" in text
    assert 'planvec_sync_runs_total{outcome="ok",trigger="api"}' in text
    assert "planvec_search_duration_seconds_count" in text
    assert 'planvec_store_request_duration_seconds_count{backend="edge",operation="search"}' in text


def test_openapi_is_served(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    assert {"/search", "/sync", "/tasks/{task_id}", "/plans", "/check", "/quality"} <= set(
        spec["paths"]
    )


def test_non_loopback_without_token_is_refused(tmp_path: Path) -> None:
    from planvec.errors import ConfigError

    config = ServiceSettings(index=Settings(index_dir=tmp_path / "i"), host="0.0.0.0")
    with pytest.raises(ConfigError, match="PLANVEC_API_TOKEN"):
        create_app(config)


def test_the_owner_warms_its_store_for_searches_at_start(
    state: ServiceState, caplog: pytest.LogCaptureFixture
) -> None:
    """A background job reads every payload once (``EdgeStore.warm``) so that the first
    search of each task does not pay for it; searches answer meanwhile."""
    import threading

    caplog.set_level("INFO", logger="planvec.service")
    with TestClient(create_app(state.config, state=state)) as c:
        c.headers["Authorization"] = f"Bearer {TOKEN}"
        assert c.post("/search", json={"query": "sauvegarde"}).status_code == 200
        for thread in threading.enumerate():
            if thread.name == "planvec-warm-up":
                thread.join(30)
    points = state.index.count()
    assert points > 0
    assert f"search warm-up: {points} points read" in caplog.text
    stopped = threading.Event()
    stopped.set()
    assert state.warm_up(stopped) == 0  # a stop asked before the first page reads nothing
