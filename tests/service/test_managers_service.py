"""Managers inside the service: POST /managers/run, /readyz and /metrics health, events."""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from planvec.service.app import create_app
from planvec.service.config import ServiceSettings
from planvec.service.state import ServiceState
from planvec.settings import Settings

TOKEN = "t0ken-for-tests"
MANIFESTS = Path(__file__).resolve().parents[1] / "fixtures" / "manifests"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return Path(shutil.copytree(MANIFESTS, tmp_path / "project"))


@pytest.fixture
def client(plan_dir: Path, project: Path, tmp_path: Path) -> Iterator[TestClient]:
    settings = Settings(index_dir=tmp_path / "index", embedder="hashing", cache_dir=tmp_path / "c")
    config = ServiceSettings(
        index=settings, paths=(plan_dir,), token=TOKEN, sync_on_start=False,
        manager_paths=(project,),
    )  # fmt: skip
    state = ServiceState(config)
    state.open()
    state.sync()
    try:
        with TestClient(create_app(config, state=state)) as c:
            c.headers["Authorization"] = f"Bearer {TOKEN}"
            yield c
    finally:
        state.close()


def test_managers_health_runs_and_events(client: TestClient, project: Path) -> None:
    ready = client.get("/readyz").json()
    deps = next(m for m in ready["managers"] if m["name"] == "dependencies")
    assert ready["ready"] and deps["status"] == "absent" and deps["items"] == 0

    report = client.post("/managers/run", json={"names": ["dependencies"]}).json()
    assert report["ok"] and report["managers"][0]["items"] == 32
    assert report["managers"][0]["findings"][0]["kind"] == "conflict"

    (project / "admin" / "requirements.txt").write_text("redis>=5\n", encoding="utf-8")
    again = client.post("/managers/run", json={}).json()
    events = [f for m in again["managers"] for f in m["findings"] if f["kind"] == "event"]
    assert [e["details"]["key"] for e in events] == ["requirements:redis"]

    deps = next(m for m in client.get("/readyz").json()["managers"] if m["name"] == "dependencies")
    assert deps["status"] == "ok" and deps["items"] == 33
    text = client.get("/metrics").text
    assert 'planvec_manager_items{manager="dependencies"} 33.0' in text
    assert 'planvec_manager_up{manager="dependencies"} 1.0' in text
    assert 'planvec_manager_events_total{event="added",manager="dependencies"} 1.0' in text
    assert 'planvec_manager_runs_total{manager="dependencies",outcome="ok"} 2.0' in text
    assert "planvec_index_points 9.0" in text  # the plans' collection is untouched

    unknown = client.post("/managers/run", json={"names": ["nope"]})
    assert unknown.status_code == 400 and "unknown manager" in unknown.text


def _deps_items(client: TestClient) -> int:
    managers = client.get("/readyz").json().get("managers", [])
    return next((m["items"] for m in managers if m["name"] == "dependencies"), -1)


def _wait_for(predicate: Callable[[], bool], timeout: float = 60) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.2)
    return False


def test_watch_reruns_the_dependency_manager_when_a_manifest_changes(
    plan_dir: Path, project: Path, tmp_path: Path
) -> None:
    settings = Settings(index_dir=tmp_path / "index", embedder="hashing", cache_dir=tmp_path / "c")
    config = ServiceSettings(
        index=settings, paths=(plan_dir,), token=TOKEN, watch=True, debounce=0.05,
        manager_paths=(project,),
    )  # fmt: skip
    with TestClient(create_app(config)) as client:
        client.headers["Authorization"] = f"Bearer {TOKEN}"
        assert _wait_for(lambda: _deps_items(client) == 32), "no startup managers run"
        manifest = project / "worker" / "pyproject.toml"
        text = manifest.read_text(encoding="utf-8")
        manifest.write_text(text.replace('boto3 = "~1.34"', 'boto3 = "~1.34"\nhvac = "^2.1"'))
        assert _wait_for(lambda: _deps_items(client) == 33), "the manifest change was missed"
        # the items are visible once written; the run's counters follow when it returns
        added = 'planvec_manager_events_total{event="added",manager="dependencies"} 1.0'
        assert _wait_for(lambda: added in client.get("/metrics").text), "no added event"
