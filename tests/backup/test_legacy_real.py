"""The legacy migration on what the real legacy writers leave (tests/fixtures/legacy/).

The collection is rebuilt in qdrant-client local mode from ``points.json`` (made by
``make_fixture.py``, which re-enacts the three writers); the plans are real corpus files.
The embedder is the deterministic hashing one.
"""

from __future__ import annotations

import importlib.util
import json
import re
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from planvec.backup.legacy import LegacyPoints, integrity_report, read_points
from planvec.backup.legacy_migration import migrate_legacy
from planvec.backup.legacy_payloads import LegacyTask, NotATask, read_legacy_point
from planvec.backup.legacy_plans import legacy_plans
from planvec.index import sources_for
from planvec.records import point_id
from planvec.sources.files import parse_paths
from planvec.store import open_store
from planvec.store.base import PointRecord, VectorStore

from .conftest import FIXTURES, make_index

LEGACY = FIXTURES / "legacy"
PLANS = LEGACY / "plans"
V8 = "completed/plan-dev-v8-RAG-roadmap-s11.md"
V20 = "consolidated/plan-dev-v20-observabilite-monitoring.md"
V56 = "consolidated/plan-dev-v56-go-native-vectorization-migration.md"
#: the writers' regex, written out here independently of planvec.backup.legacy_payloads
WRITER_REGEX = re.compile(r"- \[([ xX])\]\s+(?:\*\*)?(\d+(?:\.\d+)*)(?:\*\*)?\s+(.*?)(?:\r?\n|$)")


