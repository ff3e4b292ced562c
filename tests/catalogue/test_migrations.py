"""Schema migrations on a real PostgreSQL: from an empty database and from schema 001."""

from __future__ import annotations

from pathlib import Path

import pytest

from planvec.catalogue import connect, latest_version, migrate, schema_version, sync_catalogue
from planvec.catalogue.db import migrations
from planvec.errors import CatalogueError

from .conftest import catalogue_tasks, expected_tasks, parsed, query


def test_migrations_are_numbered_without_gaps() -> None:
    versions = [m.version for m in migrations()]
    assert versions == list(range(1, len(versions) + 1)) and latest_version() >= 2


def test_from_an_empty_database(dsn: str) -> None:
    with connect(dsn) as conn:
        assert schema_version(conn) == 0
        assert migrate(conn) == list(range(1, latest_version() + 1))
        assert migrate(conn) == []  # idempotent
        assert schema_version(conn) == latest_version()
    tables = {
        r[0]
        for r in query(
            dsn, "SELECT table_name FROM information_schema.tables WHERE table_schema='planvec'"
        )
    }
    assert {"plans", "tasks", "sync_runs", "schema_migrations", "plan_progress"} <= tables


def test_from_the_previous_schema_with_data(dsn: str, plans_dir: Path) -> None:
    """A catalogue written at schema 001 (one-way) upgrades, keeps its rows, then syncs."""
    with connect(dsn) as conn:
        assert migrate(conn, target=1) == [1]
        columns = {
            r[0]
            for r in conn.execute(
                "SELECT column_name FROM information_schema.columns"
                " WHERE table_schema='planvec' AND table_name='tasks'"
            )
        }
        assert "synced_status" not in columns
        _fill_like_schema_001(conn, plans_dir)
    before = query(dsn, "SELECT id::text, status, line FROM planvec.tasks ORDER BY id")

    report = sync_catalogue(dsn, [plans_dir])  # migrates to the latest first

    assert report.schema_version == latest_version()
    after = query(dsn, "SELECT id::text, status, line FROM planvec.tasks ORDER BY id")
    assert after == before  # same rows, nothing to rewrite but the new column
    assert report.added == 0 and report.deleted == 0
    assert catalogue_tasks(dsn) == expected_tasks([plans_dir])
    assert query(dsn, "SELECT count(*) FROM planvec.status_edits") == [(0,)]


def test_a_newer_schema_is_refused(dsn: str) -> None:
    with connect(dsn) as conn:
        migrate(conn)
        conn.execute("INSERT INTO planvec.schema_migrations (version, name) VALUES (999, 'x')")
        with pytest.raises(CatalogueError, match="newer than this planvec"):
            migrate(conn)


def _fill_like_schema_001(conn: object, plans_dir: Path) -> None:
    """Rows exactly as a schema-001 sync wrote them (no synced_status column yet)."""
    from psycopg.types.json import Jsonb

    from planvec.catalogue.connector import row_hash, rows_hash

    for plan in parsed([plans_dir]):
        conn.execute(  # type: ignore[attr-defined]
            "INSERT INTO planvec.plans (path, title, version, file_hash, rows_hash, tasks, done)"
            " VALUES (%s, %s, %s, %s, %s, %s, %s)",
            (
                plan.path,
                plan.title,
                plan.version,
                plan.file_hash,
                rows_hash(plan),
                len(plan.tasks),
                plan.done,
            ),
        )
        for t in plan.tasks:
            conn.execute(  # type: ignore[attr-defined]
                "INSERT INTO planvec.tasks (id, plan, key, text, status, section, section_path,"
                " parent_id, depth, metadata, content_hash, row_hash, line)"
                " VALUES (%s::uuid, %s, %s, %s, %s, %s, %s, %s::uuid, %s, %s, %s, %s, %s)",
                (
                    t.id,
                    t.plan,
                    t.key,
                    t.text,
                    t.status,
                    list(t.section),
                    " > ".join(t.section),
                    t.parent_id,
                    t.depth,
                    Jsonb(dict(t.metadata)),
                    t.content_hash,
                    row_hash(t),
                    t.line,
                ),
            )
