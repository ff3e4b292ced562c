"""What ``planvec check`` found: typed findings, a report with a stable JSON schema, Markdown.

The JSON form is a contract for CI and dashboards (documented in docs/checks.md). It only
grows: new keys and new finding kinds may appear, existing ones keep their meaning. Bump
``REPORT_SCHEMA`` when a key changes meaning or disappears.

Every finding has a ``kind`` from ``KINDS`` and says what ``planvec repair`` would do with it
(``action``): ``upsert`` (re-embed and write the point), ``payload`` (rewrite the payload only),
``delete`` (delete the point), ``rebuild`` (the collection itself is wrong: rebuild it) or
``none`` (informational or needs a human).
"""

from __future__ import annotations

import contextlib
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from planvec.errors import CheckFailed, PlanvecError

#: Version of the JSON report layout (``schema_version``).
REPORT_SCHEMA = 1

#: kind -> (severity, repair action, one-line explanation). Order = order in reports.
KINDS: dict[str, tuple[str, str, str]] = {
    "store_unreachable": ("error", "none", "the store does not answer"),
    "collection_missing": ("error", "rebuild", "the collection does not exist"),
    "manifest_missing": ("error", "rebuild", "the collection has no planvec manifest"),
    "manifest_mismatch": ("error", "rebuild", "manifest differs from the configuration"),
    "collection_mismatch": ("error", "rebuild", "collection dimension/distance differs"),
    "missing": ("error", "upsert", "task of a plan has no point"),
    "stale_text": ("error", "upsert", "point was embedded from another text/model/analyzer"),
    "stale_payload": ("error", "payload", "point payload differs from the plan"),
    "stale_vector": ("error", "upsert", "stored vector is not the embedding of its text"),
    "orphan_task": ("error", "delete", "point of a task that no longer exists"),
    "orphan_plan": ("error", "delete", "point of a plan that is no longer among PATHS"),
    "duplicate": ("error", "delete", "second point for the same task (plan+line or plan+key)"),
    "wrong_dimension": ("error", "upsert", "vector has the wrong dimension"),
    "vector_nan": ("error", "upsert", "vector holds NaN or infinite values"),
    "vector_zero": ("error", "upsert", "vector is all zeros"),
    "vector_not_normalized": ("error", "upsert", "vector norm is not 1"),
    "missing_fields": ("error", "upsert", "payload lacks required fields"),
    "unparsed_plan": ("warning", "none", "a plan could not be parsed: its points were kept"),
}


@dataclass(frozen=True)
class Finding:
    """One problem. ``id`` is the point id when the problem is about one point."""

    kind: str
    message: str
    plan: str | None = None
    line: int | None = None
    id: str | None = None
    detail: dict[str, Any] = field(default_factory=dict)

    @property
    def severity(self) -> str:
        return KINDS[self.kind][0]

    @property
    def action(self) -> str:
        return KINDS[self.kind][1]

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "severity": self.severity,
            "action": self.action,
            "plan": self.plan,
            "line": self.line,
            "id": self.id,
            "message": self.message,
            "detail": self.detail,
        }


@dataclass
class PlanCounts:
    """Per-plan tallies: tasks parsed, points stored, and problems by kind."""

    tasks: int = 0
    points: int = 0
    problems: Counter[str] = field(default_factory=Counter)

    def to_dict(self) -> dict[str, Any]:
        return {"tasks": self.tasks, "points": self.points, "problems": dict(self.problems)}