def _fixture_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("make_fixture", LEGACY / "make_fixture.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


FIXTURE = _fixture_module()


def _points() -> list[PointRecord]:
    return [
        PointRecord(id=p["id"], vector=None, payload=p["payload"]) for p in FIXTURE.load_points()
    ]


def _tasks() -> list[LegacyTask]:
    return [t for t in read_points(_points()) if isinstance(t, LegacyTask)]


def _captured_lines(rel: str) -> set[int]:
    text = (PLANS / rel).read_text(encoding="utf-8")
    return {text.count("\n", 0, m.start()) + 1 for m in WRITER_REGEX.finditer(text)}


def test_the_generator_reproduces_the_committed_points() -> None:
    written = FIXTURE.history()
    assert FIXTURE.surviving(written) == FIXTURE.load_points()
    assert len(written) > len(FIXTURE.load_points())  # overwrites happened


def _payload_of(task_id: str, file: str, camel: bool = True) -> dict[str, Any]:
    for p in FIXTURE.load_points():
        body = p["payload"]
        key, where = ("taskId", "filePath") if camel else ("task_id", "file_path")
        if body.get(key) == task_id and body.get(where) == file:
            return {"id": p["id"], "vector": None, "payload": body}
    raise AssertionError((task_id, file))


def test_each_writer_shape_is_mapped() -> None:
    demo = read_legacy_point(PointRecord(**_payload_of("9.9", "plan-dev-v0-archive.md")))
    assert isinstance(demo, LegacyTask) and demo.shape == "camelCase"
    assert (demo.key, demo.status, demo.legacy_status) == ("9.9", "todo", "pending")
    meta = demo.metadata
    assert meta["priority"] == "P1" and meta["mvp"] is True and meta["category"] == "backend"
    assert meta["estimate"] == "1j" and meta["estimate_minutes"] == 480
    plain = read_legacy_point(
        PointRecord(**_payload_of("11.1.1", "plan-dev-v8-RAG-roadmap-s11.md"))
    )
    assert isinstance(plain, LegacyTask) and plain.status == "done"
    assert "priority" not in plain.metadata  # the writers' "P3" default is no priority
    assert "category" not in plain.metadata  # nor is "non_categorise"
    assert plain.section == ("11. Conclusion et prochaines étapes",)
    assert plain.parent_key == "11.1" and plain.text.startswith("11.1.1 Implémentation")
    meta_sync = read_legacy_point(
        PointRecord(**_payload_of("11.1.1", "plan-dev-v8-RAG-roadmap-s11.md", camel=False))
    )
    assert isinstance(meta_sync, LegacyTask) and meta_sync.shape == "snake_case"
    assert (meta_sync.key, meta_sync.status, meta_sync.file) == (
        "11.1.1",
        "done",
        "plan-dev-v8-RAG-roadmap-s11.md",
    )
    assert meta_sync.metadata["legacy_phase"] == 11
    first = FIXTURE.load_points()[0]
    test_point = read_legacy_point(
        PointRecord(id=first["id"], vector=None, payload=first["payload"])
    )
    assert isinstance(test_point, NotATask) and test_point.kind == "test-point"
    mixed = read_legacy_point(
        PointRecord(id=9, vector=None, payload={"taskId": "1", "task_id": "1"})
    )
    assert isinstance(mixed, NotATask) and mixed.kind == "mixed"


def test_integrity_report_names_what_is_no_task_and_what_was_overwritten() -> None:
    report = integrity_report(_points(), dimension=1536)
    assert report.shapes == {"camelCase": 259, "snake_case": 25, "test-point": 1}
    assert [n["legacy_id"] for n in report.not_tasks] == [0]
    assert report.overwritten[0]["legacy_id"] == 0  # the meta-sync's first task
    assert not report.missing_file and not report.missing_task_id
    # re-runs appended duplicates, across both payload shapes
    v8 = [d for d in report.duplicates if d["file"] == "plan-dev-v8-RAG-roadmap-s11.md"]
    assert len(v8) == 26 and ["camelCase", "snake_case"] in [d["shapes"] for d in v8]
    assert [c["task_id"] for c in report.colliding] == ["11.2.1.1"]  # reworded between runs


def test_placement_finds_the_real_files_and_reports_the_rest() -> None:
    plans, placement = legacy_plans(_tasks(), PLANS)
    by_path = {p.path: p for p in plans}
    assert set(by_path) == {V8, V20, V56, "plan-dev-v0-archive.md"}
    # the basename is found twice (the corpus root holds a 3-byte copy): resolved by content
    (resolved,) = placement.by_content
    assert resolved["plan"] == V20 and resolved["candidates"][Path(V20).name] == 0
    (gone,) = placement.not_found
    assert gone["file"] == "plan-dev-v0-archive.md" and gone["tasks"] == [
        "1.1",
        "1.2",
        "1.2.1",
        "9.9",
    ]
    assert not placement.ambiguous
    assert [s["task_id"] for s in placement.stale] == ["11.2.3.4"]
    assert [s["task_id"] for s in placement.superseded] == ["11.2.1.1"]
    # lost points: lines the writers captured whose point another file's shared id overwrote
    recovered = {(r["plan"], r["task_id"]): r["why"] for r in placement.recovered}
    assert len(recovered) == 32 and all(plan == V20 for plan, _ in recovered)
    assert "plan-dev-v56" in recovered[(V20, "1.1.1.1")]
    assert "plan-dev-v0-archive.md" in recovered[(V20, "1.1")]
    stored = {(t.file, t.key) for t in _tasks()}
    for _, key in recovered:
        assert ("plan-dev-v20-observabilite-monitoring.md", key) not in stored
    # every placed task is the parser's own task, on a line the writers captured
    parsed = {p.path: p for p in parse_paths([PLANS])[0]}
    for path in (V8, V20, V56):
        own = {t.id: t for t in parsed[path].tasks}
        placed = [t for t in by_path[path].tasks if t.line]
        assert all(own[t.id] == t for t in placed)
        assert {t.line for t in placed} == _captured_lines(path)


def test_a_name_held_by_two_plans_is_reported_not_guessed(tmp_path: Path) -> None:
    for folder in ("a", "b"):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "plan-dev-v0-archive.md").write_bytes(
            (LEGACY / "removed" / "plan-dev-v0-archive.md").read_bytes()
        )
    plans, placement = legacy_plans(_tasks(), tmp_path)
    (ambiguous,) = [a for a in placement.ambiguous if a["file"] == "plan-dev-v0-archive.md"]
    assert ambiguous["candidates"] == {"a/plan-dev-v0-archive.md": 4, "b/plan-dev-v0-archive.md": 4}
    assert ambiguous["tasks"] == ["1.1", "1.2", "1.2.1", "9.9"]
    assert "--plan-for" in ambiguous["why"]
    kept = next(p for p in plans if p.path == "plan-dev-v0-archive.md")
    assert [t.key for t in kept.tasks] == ["1.1", "1.2", "1.2.1", "9.9"]
    # the user chooses; a choice that names no plan is reported, not followed
    choice = {"plan-dev-v0-archive.md": "b/plan-dev-v0-archive.md"}
    plans, placement = legacy_plans(_tasks(), tmp_path, choice)
    assert placement.resolved["plan-dev-v0-archive.md"] == "b/plan-dev-v0-archive.md"
    placed = next(p for p in plans if p.path == "b/plan-dev-v0-archive.md")
    assert [(t.key, t.line) for t in placed.tasks] == [
        ("1.1", 5),
        ("1.2", 6),
        ("1.2.1", 7),
        ("9.9", 8),
    ]
    _, placement = legacy_plans(_tasks(), tmp_path, {"plan-dev-v0-archive.md": "c/x.md"})
    (wrong,) = [n for n in placement.not_found if n["file"] == "plan-dev-v0-archive.md"]
    assert "c/x.md" in wrong["why"]


