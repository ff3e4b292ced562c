"""What a catalogue sync did: counts, status changes, conflicts, write-backs; JSON and Markdown.

The JSON form (``to_dict``) is what ``planvec catalogue sync --json`` prints and what the
``planvec.sync_runs.report`` column keeps; the Markdown form (``to_markdown``) is the report a
person reads to settle conflicts. Neither ever holds the DSN's password.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from planvec.catalogue.status import (
    CONFLICT,
    FROM_DB,
    FROM_PLAN,
    WRITTEN_BACK,
    Reconciled,
    StoredTask,
)
from planvec.records import ParseWarning, SourceFailure, Task


@dataclass(frozen=True)
class StatusChange:
    """A task whose status differs between the plan, the database and the last sync.

    ``kind`` is ``conflict`` (both sides changed), ``pending`` (database-only change not
    written back), ``written_back`` (database-only change written to the plan), or
    ``discarded`` (a database-side edit on a task its plan no longer has).
    ``resolution`` says which side won a conflict (``plan``, ``db``), ``None`` if unresolved.
    """

    kind: str
    plan: str
    line: int | None
    task_id: str
    key: str | None
    text: str
    plan_status: str | None
    db_status: str
    synced_status: str
    resolution: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class WriteBack:
    """One plan file edited (or, in a dry run, that would be), with the diff of the edit."""

    plan: str
    tasks: int
    diff: str
    written: bool

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Refusal:
    """A write-back that was refused, and why."""

    plan: str
    reason: str


@dataclass
class CatalogueReport:
    """The outcome of one ``sync_catalogue`` run."""

    dsn: str = ""
    run_id: int | None = None
    schema_version: int = 0
    plans: int = 0
    plans_unchanged: int = 0
    plans_deleted: list[str] = field(default_factory=list)
    tasks: int = 0
    added: int = 0
    updated: int = 0
    deleted: int = 0
    unchanged: int = 0
    status_from_plan: int = 0
    status_from_db: int = 0
    changes: list[StatusChange] = field(default_factory=list)
    write_backs: list[WriteBack] = field(default_factory=list)
    refused: list[Refusal] = field(default_factory=list)
    failures: list[SourceFailure] = field(default_factory=list)
    warnings: list[ParseWarning] = field(default_factory=list)
    dry_run: bool = False
    seconds: float = 0.0

    def of_kind(self, kind: str) -> list[StatusChange]:
        return [c for c in self.changes if c.kind == kind]

    @property
    def conflicts(self) -> list[StatusChange]:
        """Conflicts found in this run (resolved by policy or not)."""
        return self.of_kind("conflict")

    @property
    def open_conflicts(self) -> list[StatusChange]:
        return [c for c in self.conflicts if c.resolution is None]

    @property
    def needs_attention(self) -> bool:
        """Whether a person must act: open conflicts, refused write-backs or failed files."""
        return bool(self.open_conflicts or self.refused or self.failures)

    def to_dict(self) -> dict[str, Any]:
        return {
            "dsn": self.dsn,
            "run_id": self.run_id,
            "schema_version": self.schema_version,
            "dry_run": self.dry_run,
            "seconds": round(self.seconds, 3),
            "plans": self.plans,
            "plans_unchanged": self.plans_unchanged,
            "plans_deleted": self.plans_deleted,
            "tasks": self.tasks,
            "added": self.added,
            "updated": self.updated,
            "deleted": self.deleted,
            "unchanged": self.unchanged,
            "status_from_plan": self.status_from_plan,
            "status_from_db": self.status_from_db,
            "conflicts": [c.to_dict() for c in self.conflicts],
            "pending": [c.to_dict() for c in self.of_kind("pending")],
            "written_back": [c.to_dict() for c in self.of_kind("written_back")],
            "discarded": [c.to_dict() for c in self.of_kind("discarded")],
            "write_backs": [w.to_dict() for w in self.write_backs],
            "refused": [{"plan": r.plan, "reason": r.reason} for r in self.refused],
            "failures": [{"path": f.path, "error": f.message} for f in self.failures],
            "warnings": [str(w) for w in self.warnings],
        }

    def to_markdown(self) -> str:
        """A report for people: summary, conflicts to settle, pending edits, diffs."""
        verb = "Would sync" if self.dry_run else "Synced"
        out = [
            "# planvec catalogue sync" + (" (dry run: nothing written)" if self.dry_run else ""),
            "",
            f"{verb} {self.tasks} tasks from {self.plans} plans into `{self.dsn}` "
            f"(schema {self.schema_version}) in {self.seconds:.1f}s: {self.added} added, "
            f"{self.updated} updated, {self.deleted} deleted, {self.unchanged} unchanged; "
            f"{self.plans_unchanged} plans unchanged, {len(self.plans_deleted)} removed.",
            f"Status: {self.status_from_plan} from the plans, {self.status_from_db} "
            "written back from the database.",
        ]
        sections = (
            ("Conflicts", self.conflicts, "both sides changed since the last sync"),
            ("Pending database edits", self.of_kind("pending"), "rerun with --write-back"),
            ("Written back", self.of_kind("written_back"), "database status → plan"),
            ("Discarded database edits", self.of_kind("discarded"), "task left its plan"),
        )
        for title, changes, why in sections:
            if changes:
                out += ["", f"## {title} ({len(changes)}: {why})", "", *_table(changes)]
        if self.refused:
            out += ["", f"## Write-backs refused ({len(self.refused)})", ""]
            out += [f"- `{r.plan}`: {r.reason}" for r in self.refused]
        for wb in self.write_backs:
            out += ["", f"## Diff of `{wb.plan}`", "", "```diff", wb.diff.rstrip("\n"), "```"]
        if self.failures:
            out += ["", f"## Files that failed ({len(self.failures)})", ""]
            out += [f"- `{f.path}`: {f.message}" for f in self.failures]
        return "\n".join(out) + "\n"


def _table(changes: list[StatusChange]) -> list[str]:
    rows = [
        "| plan | line | task | plan status | db status | last synced | resolution |",
        "|---|---|---|---|---|---|---|",
    ]
    for c in changes:
        text = (c.key + " " if c.key else "") + c.text[:60]
        text = text.replace("|", "\\|")
        rows.append(
            f"| {c.plan} | {c.line or ''} | {text} | {c.plan_status or '(removed)'} | "
            f"{c.db_status} | {c.synced_status} | {c.resolution or 'open'} |"
        )
    return rows


def _change(kind: str, task: Task, old: StoredTask, resolution: str | None = None) -> StatusChange:
    return StatusChange(
        kind,
        task.plan,
        task.line,
        task.id,
        task.key,
        task.text,
        task.status,
        old.status,
        old.synced_status,
        resolution,
    )


def note_status(report: CatalogueReport, task: Task, old: StoredTask, rec: Reconciled) -> None:
    """Count and list what reconciling ``task`` did."""
    if rec.resolved_by is not None or rec.outcome == CONFLICT:
        report.changes.append(_change("conflict", task, old, rec.resolved_by))
    if rec.outcome == FROM_PLAN and old.synced_status != task.status:
        report.status_from_plan += 1
    elif rec.outcome == FROM_DB:
        report.changes.append(_change("pending", task, old))
    elif rec.outcome == WRITTEN_BACK:
        report.status_from_db += 1
        report.changes.append(_change(WRITTEN_BACK, task, old))


def note_discarded(report: CatalogueReport, plan: str, task_id: str, old: StoredTask) -> None:
    """List a database-side edit lost because its task left its plan."""
    if old.status != old.synced_status:
        report.changes.append(
            StatusChange(
                "discarded",
                plan,
                old.line,
                task_id,
                old.key,
                old.text,
                None,
                old.status,
                old.synced_status,
            )
        )
