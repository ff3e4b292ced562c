"""The report of ``planvec migrate-legacy``: what was found, placed, migrated and verified."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from planvec.backup.legacy import IntegrityReport
from planvec.backup.legacy_plans import Placement
from planvec.backup.legacy_stored import NO_FILE_PLAN


@dataclass
class LegacyMigrationReport:
    """Everything ``migrate_legacy`` did and measured."""

    source: str
    target: str
    dry_run: bool
    snapshot: dict[str, Any] = field(default_factory=dict)
    integrity: IntegrityReport = field(default_factory=IntegrityReport)
    placement: Placement = field(default_factory=Placement)
    plans: int = 0
    tasks: int = 0
    sync: dict[str, Any] = field(default_factory=dict)
    present: int = 0
    check: dict[str, Any] = field(default_factory=dict)
    search: dict[str, Any] = field(default_factory=dict)
    verified: bool = False
    problems: list[str] = field(default_factory=list)
    source_deleted: bool = False
    report_path: str = ""
    id_map_path: str = ""
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        out = {k: v for k, v in self.__dict__.items() if k not in ("integrity", "placement")}
        out["integrity"] = self.integrity.to_dict()
        out["placement"] = self.placement.to_dict()
        out["seconds"] = round(self.seconds, 3)
        return out

    def to_markdown(self) -> str:
        """The human migration report."""
        snap = self.snapshot
        verdict = "DRY RUN (nothing written)" if self.dry_run else (
            "PASSED" if self.verified else "FAILED")  # fmt: skip
        lines = [
            "# Legacy migration report",
            "",
            f"- Source: `{self.source}`",
            f"- Target: `{self.target}`",
            f"- Result: **{verdict}**",
            f"- Snapshot: `{snap.get('path', '-')}` "
            f"(sha256 `{snap.get('sha256', '-')}`, {snap.get('points', '-')} points)",
            f"- Source deleted: {'yes' if self.source_deleted else 'no'}",
            "",
        ]
        lines += _integrity(self.integrity)
        lines += _placement(self.placement)
        lines += self._migration()
        if self.problems:
            lines += ["", "## Problems", ""] + [f"- {p}" for p in self.problems]
        return "\n".join(lines) + "\n"

    def _migration(self) -> list[str]:
        lines = ["", "## Migration", ""]
        lines.append(f"- Plans: {self.plans}; tasks mapped: {self.tasks}; present in the index: "
                     f"{self.present}")  # fmt: skip
        if self.id_map_path:
            lines.append(f"- Legacy id -> planvec id: `{self.id_map_path}`")
        if self.sync:
            s = self.sync
            lines.append(
                f"- Sync: {s.get('added')} added, {s.get('updated')} updated, "
                f"{s.get('unchanged')} unchanged, {s.get('embedded')} embedded"
            )
        if self.check:
            lines.append(f"- `planvec check`: **{self.check.get('status')}** "
                         f"{self.check.get('summary') or ''}")  # fmt: skip
        if self.search:
            q = self.search
            lines += [
                "",
                "## Search test",
                "",
                f"Each of {q.get('sample')} sampled tasks is searched by its own text; found "
                "means the task is among the first hits.",
                "",
                "| index | found@1 | found@5 |",
                "|---|---|---|",
                f"| planvec, dense ({q.get('model')}) | {q.get('dense_at1'):.3f} | "
                f"{q.get('dense_at5'):.3f} |",
                f"| planvec, hybrid | {q.get('hybrid_at1'):.3f} | {q.get('hybrid_at5'):.3f} |",
                f"| legacy random vectors | {q.get('legacy_at1'):.3f} | "
                f"{q.get('legacy_at5'):.3f} |",
            ]
        return lines


def _counts(counter: Any) -> str:
    return ", ".join(f"{k}: {v}" for k, v in sorted(counter.items())) or "-"


def _integrity(i: IntegrityReport) -> list[str]:
    lines = [
        "## Integrity of the legacy collection",
        "",
        "| measure | value |",
        "|---|---|",
        f"| points | {i.points} |",
        f"| vector dimension | {i.dimension} |",
        f"| id types | {_counts(i.id_types)} |",
        f"| payload shapes | {_counts(i.shapes)} |",
        f"| points that are no task (not migrated) | {len(i.not_tasks)} |",
        f"| distinct tasks | {i.distinct_tasks} |",
        f"| files | {i.files} |",
        f"| duplicate tasks (same file, task_id, text) | {len(i.duplicates)} |",
        f"| colliding keys (same file and task_id, other text) | {len(i.colliding)} |",
        f"| known overwrites | {len(i.overwritten)} |",
        f"| tasks without description | {len(i.missing_text)} |",
        f"| tasks without file | {len(i.missing_file)} |",
        f"| tasks without task_id | {len(i.missing_task_id)} |",
        f"| parents missing from their file | {len(i.missing_parent)} |",
        f"| statuses | {_counts(i.statuses)} |",
        "",
    ]
    lines += _listing("Points that are no task (reported, not migrated)", i.not_tasks)
    lines += _listing("Known overwrites", i.overwritten)
    lines += _listing("Duplicates (one copy migrated)", i.duplicates)
    lines += _listing("Colliding keys (all kept, numbered)", i.colliding)
    lines += _listing("Without description (task id used as text)", i.missing_text)
    lines += _listing(f"Without file (plan `{NO_FILE_PLAN}`)", i.missing_file)
    lines += _listing("Parents missing from their file (overwritten, or a heading, not a task)",
                      i.missing_parent, limit=10)  # fmt: skip
    lines += ["## Fields per type", "", "| field | types |", "|---|---|"]
    lines += [f"| {name} | {_counts(types)} |" for name, types in sorted(i.fields.items())]
    return [*lines, ""]


def _placement(p: Placement) -> list[str]:
    if p.plans_root is None:
        return ["## Placement", "", "No `--plans-root`: each task keeps its legacy key and "
                "file name as plan (line 0).", ""]  # fmt: skip
    lines = [
        "## Placement in the plan files",
        "",
        f"Plans root: `{p.plans_root}`",
        "",
        "| measure | value |",
        "|---|---|",
        f"| file names resolved | {len(p.resolved)} |",
        f"| ... of them resolved by content (name found several times) | {len(p.by_content)} |",
        f"| file names found nowhere | {len(p.not_found)} |",
        f"| file names found several times, unresolved | {len(p.ambiguous)} |",
        f"| tasks matched on their key | {p.matched_by_key} |",
        f"| tasks matched on their text (key changed) | {len(p.matched_by_text)} |",
        f"| tasks recovered from the plans (lost in the collection) | {len(p.recovered)} |",
        f"| legacy tasks the plans no longer hold (stale) | {len(p.stale)} |",
        f"| older texts of a placed task (not migrated) | {len(p.superseded)} |",
        f"| legacy lines that are no task for planvec (not migrated) | {len(p.not_tasks)} |",
        f"| legacy status differs from the plan (plan kept) | {len(p.status_differs)} |",
        f"| tasks the legacy regex never captured (left to `planvec index`) | {p.uncaptured} |",
        "",
    ]
    lines += _listing("Resolved", [{"file": k, "plan": v} for k, v in p.resolved.items()])
    lines += _listing(
        "Chosen with --plan-for", [{"file": k, "plan": v} for k, v in p.chosen.items()]
    )
    lines += _listing("Names found several times, resolved by content", p.by_content)
    lines += _listing("Names found nowhere (tasks kept under the legacy name)", p.not_found)
    lines += _listing("Names found several times, unresolved (kept under the legacy name)",
                      p.ambiguous)  # fmt: skip
    lines += _listing("Unreadable plans", p.unreadable)
    lines += _listing("Matched on text (key changed)", p.matched_by_text)
    lines += _listing("Recovered from the plans", p.recovered)
    lines += _listing("Stale (kept as stored; the next `planvec index` drops them)", p.stale)
    lines += _listing("Older texts of a placed task (not migrated)", p.superseded)
    lines += _listing("Lines that are no task for planvec (not migrated)", p.not_tasks)
    lines += _listing("Status differs (the plan's is kept)", p.status_differs)
    return lines


def _listing(title: str, rows: list[dict[str, Any]], limit: int = 50) -> list[str]:
    if not rows:
        return []
    out = [f"### {title}", ""]
    out += [f"- `{json.dumps(r, ensure_ascii=False, default=str)}`" for r in rows[:limit]]
    if len(rows) > limit:
        out.append(f"- ... and {len(rows) - limit} more (all in migration-report.json)")
    return [*out, ""]
