"""DSN redaction and the two-way status rule (pure functions)."""

from __future__ import annotations

import pytest

from planvec.catalogue.status import AGREED, CONFLICT, FROM_DB, FROM_PLAN, UNCHANGED, reconcile
from planvec.redact import redact_dsn, scrub


@pytest.mark.parametrize(
    ("dsn", "shown"),
    [
        ("postgresql://app:s3cret@db:5432/roadmap", "postgresql://app:***@db:5432/roadmap"),
        ("postgres://app:p%40ss@db/r?sslmode=require", "postgres://app:***@db/r?sslmode=require"),
        ("postgresql://app@db/r?password=s3cret&x=1", "postgresql://app@db/r?password=***&x=1"),
        ("host=db user=app password=s3cret dbname=r", "host=db user=app password=*** dbname=r"),
        ("host=db password = 'a b\\' c' dbname=r", "host=db password = *** dbname=r"),
        ("postgresql://app@db/roadmap", "postgresql://app@db/roadmap"),
    ],
)
def test_redact_dsn(dsn: str, shown: str) -> None:
    assert redact_dsn(dsn) == shown


def test_scrub_masks_the_password_anywhere() -> None:
    dsn = "postgresql://app:p%40ss@db/r"
    message = f"failed for {dsn}: password p@ss rejected, raw p%40ss"
    out = scrub(message, dsn)
    assert "p@ss" not in out and "p%40ss" not in out and "postgresql://app:***@db/r" in out


@pytest.mark.parametrize(
    ("plan", "db", "synced", "prefer", "expected"),
    [
        ("todo", "todo", "todo", None, ("todo", "todo", UNCHANGED, None)),
        ("done", "todo", "todo", None, ("done", "done", FROM_PLAN, None)),
        ("todo", "done", "todo", None, ("done", "todo", FROM_DB, None)),
        ("done", "done", "todo", None, ("done", "done", AGREED, None)),
        ("done", "cancelled", "todo", None, ("cancelled", "todo", CONFLICT, None)),
        ("done", "cancelled", "todo", "plan", ("done", "done", FROM_PLAN, "plan")),
        ("done", "cancelled", "todo", "db", ("cancelled", "done", FROM_DB, "db")),
    ],
)
def test_reconcile(
    plan: str, db: str, synced: str, prefer: str | None, expected: tuple[object, ...]
) -> None:
    got = reconcile(plan, db, synced, prefer)  # type: ignore[arg-type]
    assert (got.status, got.synced_status, got.outcome, got.resolved_by) == expected
