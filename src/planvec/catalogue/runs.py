"""Run bookkeeping of a catalogue sync: schema check, the sync lock, ``sync_runs`` rows."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from planvec.catalogue import db
from planvec.catalogue.report import CatalogueReport
from planvec.errors import CatalogueError, CatalogueLocked


def ensure_schema(conn: Any, dry_run: bool, report: CatalogueReport) -> None:
    """Migrate to the latest schema (a dry run refuses an outdated one instead)."""
    current = db.schema_version(conn)
    if dry_run and current < db.latest_version():
        raise CatalogueError(
            f"the catalogue schema is at version {current}, not {db.latest_version()}; "
            "run `planvec catalogue migrate` (or a sync without --dry-run) first"
        )
    if not dry_run:
        db.migrate(conn)
    report.schema_version = db.schema_version(conn)


@contextmanager
def sync_lock(conn: Any) -> Iterator[None]:
    """Hold the database-wide sync lock (a session advisory lock) for the block.

    Raises:
        CatalogueLocked: another sync holds it.
    """
    row = conn.execute("SELECT pg_try_advisory_lock(%s)", (db.SYNC_LOCK,)).fetchone()
    if not row or not row[0]:
        raise CatalogueLocked(
            "another `planvec catalogue sync` is running on this database; "
            "wait for it to finish and retry"
        )
    try:
        yield
    finally:
        if not conn.closed and not conn.broken:
            conn.execute("SELECT pg_advisory_unlock(%s)", (db.SYNC_LOCK,))


def start_run(conn: Any) -> int:
    """Record a run; runs left ``running`` by a killed process become ``interrupted``."""
    conn.execute("UPDATE planvec.sync_runs SET state = 'interrupted' WHERE state = 'running'")
    row = conn.execute("INSERT INTO planvec.sync_runs DEFAULT VALUES RETURNING id").fetchone()
    return int(row[0])


def finish_run(conn: Any, report: CatalogueReport, state: str) -> None:
    from psycopg.types.json import Jsonb

    if conn.closed or conn.broken:
        return
    conn.execute(
        "UPDATE planvec.sync_runs SET finished_at = now(), state = %s, plans = %s,"
        " tasks_added = %s, tasks_updated = %s, tasks_deleted = %s, plans_deleted = %s,"
        " failures = %s, conflicts = %s, written_back = %s, report = %s WHERE id = %s",
        (
            state,
            report.plans,
            report.added,
            report.updated,
            report.deleted,
            len(report.plans_deleted),
            len(report.failures),
            len(report.open_conflicts),
            report.status_from_db,
            Jsonb(report.to_dict()),
            report.run_id,
        ),
    )