def test_without_plans_tasks_keep_their_key_and_file_name() -> None:
    plans, placement = legacy_plans(_tasks())
    assert placement.plans_root is None
    by_path = {p.path: p for p in plans}
    assert set(by_path) == {
        "plan-dev-v8-RAG-roadmap-s11.md",
        "plan-dev-v20-observabilite-monitoring.md",
        "plan-dev-v56-go-native-vectorization-migration.md",
        "plan-dev-v0-archive.md",
    }
    archive = {t.key: t for t in by_path["plan-dev-v0-archive.md"].tasks}
    assert archive["1.2.1"].id == point_id("plan-dev-v0-archive.md", "key", "1.2.1")
    assert archive["1.2.1"].parent_id == archive["1.2"].id and archive["1.1"].status == "done"


@pytest.fixture(scope="module")
def built_legacy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The fixture collection in qdrant-client local mode, built once per module."""
    from qdrant_client import QdrantClient

    path = tmp_path_factory.mktemp("legacy") / "legacy-qdrant"
    client = QdrantClient(path=str(path))
    try:
        FIXTURE.build_collection(client)
    finally:
        client.close()
    return path


def _local_legacy(built: Path, tmp_path: Path) -> str:
    """A private copy of the built collection (a migration may delete it)."""
    import shutil

    path = tmp_path / "legacy-qdrant"
    shutil.copytree(built, path)
    return f"local://{path}"


@pytest.fixture
def migrated(
    store_at: Callable[[str, str], VectorStore], tmp_path: Path, built_legacy: Path
) -> tuple[Any, Any, VectorStore]:
    url = _local_legacy(built_legacy, tmp_path)
    source = open_store(index_dir=tmp_path / "scratch", qdrant_url=url)
    index = make_index(store_at("edge", "target"))
    report = migrate_legacy(LegacyPoints(store=source), index, tmp_path / "out", plans_root=PLANS)
    return report, index, source


def test_realistic_migration_passes_and_the_index_then_continues_incrementally(
    migrated: tuple[Any, Any, VectorStore], tmp_path: Path
) -> None:
    report, index, source = migrated
    try:
        assert report.verified, report.problems
        assert report.integrity.points == 285 and report.check["status"] == "ok"
        points = list(index.points.scroll())
        stored = {(p.payload["plan"], p.payload["key"]): p.payload for p in points}
        ids = {(p.payload["plan"], p.payload["key"]): str(p.id) for p in points}
        assert {plan for plan, _ in stored} == {V8, V20, V56, "plan-dev-v0-archive.md"}
        assert stored[(V8, "11.1.1")]["status"] == "done" and stored[(V8, "11.1.1")]["line"] == 7
        assert stored[("plan-dev-v0-archive.md", "1.2")]["status"] == "todo"
        md = Path(report.report_path).read_text(encoding="utf-8")
        assert "**PASSED**" in md and "simple_vectorize.py test point" in md
        assert "plan-dev-v0-archive.md" in md and "11.2.3.4" in md and "plan-dev-v56" in md
        # every legacy point that is a task maps to its planvec id, duplicates included
        id_map = json.loads(Path(report.id_map_path).read_text(encoding="utf-8"))
        assert "0" not in id_map and len(id_map) == 285 - 1 - len(report.placement.superseded)
        v8_copies = [
            str(p["id"])
            for p in FIXTURE.load_points()
            if p["payload"].get("taskId", p["payload"].get("task_id")) == "11.1.1"
        ]
        assert len(v8_copies) == 3
        assert {id_map[c]["id"] for c in v8_copies} == {ids[(V8, "11.1.1")]}
        # `planvec index PLANS --dry-run` right after: deletes nothing the plans hold, adds
        # exactly the tasks the writers' regex never captured, rewrites nothing
        dry = index.sync(sources_for([PLANS]), dry_run=True)
        parsed = {t.id: t for p in parse_paths([PLANS])[0] for t in p.tasks}
        deleted = [c for c in dry.changes if c.action.startswith("delete")]
        assert deleted and not [c for c in deleted if c.id in parsed]
        assert {c.plan for c in deleted if c.action == "delete-plan"} == {"plan-dev-v0-archive.md"}
        added = {c.id for c in dry.changes if c.action == "add"}
        uncaptured = {
            t.id
            for t in parsed.values()
            if t.plan in (V8, V20, V56) and t.line not in _captured_lines(t.plan)
        }
        assert added == uncaptured and len(added) == report.placement.uncaptured == 30
        assert dry.updated == dry.payload_only == 0
        index.sync(sources_for([PLANS]))
        assert index.sync(sources_for([PLANS]), dry_run=True).written == 0
    finally:
        source.close()


def test_a_target_that_already_indexed_the_plans_loses_nothing(
    store_at: Callable[[str, str], VectorStore], tmp_path: Path, built_legacy: Path
) -> None:
    url = _local_legacy(built_legacy, tmp_path)
    source = open_store(index_dir=tmp_path / "scratch", qdrant_url=url)
    try:
        index = make_index(store_at("edge", "target"))
        index.sync(sources_for([PLANS]))
        before = index.points.count()
        report = migrate_legacy(
            LegacyPoints(store=source), index, tmp_path / "out", plans_root=PLANS
        )
        assert not report.verified and "already holds points" in report.problems[0]
        assert index.points.count() == before
    finally:
        source.close()


def test_the_user_scenario_through_the_cli(tmp_path: Path, built_legacy: Path) -> None:
    """`migrate-legacy --from-url local://... --plans-root plans/`, then `index --dry-run`."""
    from click.testing import CliRunner

    from planvec.cli.main import cli

    url, idx = _local_legacy(built_legacy, tmp_path), str(tmp_path / "idx")
    args = ["migrate-legacy", "--from-url", url, "--plans-root", str(PLANS), "--index", idx,
            "--offline", "--report-dir", str(tmp_path / "rep")]  # fmt: skip
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, (result.output, result.stderr)
    assert "1 not tasks (not migrated)" in result.stdout
    assert "3 files resolved, 1 not found, 0 ambiguous" in result.stdout
    assert "verification PASSED" in result.stdout
    result = CliRunner().invoke(
        cli, ["index", str(PLANS), "--index", idx, "--offline", "--dry-run", "--json"]
    )
    assert result.exit_code == 0, (result.output, result.stderr)
    plan = json.loads(result.stdout)
    deleted = [c for c in plan["changes"] if c["action"].startswith("delete")]
    # only what the plans do not hold: the deleted plan and the task removed from v8
    assert [c["plan"] for c in deleted if c["action"] == "delete-plan"] == [
        "plan-dev-v0-archive.md"
    ]
    assert [c["plan"] for c in deleted if c["action"] == "delete"] == [V8]
    assert plan["added"] == 30 and plan["updated"] == plan["payload_only"] == 0
    bad = CliRunner().invoke(cli, [*args, "--plan-for", "no-equal-sign"])
    assert bad.exit_code == 2 and "NAME=PATH" in bad.stderr and "Traceback" not in bad.output


def test_the_whole_corpus_vectorized_with_one_hash_seed_is_placed_back(corpus_dir: Path) -> None:
    """The main writer run on every DEV plan (one PYTHONHASHSEED), placed with the plans."""
    import os
    import subprocess
    import sys

    files = sorted(str(p) for p in corpus_dir.rglob("*.md"))
    code = (
        "import json, sys; sys.path.insert(0, sys.argv[1]); import make_fixture as F; "
        "print(json.dumps([p for f in sys.argv[2:] for p in "
        "F.vectorize_single_file(f, '2025-06-01T00:00:00')]))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, str(LEGACY), *files],
        env={**os.environ, "PYTHONHASHSEED": "7"}, capture_output=True, text=True, check=True,
    )  # fmt: skip
    written = json.loads(out.stdout)
    points = [
        PointRecord(id=p["id"], vector=None, payload=p["payload"])
        for p in FIXTURE.surviving(written)
    ]
    assert len(points) < len(written)  # keys shared across files overwrote each other
    report = integrity_report(points)
    assert set(report.shapes) == {"camelCase"} and not report.missing_file
    tasks = [t for t in read_points(points) if isinstance(t, LegacyTask)]
    plans, placement = legacy_plans(tasks, corpus_dir)
    # the plans did not change since the run: everything is placed, nothing is stale
    assert not (placement.not_found or placement.ambiguous or placement.stale)
    assert not placement.status_differs
    for resolved in placement.by_content:  # root stubs of the same name hold nothing
        assert sorted(resolved["candidates"].values())[:-1] == [0]
    parsed = {p.path: p for p in parse_paths([corpus_dir])[0]}
    placed = 0
    for plan in plans:
        own = {t.id: t for t in parsed[plan.path].tasks}
        assert all(own[t.id] == t for t in plan.tasks)  # the parser's own tasks, ids included
        text = (corpus_dir / plan.path).read_text(encoding="utf-8")
        lines = {text.count("\n", 0, m.start()) + 1 for m in WRITER_REGEX.finditer(text)}
        assert {t.line for t in plan.tasks} == lines & {t.line for t in own.values()}
        placed += len(plan.tasks)
    total = sum(len(parsed[p.path].tasks) for p in plans)
    assert placed + placement.uncaptured == total
    assert len(placement.recovered) == placed - placement.matched_by_key - len(
        placement.matched_by_text
    )
