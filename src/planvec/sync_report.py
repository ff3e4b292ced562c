"""What a sync did or would do: the report, its planned changes, and progress ticks."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from planvec.guard import DeleteGuard
from planvec.records import ParseWarning, SourceFailure


@dataclass(frozen=True)
class Change:
    """One planned change (listed by ``--dry-run``)."""

    action: str
    plan: str
    line: int | None
    id: str
    text: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "action": self.action,
            "plan": self.plan,
            "line": self.line,
            "id": self.id,
            "text": self.text,
        }


#: Most ids ``SyncReport.added_ids`` keeps (a first build of a huge index adds millions).
ADDED_IDS_LIMIT = 10_000


@dataclass
class SyncReport:
    """What a sync did (or, with ``dry_run``, would do)."""

    added: int = 0
    updated: int = 0
    payload_only: int = 0
    unchanged: int = 0
    deleted: int = 0
    failed: int = 0
    embedded: int = 0
    seconds: float = 0.0
    plans: int = 0
    tasks: int = 0
    plans_deleted: list[str] = field(default_factory=list)
    failures: list[SourceFailure] = field(default_factory=list)
    warnings: list[ParseWarning] = field(default_factory=list)
    changes: list[Change] = field(default_factory=list)
    dry_run: bool = False
    interrupted: bool = False
    guard: DeleteGuard | None = None
    #: ids of the points this sync added (at most ``ADDED_IDS_LIMIT``; the managers'
    #: anomaly check looks at "new and far" items among them)
    added_ids: list[str] = field(default_factory=list)

    @property
    def written(self) -> int:
        return self.added + self.updated + self.payload_only + self.deleted

    def merge(self, other: SyncReport) -> None:
        """Add the per-plan counts, warnings and changes of ``other`` to this report."""
        for name in ("added", "updated", "payload_only", "unchanged", "deleted", "tasks"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.warnings.extend(other.warnings)
        self.changes.extend(other.changes)
        room = ADDED_IDS_LIMIT - len(self.added_ids)
        self.added_ids.extend(other.added_ids[: max(room, 0)])

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "added": self.added,
            "updated": self.updated,
            "payload_only": self.payload_only,
            "unchanged": self.unchanged,
            "deleted": self.deleted,
            "failed": self.failed,
            "embedded": self.embedded,
            "seconds": round(self.seconds, 3),
            "plans": self.plans,
            "tasks": self.tasks,
            "plans_deleted": self.plans_deleted,
            "dry_run": self.dry_run,
            "interrupted": self.interrupted,
            "failures": [{"path": f.path, "error": f.message} for f in self.failures],
            "warnings": [str(w) for w in self.warnings],
        }
        if self.guard is not None:
            out["guard"] = self.guard.to_dict()
        if self.dry_run:
            out["changes"] = [c.to_dict() for c in self.changes]
        return out


@dataclass(frozen=True)
class SyncProgress:
    """Progress so far, passed to the progress callback."""

    plans: int
    tasks: int
    embedded: int
    written: int
