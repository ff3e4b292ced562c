"""Read operations over an open ``Index`` that every interface shares (HTTP, MCP, CLI).

* ``get_task``: one task by id, with its parent chain (nearest first) and its children.
* ``plan_progress`` / ``list_plans``: progress roll-ups per plan and per top-level section
  (tasks, done, percent): what ``planvec parse`` prints, computed from the index alone.

They read the store only (one scroll or a few point look-ups) and never write, so they are
safe while a sync runs: each task is seen either before or after its change.

The index does not store heading levels, so the top-level section of a task is derived from
its ``section`` path: when every task of a plan sits under one common first heading (the plan
title) that heading is skipped, and the next one names the section, as ``planvec parse`` does.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from planvec.errors import TaskNotFound
from planvec.index import Index
from planvec.store.base import Filter, MatchValue

#: The section name of tasks that sit under no heading (as ``planvec parse`` shows it).
NO_SECTION = "(no section)"
#: Payload fields shown for a task (the stored payload minus hashes and legacy copies).
TASK_FIELDS = (
    "plan", "line", "status", "checked", "text", "depth", "section", "key", "priority",
    "estimate", "mvp", "tags", "parent_id", "last_updated",
)  # fmt: skip
#: Most ancestors followed (a guard against a cycle in damaged payloads).
MAX_PARENT_CHAIN = 64


def task_view(task_id: str, payload: Mapping[str, Any]) -> dict[str, Any]:
    """The public JSON form of one stored task."""
    view: dict[str, Any] = {"id": task_id}
    view.update({name: payload.get(name) for name in TASK_FIELDS})
    view["section"] = list(payload.get("section") or [])
    view["tags"] = list(payload.get("tags") or [])
    return view


def _canonical_id(task_id: str) -> str:
    try:
        return str(uuid.UUID(task_id))
    except (ValueError, AttributeError, TypeError) as exc:
        raise TaskNotFound(
            f"{task_id!r} is not a task id: ids are UUIDs, as printed by "
            "`planvec search --json` (field id)"
        ) from exc


def get_task(index: Index, task_id: str, *, max_children: int = 1000) -> dict[str, Any]:
    """One task with its parent chain and its direct children.

    Args:
        index: an open index.
        task_id: the task's id (a UUID).
        max_children: at most this many children are listed (``children_total`` counts all).

    Returns:
        ``{"task": {...}, "parents": [nearest first...], "children": [...], "children_total"}``;
        children in document order.

    Raises:
        TaskNotFound: the id is malformed or no task has it.
    """
    wanted = _canonical_id(task_id)
    found = index.points.retrieve([wanted])
    if not found:
        raise TaskNotFound(f"no task with id {wanted} in {index.location}")
    task = task_view(wanted, found[0].payload)
    parents: list[dict[str, Any]] = []
    parent_id = task.get("parent_id")
    seen = {wanted}
    while isinstance(parent_id, str) and parent_id not in seen and len(parents) < MAX_PARENT_CHAIN:
        seen.add(parent_id)
        records = index.points.retrieve([parent_id])
        if not records:
            break  # a parent deleted meanwhile: show what is left
        parents.append(task_view(parent_id, records[0].payload))
        parent_id = parents[-1].get("parent_id")
    children = [
        task_view(str(point.id), point.payload)
        for point in index.points.scroll(filter=Filter(must=(MatchValue("parent_id", wanted),)))
    ]
    children.sort(key=lambda c: (str(c.get("plan")), int(c.get("line") or 0)))
    return {
        "task": task,
        "parents": parents,
        "children": children[:max_children],
        "children_total": len(children),
    }


@dataclass
class SectionProgress:
    """Task and done counts of one top-level section."""

    title: str
    tasks: int = 0
    done: int = 0

    @property
    def percent(self) -> float:
        return round(100.0 * self.done / self.tasks, 1) if self.tasks else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "title": self.title,
            "tasks": self.tasks,
            "done": self.done,
            "percent": self.percent,
        }


@dataclass
class PlanProgress:
    """Progress of one plan: totals, status counts, and its top-level sections in order."""

    plan: str
    tasks: int = 0
    done: int = 0
    statuses: dict[str, int] = field(default_factory=dict)
    sections: list[SectionProgress] = field(default_factory=list)

    @property
    def percent(self) -> float:
        return round(100.0 * self.done / self.tasks, 1) if self.tasks else 0.0

    def to_dict(self, *, with_sections: bool = True) -> dict[str, Any]:
        out: dict[str, Any] = {
            "plan": self.plan,
            "tasks": self.tasks,
            "done": self.done,
            "percent": self.percent,
            "statuses": dict(sorted(self.statuses.items())),
        }
        if with_sections:
            out["sections"] = [s.to_dict() for s in self.sections]
        return out


_ROLLUP_FIELDS = ("plan", "line", "checked", "status", "section")


def _roll_up(plan: str, rows: list[tuple[int, bool, str, tuple[str, ...]]]) -> PlanProgress:
    rows.sort(key=lambda r: r[0])
    firsts = {sec[0] for _, _, _, sec in rows if sec}
    titled = len(firsts) == 1 and all(sec for *_, sec in rows)
    skip_title = titled and any(len(s) > 1 for *_, s in rows)
    progress = PlanProgress(plan)
    sections: dict[str, SectionProgress] = {}
    for _, checked, status, section in rows:
        path = section[1:] if skip_title else section
        name = path[0] if path else NO_SECTION
        entry = sections.setdefault(name, SectionProgress(name))
        entry.tasks += 1
        entry.done += int(checked)
        progress.tasks += 1
        progress.done += int(checked)
        progress.statuses[status] = progress.statuses.get(status, 0) + 1
    # a plan whose only heading is its title has no sections, as in `planvec parse`
    progress.sections = [] if titled and not skip_title else list(sections.values())
    return progress


def _scan_rows(
    points: Iterable[Any],
) -> dict[str, list[tuple[int, bool, str, tuple[str, ...]]]]:
    by_plan: dict[str, list[tuple[int, bool, str, tuple[str, ...]]]] = {}
    for point in points:
        p = point.payload
        plan = p.get("plan")
        if not isinstance(plan, str):
            continue
        section = tuple(str(s) for s in (p.get("section") or ()))
        row = (int(p.get("line") or 0), bool(p.get("checked")), str(p.get("status")), section)
        by_plan.setdefault(plan, []).append(row)
    return by_plan


def plan_progress(index: Index, plan: str | None = None) -> list[PlanProgress]:
    """Progress roll-ups per plan (sorted by plan name), or of ``plan`` alone.

    Raises:
        TaskNotFound: ``plan`` is given and the index holds no task of it.
    """
    flt = Filter(must=(MatchValue("plan", plan),)) if plan is not None else None
    points = index.points.scroll(filter=flt, with_payload=_ROLLUP_FIELDS)
    by_plan = _scan_rows(points)
    if plan is not None and plan not in by_plan:
        raise TaskNotFound(
            f"no plan {plan!r} in {index.location}: list the indexed plans with GET /plans"
        )
    return [_roll_up(name, rows) for name, rows in sorted(by_plan.items())]


def list_plans(index: Index) -> dict[str, Any]:
    """Every indexed plan with its totals, the grand totals, and the index root (the folder
    plan names are relative to, ``None`` for an index written before roots existed)."""
    plans = plan_progress(index)
    tasks = sum(p.tasks for p in plans)
    done = sum(p.done for p in plans)
    return {
        "plans": [p.to_dict(with_sections=False) for p in plans],
        "total": {
            "plans": len(plans),
            "tasks": tasks,
            "done": done,
            "percent": round(100.0 * done / tasks, 1) if tasks else 0.0,
        },
        "root": (index.manifest or {}).get("root"),
    }


__all__ = ["PlanProgress", "SectionProgress", "get_task", "list_plans", "plan_progress"]
