"""``planvec repair``: fix exactly what ``check`` found, nothing more, no full rebuild.

From the findings of one check it plans, per point:

* ``upsert``  – missing, stale text, stale or damaged vector, missing fields: the task is
  re-embedded (through the cache) and written with the same code as sync
  (``planvec.sync.Syncer``), so the point ends identical to what a clean run writes;
* ``payload`` – stale payload: the payload is rewritten, the vector left alone;
* ``delete``  – orphans and duplicates, by id; orphan plans by a plan filter;
* ``rebuild`` – the collection itself is wrong (dimension, model, missing): it is dropped
  and indexed again from the plans. This is the one case that costs a full embedding run.

Without ``apply`` nothing is written (dry run). With it, the repair ends with a second
check, whose report is returned too.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from planvec.checks.findings import CheckReport, Finding
from planvec.checks.verify import CheckOptions, check_index
from planvec.embedding_recipe import finalize_payload, indexable_tasks, task_payload
from planvec.errors import CheckFailed
from planvec.index import Index
from planvec.records import Plan, Task
from planvec.sources.base import Source
from planvec.sync import Syncer, SyncReport

log = logging.getLogger(__name__)


@dataclass
class RepairPlan:
    """What a repair writes, derived from one check report."""

    upsert: dict[str, str] = field(default_factory=dict)  # id -> finding kind
    payload: set[str] = field(default_factory=set)
    delete: dict[str, str] = field(default_factory=dict)  # id -> finding kind
    delete_plans: list[str] = field(default_factory=list)
    rebuild: list[str] = field(default_factory=list)  # reasons
    unrepairable: list[Finding] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (self.upsert or self.payload or self.delete or self.delete_plans or self.rebuild)

    def to_dict(self) -> dict[str, Any]:
        return {
            "rebuild": self.rebuild,
            "upsert": len(self.upsert),
            "payload": len(self.payload),
            "delete": len(self.delete),
            "delete_plans": self.delete_plans,
            "unrepairable": [f.to_dict() for f in self.unrepairable],
            "upsert_ids": sorted(self.upsert),
            "payload_ids": sorted(self.payload),
            "delete_ids": sorted(self.delete),
        }


@dataclass
class RepairResult:
    """A repair plan, whether it was applied, and the check after it."""

    plan: RepairPlan
    before: CheckReport
    applied: bool = False
    after: CheckReport | None = None
    written: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def exit_code(self) -> int:
        """Dry run: the check's code. Applied: the code of the check after the repair."""
        final = self.after if self.after is not None else self.before
        return final.exit_code

    def summary(self) -> str:
        """What was written, as a sentence (``written`` as the CLI prints it)."""
        w = self.written
        if w.get("rebuilt"):
            return f"collection rebuilt with {w['rebuilt']} tasks"
        parts = [
            f"{w.get('upserted', 0)} task(s) re-embedded",
            f"{w.get('payloads', 0)} payload(s) rewritten",
            f"{w.get('deleted', 0)} point(s) deleted",
        ]
        return ", ".join(parts)

    def to_dict(self) -> dict[str, Any]:
        return {
            "applied": self.applied,
            "plan": self.plan.to_dict(),
            "written": self.written,
            "seconds": round(self.seconds, 3),
            "before": self.before.summary(),
            "after": self.after.to_dict() if self.after is not None else None,
            "exit_code": self.exit_code,
        }


def plan_repair(report: CheckReport, known_tasks: set[str] | None) -> RepairPlan:
    """Turn findings into writes.

    Args:
        report: the check to repair.
        known_tasks: ids of the tasks of the plans given (``None``: no plans were given,
            so nothing can be re-embedded).

    Returns:
        The repair plan.
    """
    plan = RepairPlan()
    for f in report.findings:
        if f.action == "rebuild":
            if known_tasks is None:
                plan.unrepairable.append(f)
            else:
                plan.rebuild.append(f.message)
        elif f.action == "delete":
            if f.kind == "orphan_plan" and f.plan is not None:
                plan.delete_plans.append(f.plan)
            elif f.id is not None:
                plan.delete[f.id] = f.kind
        elif f.action in ("upsert", "payload") and f.id is not None:
            if known_tasks is None:
                plan.unrepairable.append(f)
            elif f.id not in known_tasks:
                plan.delete[f.id] = f.kind  # a damaged point of no task: nothing to restore
            elif f.action == "upsert":
                plan.upsert[f.id] = f.kind
            else:
                plan.payload.add(f.id)
        elif f.severity == "error":
            plan.unrepairable.append(f)
    plan.payload -= plan.upsert.keys()
    for pid in plan.upsert:
        plan.delete.pop(pid, None)
    return plan


