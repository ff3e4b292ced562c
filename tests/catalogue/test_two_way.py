"""Two-way status on a real PostgreSQL: database edits written back, conflicts detected."""

from __future__ import annotations

from pathlib import Path

import pytest

from planvec.catalogue import sync_catalogue

from .conftest import catalogue_tasks, expected_tasks, query

OPS_CRLF_BOM = "\ufeff# Ops\r\n\r\n- [ ] **4.1** Rotate keys   \r\n- [x] **4.2** Patch servers\r\n"


def _set_status(dsn: str, key: str, status: str) -> None:
    """What a dashboard does: change one task's status in the database."""
    rows = query(
        dsn, "UPDATE planvec.tasks SET status = %s WHERE key = %s RETURNING id", (status, key)
    )
    assert len(rows) == 1


def _diff_positions(a: bytes, b: bytes) -> list[int]:
    assert len(a) == len(b)
    return [i for i, (x, y) in enumerate(zip(a, b, strict=True)) if x != y]


def test_database_edit_is_pending_without_write_back(dsn: str, plans_dir: Path) -> None:
    sync_catalogue(dsn, [plans_dir])
    _set_status(dsn, "4.1", "done")
    before = (plans_dir / "ops.md").read_bytes()
    report = sync_catalogue(dsn, [plans_dir])
    assert [(c.kind, c.key) for c in report.changes] == [("pending", "4.1")]
    assert (plans_dir / "ops.md").read_bytes() == before
    assert query(dsn, "SELECT key, plan_status, db_status FROM planvec.status_edits") == [
        ("4.1", "todo", "done")
    ]


def test_write_back_changes_exactly_one_byte(dsn: str, plans_dir: Path) -> None:
    """CRLF, BOM and trailing spaces survive: only the checkbox character differs."""
    sync_catalogue(dsn, [plans_dir])
    _set_status(dsn, "4.1", "done")
    ops = plans_dir / "ops.md"
    ops.chmod(0o640)
    before = ops.read_bytes()
    assert before == OPS_CRLF_BOM.encode("utf-8")

    report = sync_catalogue(dsn, [plans_dir], write_back=True)

    after = ops.read_bytes()
    positions = _diff_positions(before, after)
    assert len(positions) == 1 and before[positions[0] : positions[0] + 1] == b" "
    assert after == before.replace(b"- [ ] **4.1**", b"- [x] **4.1**")
    assert ops.stat().st_mode & 0o777 == 0o640
    assert report.status_from_db == 1 and [w.plan for w in report.write_backs] == ["ops.md"]
    assert catalogue_tasks(dsn) == expected_tasks([plans_dir])  # both sides agree again
    assert query(dsn, "SELECT count(*) FROM planvec.status_edits") == [(0,)]
    again = sync_catalogue(dsn, [plans_dir], write_back=True)
    assert again.changes == [] and again.write_backs == [] and again.plans_unchanged == 3


def test_write_back_dry_run_shows_the_diff_and_writes_nothing(dsn: str, plans_dir: Path) -> None:
    sync_catalogue(dsn, [plans_dir])
    _set_status(dsn, "1.2", "done")
    _set_status(dsn, "1.1", "todo")
    plan = plans_dir / "dev-plan-v3.md"
    before = plan.read_bytes()
    report = sync_catalogue(dsn, [plans_dir], write_back=True, dry_run=True)
    assert plan.read_bytes() == before
    (wb,) = report.write_backs
    assert not wb.written and wb.tasks == 2
    assert "-- [ ] **1.2** Mettre en place la CI" in wb.diff
    assert "+- [x] **1.2** Mettre en place la CI" in wb.diff
    assert "+- [ ] **1.1** Créer le dépôt" in wb.diff
    assert len(query(dsn, "SELECT 1 FROM planvec.status_edits")) == 2  # still pending


