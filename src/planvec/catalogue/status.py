"""Two-way status: reconcile a task's status in the plan with its status in the database.

Three values decide it: ``plan`` (the checkbox now), ``db`` (the ``status`` column, which a
dashboard may have changed) and ``synced`` (``synced_status``: the last status both sides
agreed on). Whoever differs from ``synced`` changed since the last sync:

=========  ==========  ====================================================================
plan       database    outcome
=========  ==========  ====================================================================
same       same        ``unchanged``
changed    same        ``from_plan``: the database takes the plan's status
same       changed     ``from_db``: written back to the Markdown with ``--write-back``,
                       else left pending (reported)
changed    changed     equal values: ``agreed``; else a ``conflict``, resolved by
                       ``prefer="plan"`` (database takes the plan's status) or
                       ``prefer="db"`` (becomes a ``from_db`` change), or left for a person
=========  ==========  ====================================================================
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Prefer = Literal["plan", "db"]
PREFER_CHOICES: tuple[str, ...] = ("plan", "db")

UNCHANGED = "unchanged"
FROM_PLAN = "from_plan"
FROM_DB = "from_db"
AGREED = "agreed"
CONFLICT = "conflict"
#: a database-side status that was written into the plan file this run
WRITTEN_BACK = "written_back"


@dataclass(frozen=True)
class StoredTask:
    """A task row as the database holds it (what reconciling needs, and what a report shows)."""

    status: str
    synced_status: str
    row_hash: str
    line: int
    key: str | None
    text: str


@dataclass(frozen=True)
class Reconciled:
    """What to store: ``status`` and ``synced_status`` columns, and why (``outcome``).

    ``resolved_by`` is set when a conflict was settled by a ``prefer`` policy.
    """

    status: str
    synced_status: str
    outcome: str
    resolved_by: str | None = None

    @property
    def conflict(self) -> bool:
        return self.outcome == CONFLICT or self.resolved_by is not None


def reconcile(plan: str, db: str, synced: str, prefer: Prefer | None = None) -> Reconciled:
    """Decide a task's stored status from its plan, database and last-synced statuses."""
    plan_changed, db_changed = plan != synced, db != synced
    if not plan_changed and not db_changed:
        return Reconciled(db, synced, UNCHANGED)
    if plan_changed and not db_changed:
        return Reconciled(plan, plan, FROM_PLAN)
    if db_changed and not plan_changed:
        return Reconciled(db, synced, FROM_DB)
    if plan == db:
        return Reconciled(plan, plan, AGREED)
    if prefer == "plan":
        return Reconciled(plan, plan, FROM_PLAN, resolved_by="plan")
    if prefer == "db":
        # the plan's change is taken as the new base; the database's value is then a plain
        # database-side edit, written back like any other
        return Reconciled(db, plan, FROM_DB, resolved_by="db")
    return Reconciled(db, synced, CONFLICT)