def repair_index(
    index: Index,
    source: Source | None,
    *,
    apply: bool = False,
    options: CheckOptions | None = None,
    batch_size: int = 256,
    progress: Callable[[str], None] | None = None,
) -> RepairResult:
    """Check ``index`` against ``source`` and fix exactly the findings (with ``apply``).

    Args:
        index: the index (opened for writing when ``apply``).
        source: the plans the index mirrors; ``None`` only allows deletions.
        apply: write the fixes; otherwise only plan them.
        options: check options (both checks).
        batch_size: tasks embedded and written per batch.
        progress: called with a short status line as the repair advances (a spinner).

    Returns:
        The plan, the check before and, when applied, the check after.

    Raises:
        CheckFailed: the first check could not run (store unreachable...).
    """
    started = time.perf_counter()
    known: set[str] | None = None if source is None else set()

    report_progress = progress or (lambda _line: None)
    checked = 0

    def note(plan: Plan) -> None:
        nonlocal checked
        checked += 1
        report_progress(f"checking: {checked} plan(s), {plan.path}")
        if known is not None:
            known.update(t.id for t in indexable_tasks(plan))

    def note_after(plan: Plan) -> None:
        nonlocal checked
        checked += 1
        report_progress(f"re-checking: {checked} plan(s), {plan.path}")

    before = check_index(index, source, options, on_plan=note)
    if before.error is not None:
        raise CheckFailed(f"cannot repair: {before.error}")
    repair = plan_repair(before, known)
    result = RepairResult(plan=repair, before=before)
    if apply and not repair.empty:
        report_progress(f"writing {len(repair.upsert) + len(repair.payload)} task(s)")
        result.written = _apply(index, source, repair, batch_size)
        result.applied = True
        checked = 0
        result.after = check_index(index, source, options, on_plan=note_after)
        report_progress("done")
    elif apply:
        result.applied = True
        result.after = before
    result.seconds = time.perf_counter() - started
    return result


def _apply(
    index: Index, source: Source | None, repair: RepairPlan, batch_size: int
) -> dict[str, int]:
    written = {"upserted": 0, "payloads": 0, "deleted": 0, "rebuilt": 0}
    if repair.rebuild:
        assert source is not None  # plan_repair only plans a rebuild with plans
        log.warning("rebuilding collection %s: %s", index.collection, "; ".join(repair.rebuild))
        index.drop()
        report = index.sync(source, batch_size=batch_size)
        written["rebuilt"] = report.added
        return written
    syncer = index.syncer(batch_size=batch_size)
    if source is not None and (repair.upsert or repair.payload):
        _rewrite(syncer, index, source, repair, written, batch_size)
    written["deleted"] = index.points.delete(list(repair.delete))
    written["deleted"] += index.points.delete_plans(list(repair.delete_plans))
    return written


def _rewrite(
    syncer: Syncer,
    index: Index,
    source: Source,
    repair: RepairPlan,
    written: dict[str, int],
    batch_size: int,
) -> None:
    """Re-embed/upsert and rewrite payloads of the planned tasks, plan by plan."""
    lexical_version = index.lexical.version if index.lexical else None
    sync_report = SyncReport()
    batch: list[tuple[Task, dict[str, Any]]] = []
    done: set[str] = set()
    for item in source.iter_plans():
        if not isinstance(item, Plan):
            continue
        payloads: dict[str | int, dict[str, Any]] = {}
        for task in indexable_tasks(item):
            if task.id in done:
                continue
            if task.id in repair.upsert or task.id in repair.payload:
                done.add(task.id)
                payload = task_payload(
                    task, model_family=index.embedder.family, lexical_version=lexical_version
                )
                if task.id in repair.upsert:
                    batch.append((task, payload))
                else:
                    payloads[task.id] = finalize_payload(payload)
        if payloads:
            index.points.set_payloads(payloads)
            written["payloads"] += len(payloads)
        if len(batch) >= batch_size:
            written["upserted"] += len(batch)
            syncer.write(batch, [], sync_report)  # same point building as sync
    if batch:
        written["upserted"] += len(batch)
        syncer.write(batch, [], sync_report)
