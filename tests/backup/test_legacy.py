"""The legacy ``roadmap_tasks`` fixture migrated end to end, from an archive and from a store."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from planvec.backup.archive import read_archive
from planvec.backup.legacy import LegacyPoints, integrity_report, read_points
from planvec.backup.legacy_migration import migrate_legacy
from planvec.backup.legacy_payloads import LegacyTask
from planvec.backup.legacy_plans import legacy_plans
from planvec.sources.markdown_plans import parse_plan
from planvec.store import open_store
from planvec.store.base import VectorStore

from .conftest import LEGACY_ARCHIVE, LEGACY_EXPECTED, load_legacy_builder, make_index


@pytest.fixture(scope="module")
def expected() -> dict[str, Any]:
    return json.loads(LEGACY_EXPECTED.read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def _legacy_points() -> list[object]:
    return [
        p for chunk in LegacyPoints(archive=read_archive(LEGACY_ARCHIVE)).chunks() for p in chunk
    ]


def _legacy_tasks() -> list[LegacyTask]:
    items = read_points(_legacy_points())  # type: ignore[arg-type]
    return [t for t in items if isinstance(t, LegacyTask)]


def test_integrity_report_finds_the_planted_problems(expected: dict[str, Any]) -> None:
    report = integrity_report(_legacy_points(), dimension=1536)  # type: ignore[arg-type]
    assert report.points == expected["points"]
    assert report.id_types == {"int": expected["points"]}
    assert report.distinct_tasks == expected["distinct_tasks"]
    assert report.shapes == {"snake_case": expected["points"]} and not report.not_tasks
    assert sorted([d["file"], d["task_id"]] for d in report.duplicates) == sorted(
        expected["duplicates"]
    )  # type: ignore[arg-type]
    assert [[c["file"], c["task_id"]] for c in report.colliding] == expected["colliding"]
    assert [[m["file"], m["task_id"]] for m in report.missing_text] == expected["missing_text"]
    assert [[m["file"], m["task_id"]] for m in report.missing_file] == expected["missing_file"]
    assert report.fields["mvp"] == {"bool": expected["points"]}
    assert report.fields["description"]["empty-str"] == 1


def test_placement_reports_the_files_it_cannot_find(tmp_path: Path) -> None:
    (tmp_path / "roadmap.md").write_text("# r\n- [ ] **1.1** Mettre en place la sauvegarde\n")
    plans, placement = legacy_plans(_legacy_tasks(), tmp_path)
    assert {m["file"] for m in placement.not_found} == {"phase-2/email.md", "notes/security.md"}
    assert placement.resolved == {"roadmap.md": "roadmap.md"}
    # tasks of files found nowhere keep their legacy key and file name
    email = next(p for p in plans if p.path == "phase-2/email.md")
    assert sorted(t.key for t in email.tasks) == ["3", "3.1", "3.2", "3.3", "3.4", "3.5"]


def test_mapping_uses_the_parser_id_scheme() -> None:
    plans = {p.path: p for p in legacy_plans(_legacy_tasks())[0]}
    mapped = {t.key: t for t in plans["roadmap.md"].tasks if t.key in ("1.1", "1.2")}
    parsed = parse_plan(
        "# R\n- [ ] **1.1** Mettre en place\n- [ ] **1.2** Configurer\n", "roadmap.md"
    )
    assert {t.key: t.id for t in parsed.tasks} == {k: t.id for k, t in mapped.items()}
    task = mapped["1.1"]
    assert task.section == ("Phase 1", "Fondations")
    assert task.status == "todo" and task.metadata["priority"] == "P0"
    assert task.metadata["mvp"] is True and task.metadata["estimate"] == "2d"
    assert task.parent_id == next(t.id for t in plans["roadmap.md"].tasks if t.key == "1")
    email = {t.key: t for t in plans["phase-2/email.md"].tasks}
    assert email["3.3"].section == ("Email", "Modèles") and email["3.3"].checked
    # two texts under one key are both kept, with distinct ids
    assert len({t.id for t in plans["roadmap.md"].tasks if t.key == "2.2"}) == 2


def _all_tasks_present(index: object, expected: dict[str, Any]) -> None:
    stored = {
        (p.payload.get("file_path"), p.payload.get("key"), p.payload.get("description"))
        for p in index.points.scroll()  # type: ignore[attr-defined]
    }
    for file_path, task_id, text in expected["tasks"]:  # type: ignore[attr-defined]
        plan = file_path or "legacy/no-file.md"
        # the text as the parser cleans the legacy line: the number first
        wanted = (
            f"{task_id} {text}" if text else f"{task_id} (no description in the legacy collection)"
        )
        assert (plan, task_id, wanted) in stored, (plan, task_id, wanted)
    assert len(stored) == expected["distinct_tasks"]


def test_migration_from_the_archive_end_to_end(
    store_at: Callable[[str, str], VectorStore], tmp_path: Path, expected: dict[str, Any]
) -> None:
    index = make_index(store_at("memory", "target"))
    legacy = LegacyPoints(archive=read_archive(LEGACY_ARCHIVE))
    report = migrate_legacy(legacy, index, tmp_path / "out")
    assert report.verified, report.problems
    assert report.check["status"] == "ok"
    assert report.present == report.tasks == expected["distinct_tasks"]
    _all_tasks_present(index, expected)
    # searching a task's own text finds it; the legacy random vectors could not
    assert report.search["dense_at1"] == 1.0 and report.search["hybrid_at1"] == 1.0
    assert report.search["legacy_at1"] < 0.5
    hits = index.search("rotation des sauvegardes", limit=3)
    assert hits[0].key == "1.1.2" and hits[0].plan == "roadmap.md"
    md = (tmp_path / "out" / "migration-report.md").read_text(encoding="utf-8")
    assert "**PASSED**" in md
    assert f"| points | {expected['points']} |" in md
    assert "| duplicate tasks (same file, task_id, text) | 2 |" in md
    assert "| colliding keys (same file and task_id, other text) | 1 |" in md
    assert "| tasks without description | 1 |" in md and "| tasks without file | 1 |" in md
    assert "| mvp | bool: 24 |" in md
    assert "| legacy random vectors |" in md
    data = json.loads((tmp_path / "out" / "migration-report.json").read_text())
    assert data["verified"] is True and data["integrity"]["points"] == expected["points"]


def _legacy_local(tmp_path: Path) -> tuple[str, dict[str, Any]]:
    from qdrant_client import QdrantClient

    path = tmp_path / "legacy-qdrant"
    client = QdrantClient(path=str(path))
    try:
        expected = load_legacy_builder().build_collection(client)
    finally:
        client.close()
    return f"local://{path}", expected


def test_migration_from_a_store_snapshots_then_deletes_only_after_passing(
    store_at: Callable[[str, str], VectorStore], tmp_path: Path
) -> None:
    url, expected = _legacy_local(tmp_path)
    source = open_store(index_dir=tmp_path, qdrant_url=url)
    try:
        legacy = LegacyPoints(store=source)
        # a dry run writes the integrity report and nothing else
        target = make_index(store_at("edge", "target"))
        dry = migrate_legacy(legacy, target, tmp_path / "dry", dry_run=True, delete_source=True)
        assert dry.integrity.points == expected["points"] and not dry.snapshot
        assert not target.exists() and "DRY RUN" in Path(dry.report_path).read_text()
        # a failing verification keeps the source, whatever --delete-source says
        failed = migrate_legacy(
            legacy,
            make_index(store_at("memory", "t1")),
            tmp_path / "f",
            delete_source=True,
            min_found_at5=1.01,
        )
        assert not failed.verified and not failed.source_deleted
        assert source.count("roadmap_tasks") == expected["points"]
        # a passing one snapshots first, then deletes the source
        report = migrate_legacy(legacy, target, tmp_path / "ok", delete_source=True)
        assert report.verified and report.source_deleted, report.problems
        assert source.collection_info("roadmap_tasks") is None
        _all_tasks_present(target, expected)
    finally:
        source.close()
    snapshot = read_archive(Path(report.snapshot["path"]))
    assert snapshot.points == expected["points"] and snapshot.dimension == 1536
    assert report.snapshot["sha256"]