def test_write_back_is_refused_when_the_file_changed_since_it_was_read(
    dsn: str, plans_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import planvec.catalogue.connector as connector

    sync_catalogue(dsn, [plans_dir])
    _set_status(dsn, "3.1", "done")
    api = plans_dir / "team" / "api.md"
    real_read_plan = connector.read_plan

    def read_then_someone_edits(full: Path, rel: str):  # type: ignore[no-untyped-def]
        plan = real_read_plan(full, rel)
        if rel == "team/api.md":
            api.write_text(api.read_text(encoding="utf-8") + "- [ ] **3.3** Added meanwhile\n")
        return plan

    monkeypatch.setattr(connector, "read_plan", read_then_someone_edits)
    report = sync_catalogue(dsn, [plans_dir], write_back=True)
    assert [r.plan for r in report.refused] == ["team/api.md"]
    assert "re-run" in report.refused[0].reason
    assert b"Added meanwhile" in api.read_bytes()  # the other edit is kept
    assert b"[x] **3.1**" not in api.read_bytes()
    assert report.needs_attention
    assert [(c.kind, c.key) for c in report.changes] == [("pending", "3.1")]


def test_two_sided_change_is_a_conflict(dsn: str, plans_dir: Path) -> None:
    sync_catalogue(dsn, [plans_dir])
    plan = plans_dir / "dev-plan-v3.md"
    plan.write_text(
        plan.read_text(encoding="utf-8").replace("- [ ] **1.3**", "- [x] **1.3**"),
        encoding="utf-8",
    )
    _set_status(dsn, "1.3", "cancelled")  # the dashboard disagrees
    _set_status(dsn, "2.1", "done")  # an ordinary database-only edit beside it

    report = sync_catalogue(dsn, [plans_dir], write_back=True)

    (conflict,) = report.conflicts
    assert (conflict.key, conflict.plan_status, conflict.db_status, conflict.synced_status) == (
        "1.3",
        "done",
        "cancelled",
        "todo",
    )
    assert conflict.resolution is None and report.needs_attention
    assert (
        "## Conflicts (1" in report.to_markdown()
        and "| done | cancelled | todo | open |" in report.to_markdown()
    )
    assert report.to_dict()["conflicts"][0]["task_id"] == conflict.task_id
    text = plan.read_text(encoding="utf-8")
    assert "- [x] **1.3**" in text and "- [x] **2.1**" in text  # only the non-conflict written
    row = query(dsn, "SELECT status, synced_status FROM planvec.tasks WHERE key = '1.3'")
    assert row == [("cancelled", "todo")]  # left as it was, for a person
    again = sync_catalogue(dsn, [plans_dir], write_back=True)
    assert len(again.open_conflicts) == 1  # still reported until settled


def test_conflict_resolved_for_the_plan(dsn: str, plans_dir: Path) -> None:
    _plant_conflict(dsn, plans_dir)
    report = sync_catalogue(dsn, [plans_dir], prefer="plan")
    assert [(c.key, c.resolution) for c in report.conflicts] == [("1.3", "plan")]
    assert not report.needs_attention
    assert catalogue_tasks(dsn) == expected_tasks([plans_dir])


def test_conflict_resolved_for_the_database(dsn: str, plans_dir: Path) -> None:
    plan = _plant_conflict(dsn, plans_dir)
    report = sync_catalogue(dsn, [plans_dir], prefer="db", write_back=True)
    assert [(c.key, c.resolution) for c in report.conflicts] == [("1.3", "db")]
    assert "- [-] **1.3**" in plan.read_text(encoding="utf-8")
    assert catalogue_tasks(dsn) == expected_tasks([plans_dir])


def test_deleting_an_edited_task_reports_the_discarded_edit(dsn: str, plans_dir: Path) -> None:
    sync_catalogue(dsn, [plans_dir])
    _set_status(dsn, "3.2", "todo")
    (plans_dir / "team" / "api.md").unlink()
    report = sync_catalogue(dsn, [plans_dir])
    assert [(c.kind, c.key) for c in report.changes] == [("discarded", "3.2")]


def _plant_conflict(dsn: str, plans_dir: Path) -> Path:
    sync_catalogue(dsn, [plans_dir])
    plan = plans_dir / "dev-plan-v3.md"
    plan.write_text(
        plan.read_text(encoding="utf-8").replace("- [ ] **1.3**", "- [x] **1.3**"),
        encoding="utf-8",
    )
    _set_status(dsn, "1.3", "cancelled")
    return plan


def test_a_crash_between_file_replace_and_commit_converges(
    dsn: str, plans_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The file was written back but the transaction never committed: the rerun agrees."""
    import planvec.catalogue.connector as connector

    sync_catalogue(dsn, [plans_dir])
    _set_status(dsn, "4.1", "done")

    def crash(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt  # stands for a kill right after os.replace

    monkeypatch.setattr(connector, "_diff", crash)
    with pytest.raises(KeyboardInterrupt):
        sync_catalogue(dsn, [plans_dir], write_back=True)
    assert b"- [x] **4.1**" in (plans_dir / "ops.md").read_bytes()
    monkeypatch.undo()
    report = sync_catalogue(dsn, [plans_dir])
    assert report.conflicts == [] and report.changes == []
    assert catalogue_tasks(dsn) == expected_tasks([plans_dir])
    states = query(dsn, "SELECT state FROM planvec.sync_runs ORDER BY id")
    assert states == [("ok",), ("failed",), ("ok",)]
