"""Catalogue sync against a real PostgreSQL (pgserver): the tables follow the plans."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from planvec.catalogue import sync_catalogue

from .conftest import catalogue_tasks, expected_tasks, parsed, query


def test_initial_sync_equals_the_parsed_plans(dsn: str, plans_dir: Path) -> None:
    report = sync_catalogue(dsn, [plans_dir])
    expected = expected_tasks([plans_dir])
    assert report.added == len(expected) and report.failures == []
    assert catalogue_tasks(dsn) == expected
    plans = {p.path: p for p in parsed([plans_dir])}
    rows = query(dsn, "SELECT path, title, version, file_hash, tasks, done FROM planvec.plans")
    assert {r[0]: r[1:] for r in rows} == {
        p.path: (p.title, p.version, p.file_hash, len(p.tasks), p.done) for p in plans.values()
    }
    runs = query(dsn, "SELECT state, plans, tasks_added, report->>'dsn' FROM planvec.sync_runs")
    assert runs == [("ok", 3, len(expected), report.dsn)]


def test_second_run_skips_unchanged_plans(dsn: str, plans_dir: Path) -> None:
    sync_catalogue(dsn, [plans_dir])
    again = sync_catalogue(dsn, [plans_dir])
    assert (again.added, again.updated, again.deleted) == (0, 0, 0)
    assert again.plans_unchanged == 3


def test_edits_moves_deletions_and_renames_follow(dsn: str, plans_dir: Path) -> None:
    sync_catalogue(dsn, [plans_dir])
    plan = plans_dir / "dev-plan-v3.md"
    text = plan.read_text(encoding="utf-8")
    text = text.replace(
        "- [ ] **1.2** Mettre en place la CI", "- [x] **1.2** Mettre en place la CI GitHub"
    )
    text = text.replace("- [ ] **1.3** Écrire la documentation #docs\n", "")  # deleted
    text = text.replace("## Phase 1", "Intro line.\n\n## Phase 1")  # every task moves down
    plan.write_text(text, encoding="utf-8")
    (plans_dir / "team" / "api.md").rename(plans_dir / "team" / "api-v2.md")  # renamed
    (plans_dir / "new.md").write_text("# New\n\n- [ ] **N.1** Brand new\n", encoding="utf-8")

    report = sync_catalogue(dsn, [plans_dir])

    assert catalogue_tasks(dsn) == expected_tasks([plans_dir])
    assert report.plans_deleted == ["team/api.md"]
    assert report.status_from_plan == 1
    assert report.added == 3  # two renamed-plan tasks + the new plan's task
    assert report.deleted == 3  # task 1.3 + the two tasks of the old path
    paths = {r[0] for r in query(dsn, "SELECT path FROM planvec.plans")}
    assert paths == {"dev-plan-v3.md", "ops.md", "team/api-v2.md", "new.md"}


def test_a_plan_that_fails_to_read_keeps_its_rows(dsn: str, plans_dir: Path) -> None:
    sync_catalogue(dsn, [plans_dir])
    before = catalogue_tasks(dsn)
    (plans_dir / "ops.md").write_bytes(b"\x00\x01binary now")
    report = sync_catalogue(dsn, [plans_dir])
    assert [f.path for f in report.failures] == ["ops.md"]
    assert catalogue_tasks(dsn) == before


def test_dry_run_writes_nothing(dsn: str, plans_dir: Path) -> None:
    sync_catalogue(dsn, [plans_dir])
    shutil.rmtree(plans_dir / "team")
    report = sync_catalogue(dsn, [plans_dir], dry_run=True)
    assert report.plans_deleted == ["team/api.md"] and report.deleted == 2
    assert len(query(dsn, "SELECT 1 FROM planvec.plans")) == 3
    assert len(query(dsn, "SELECT 1 FROM planvec.sync_runs")) == 1


def test_progress_views(dsn: str, plans_dir: Path) -> None:
    sync_catalogue(dsn, [plans_dir])
    rows = query(
        dsn,
        "SELECT tasks, done, in_progress, cancelled, todo, done_ratio FROM"
        " planvec.plan_progress WHERE plan = 'dev-plan-v3.md'",
    )
    assert [tuple(map(float, r)) for r in rows] == [(8, 2, 1, 1, 4, 0.25)]
    sections = query(
        dsn,
        "SELECT level, section_path, tasks, done FROM planvec.section_progress"
        " WHERE plan = 'dev-plan-v3.md' ORDER BY level, section_path",
    )
    title = "Plan de développement v3"
    assert sections == [
        (1, title, 8, 2),
        (2, f"{title} > Phase 1 : Fondations", 5, 2),
        (2, f"{title} > Phase 2 : Base de données", 3, 0),
    ]


def test_the_password_never_shows(
    dsn: str, plans_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    secret = "s3cr3t-pa55"
    with_password = dsn.replace("postgres:@", f"postgres:{secret}@")  # trust auth ignores it
    assert secret in with_password
    caplog.set_level("DEBUG")
    report = sync_catalogue(with_password, [plans_dir])
    assert secret not in str(report.to_dict()) + report.to_markdown() + caplog.text
    stored = query(dsn, "SELECT report::text FROM planvec.sync_runs")
    assert secret not in str(stored)
    from planvec.errors import CatalogueError

    unreachable = f"postgresql://app:{secret}@/nowhere?host=/nonexistent-dir&connect_timeout=2"
    with pytest.raises(CatalogueError) as info:
        sync_catalogue(unreachable, [plans_dir])
    assert secret not in str(info.value) and "***" in str(info.value)
    assert secret not in caplog.text  # psycopg's own debug logs included


def test_one_sync_at_a_time(dsn: str, plans_dir: Path) -> None:
    import psycopg

    from planvec.catalogue.db import SYNC_LOCK
    from planvec.errors import CatalogueLocked

    sync_catalogue(dsn, [plans_dir])
    with psycopg.connect(dsn, autocommit=True) as other:
        other.execute("SELECT pg_advisory_lock(%s)", (SYNC_LOCK,))
        with pytest.raises(CatalogueLocked, match="another `planvec catalogue sync`"):
            sync_catalogue(dsn, [plans_dir])
    assert sync_catalogue(dsn, [plans_dir]).plans_unchanged == 3  # freed with its session


def test_catalogue_all_is_sorted_and_importable() -> None:
    import planvec.catalogue as catalogue

    assert catalogue.__all__ == sorted(catalogue.__all__)
    assert all(hasattr(catalogue, name) for name in catalogue.__all__)
