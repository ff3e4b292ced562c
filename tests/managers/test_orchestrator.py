"""The orchestrator on real manifests and a real Edge index (hashing embedder)."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from planvec.checks.verify import check_index
from planvec.errors import ConfigError
from planvec.hookspecs import hookimpl
from planvec.managers.base import Finding, Manager, ManagerInputs
from planvec.managers.dependencies import COLLECTION, DependencyManager
from planvec.managers.orchestrator import run_managers
from planvec.managers.registry import all_managers, select_managers
from planvec.plugins import plugin_manager
from planvec.records import Plan, SourceFailure
from planvec.settings import Settings
from planvec.wiring import open_index


class _Broken:
    """A manager whose source yields one file, then raises (a bug mid-run)."""

    name = "broken"
    kind = "broken"
    collection = "planvec_broken"
    order = 5

    def source(self, inputs: ManagerInputs) -> Any:
        class _Source:
            def iter_plans(self) -> Iterator[Plan | SourceFailure]:
                yield Plan(path="one.txt", title=None, version=None, tasks=())
                raise RuntimeError("parser exploded on two.txt")

        return _Source()

    def analyse(self, index: Any, report: Any, inputs: ManagerInputs) -> Sequence[Finding]:
        return []


class _BrokenPlugin:
    @hookimpl
    def register_managers(self, register: Callable[..., None]) -> None:
        register(_Broken())


@pytest.fixture
def broken_manager() -> Iterator[None]:
    pm = plugin_manager()
    plugin = _BrokenPlugin()
    pm.register(plugin, name="test-broken-manager")
    try:
        yield
    finally:
        pm.unregister(plugin)


def _inputs(project: Path) -> ManagerInputs:
    return ManagerInputs(paths=(project,))


def test_the_dependency_manager_is_registered_through_the_hook() -> None:
    managers = all_managers()
    assert any(isinstance(m, DependencyManager) for m in managers)
    assert all(isinstance(m, Manager) for m in managers)
    with pytest.raises(ConfigError, match=r"unknown manager 'nope'.*dependencies"):
        select_managers(["nope"])


def test_run_indexes_dependencies_and_finds_the_planted_conflict_only(
    project: Path, settings: Settings
) -> None:
    report = run_managers(settings, _inputs(project), ["dependencies"])
    assert report.exit_code == 0 and report.failed == []
    run = report.runs[0]
    assert run.collection == COLLECTION and run.items == 32 and run.sync["added"] == 32
    conflicts = report.findings("conflict")
    assert [c.details["name"] for c in conflicts] == ["react"]  # requests: compatible
    pair = conflicts[0].details["pairs"][0]
    assert {(p["manifest"], p["constraint"]) for p in pair} == {
        ("admin/package.json", "^17.0.2"),
        ("web/package.json", "^18.2.0"),
    }
    assert report.findings("event") == []  # a first run is the baseline, not 32 events
    markdown = report.to_markdown()
    assert "| dependencies | dependency | `planvec_dependencies` | ok | 32 |" in markdown
    assert "react" in markdown and "admin/package.json:6" in markdown

    with open_index(replace(settings, collection=COLLECTION)) as index:
        payloads = [p.payload for p in index.points.scroll()]
        assert {p["kind"] for p in payloads} == {"dependency"}
        assert {p["status"] for p in payloads} == {"item"}
        react = next(p for p in payloads if p["key"] == "dependencies:react" and "web" in p["plan"])
        assert react["metadata"]["resolved"] == "18.2.0" and react["line"] == 9
        # `planvec check` accepts a manager collection: a sync would write nothing
        checked = check_index(index, DependencyManager().source(_inputs(project)))
        assert checked.exit_code == 0, [f.message for f in checked.findings]

    again = run_managers(settings, _inputs(project), ["dependencies"])
    assert again.runs[0].sync["unchanged"] == 32 and again.runs[0].sync["added"] == 0


def test_a_dependency_added_since_the_last_run_is_an_event(
    project: Path, settings: Settings
) -> None:
    run_managers(settings, _inputs(project))
    manifest = project / "api" / "requirements.txt"
    manifest.write_text(manifest.read_text() + "redis>=5.0\n", encoding="utf-8")
    seen: list[Finding] = []
    report = run_managers(settings, _inputs(project), on_event=seen.append)
    events = report.findings("event")
    assert len(events) == 1 and seen == events
    assert events[0].details["key"] == "requirements:redis"
    assert events[0].details["plan"] == "api/requirements.txt" and events[0].details["line"] == 8
    assert "redis >=5.0" in events[0].message


def test_one_manager_raising_mid_run_does_not_stop_the_others(
    project: Path, settings: Settings, broken_manager: None
) -> None:
    assert [m.name for m in all_managers()][:2] == ["broken", "dependencies"]
    report = run_managers(settings, _inputs(project))
    assert report.failed == ["broken"] and report.exit_code == 1
    runs = {run.name: run for run in report.runs}
    broken, deps = runs.pop("broken"), runs.pop("dependencies")
    assert broken.status == "failed" and "parser exploded on two.txt" in (broken.error or "")
    assert deps.status == "ok" and deps.items == 32
    # the other built-in managers ran too; schemas had no DSN: skipped, not failed
    assert {name: run.status for name, run in runs.items()} == {
        "configs": "ok",
        "schemas": "skipped",
        "security": "ok",
    }
    assert report.to_dict()["failed"] == ["broken"]
    assert "**failed**: RuntimeError: parser exploded" in report.to_markdown()
    with open_index(replace(settings, collection="planvec_broken")) as index:
        assert index.count() == 0  # nothing half-synced: the source failed before the sync


def test_a_broken_manifest_fails_alone_and_keeps_its_indexed_items(
    project: Path, settings: Settings
) -> None:
    run_managers(settings, _inputs(project))
    (project / "web" / "package.json").write_text("{broken", encoding="utf-8")
    report = run_managers(settings, _inputs(project))
    run = report.runs[0]
    assert run.status == "ok" and report.exit_code == 1
    assert [f["path"] for f in run.sync["failures"]] == ["web/package.json"]
    assert run.items == 32  # the broken file's dependencies stay indexed