@dataclass
class CheckReport:
    """Result of ``planvec check``: findings, counts, and whether the check could run."""

    location: str = ""
    collection: str = ""
    store: dict[str, Any] = field(default_factory=dict)
    manifest: dict[str, Any] | None = None
    config: dict[str, Any] = field(default_factory=dict)
    points: int = 0
    tasks: int = 0
    plans_checked: int = 0
    vectors_checked_against_cache: int = 0
    vectors_reembedded: int = 0
    findings: list[Finding] = field(default_factory=list)
    plans: dict[str, PlanCounts] = field(default_factory=dict)
    error: str | None = None
    seconds: float = 0.0

    def add(self, finding: Finding) -> None:
        self.findings.append(finding)
        if finding.plan is not None and finding.plan in self.plans:
            self.plans[finding.plan].problems[finding.kind] += 1

    def plan(self, name: str) -> PlanCounts:
        return self.plans.setdefault(name, PlanCounts())

    @property
    def problems(self) -> list[Finding]:
        """Findings of severity ``error`` (warnings do not fail a check)."""
        return [f for f in self.findings if f.severity == "error"]

    @property
    def status(self) -> str:
        if self.error is not None:
            return "error"
        return "problems" if self.problems else "ok"

    @property
    def exit_code(self) -> int:
        """0 consistent, 1 problems found, 2 the check could not run."""
        return {"ok": 0, "problems": 1, "error": 2}[self.status]

    def summary(self) -> dict[str, int]:
        counts = Counter(f.kind for f in self.findings)
        return {kind: counts[kind] for kind in KINDS if counts[kind]}

    def to_dict(self) -> dict[str, Any]:
        """The documented JSON report (docs/checks.md)."""
        return {
            "schema_version": REPORT_SCHEMA,
            "status": self.status,
            "exit_code": self.exit_code,
            "error": self.error,
            "location": self.location,
            "collection": self.collection,
            "store": self.store,
            "manifest": self.manifest,
            "config": self.config,
            "points": self.points,
            "tasks": self.tasks,
            "plans_checked": self.plans_checked,
            "vectors_checked_against_cache": self.vectors_checked_against_cache,
            "vectors_reembedded": self.vectors_reembedded,
            "seconds": round(self.seconds, 3),
            "summary": self.summary(),
            "plans": {name: c.to_dict() for name, c in sorted(self.plans.items())},
            "findings": [f.to_dict() for f in self.findings],
        }

    def to_markdown(self, max_per_kind: int = 20) -> str:
        """A Markdown report readable in a PR or an issue (long lists are cut)."""
        icon = {"ok": "✅", "problems": "❌", "error": "⚠️"}[self.status]
        lines = [f"## planvec check: {icon} {self.status}", ""]
        if self.error:
            lines += [f"The check could not run: {self.error}", ""]
        lines += [
            f"- Index: {self.location}"
            + ("" if self.collection in self.location else f" (collection `{self.collection}`)"),
            f"- Points: {self.points}; tasks in the plans given: {self.tasks} "
            f"({self.plans_checked} plans)",
            f"- Vectors compared with the embedding cache: {self.vectors_checked_against_cache}"
            f"; re-embedded to compare: {self.vectors_reembedded}",
            "",
        ]
        summary = self.summary()
        if summary:
            lines += ["| problem | count | repair | meaning |", "|---|---:|---|---|"]
            for kind, n in summary.items():
                _, action, meaning = KINDS[kind]
                lines.append(f"| `{kind}` | {n} | {action} | {meaning} |")
            lines.append("")
            by_kind: dict[str, list[Finding]] = {}
            for f in self.findings:
                by_kind.setdefault(f.kind, []).append(f)
            for kind, items in by_kind.items():
                lines.append(f"### `{kind}` ({len(items)})")
                lines.append("")
                for f in items[:max_per_kind]:
                    where = f"{f.plan}:{f.line}" if f.plan and f.line else (f.plan or "")
                    prefix = f"`{where}` " if where else ""
                    lines.append(f"- {prefix}{_md_escape(f.message)}")
                if len(items) > max_per_kind:
                    lines.append(f"- … and {len(items) - max_per_kind} more")
                lines.append("")
        elif self.error is None:
            lines += ["No problem found.", ""]
        bad_plans = {n: c for n, c in self.plans.items() if c.problems}
        if self.plans:
            lines += ["| plan | tasks | points | problems |", "|---|---:|---:|---|"]
            shown = sorted(bad_plans.items()) or sorted(self.plans.items())[:max_per_kind]
            for name, c in shown[: max_per_kind * 5]:
                probs = ", ".join(f"{k} {v}" for k, v in sorted(c.problems.items())) or "—"
                lines.append(f"| `{name}` | {c.tasks} | {c.points} | {probs} |")
            lines.append("")
        if self.problems:
            lines.append("Fix with `planvec repair PATH... --apply` (dry run without `--apply`).")
        return "\n".join(lines) + "\n"


def _md_escape(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")[:200]


@contextlib.contextmanager
def check_must_run() -> Iterator[None]:
    """Any ``PlanvecError`` inside becomes ``CheckFailed`` (exit code 2): a check that
    cannot run (bad settings, unreachable store, missing index) is not a failed check."""
    try:
        yield
    except CheckFailed:
        raise
    except PlanvecError as exc:
        raise CheckFailed(str(exc)) from exc
