"""Legacy tasks into planvec plans: with the plan files when they are there, else as stored.

Without plan files each task keeps its legacy key and file name: plan = the stored file
name, id = the parser's id for that key in that plan, line 0 (unknown).

With ``plans_root`` every stored file name (a basename, for the real writers) is looked up
recursively under it. A name found once is that plan; found several times it is resolved
only when exactly one candidate holds the legacy tasks (by key and text), else it is
reported with its tasks, like a name found nowhere. In a found plan each legacy task is
matched to a parsed task on its numbered key, then on its text, and the migrated task *is*
the parsed task (same id, line, text, status as ``planvec index`` gives it), so the index
continues incrementally afterwards. The lines the writers' regex captured but whose point
is gone (overwritten through a shared id) are recovered from the plan; a legacy task the
plan no longer holds is kept as stored and listed as stale. Tasks the regex never captured
are left to the next ``planvec index``.
"""

from __future__ import annotations

import dataclasses
from collections import Counter, defaultdict
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from planvec.backup.legacy_payloads import Capture, LegacyTask, legacy_captures
from planvec.backup.legacy_stored import (
    NO_FILE_PLAN,
    dedupe,
    stored_plan,
    stored_task,
)
from planvec.records import Plan, SourceFailure, Task
from planvec.sources.files import decode, discover, read_plan
from planvec.sources.markdown_plans import IdMaker  # the parser's id scheme, not a copy
from planvec.text.clean import clean_task_text

#: Folder for tasks of an unresolved name that is also a real plan's path.
UNRESOLVED_DIR = "legacy-unresolved"


@dataclass
class Placement:
    """Where the legacy tasks went, and every one that could not be placed, with why."""

    plans_root: str | None = None
    resolved: dict[str, str] = field(default_factory=dict)
    by_content: list[dict[str, Any]] = field(default_factory=list)
    not_found: list[dict[str, Any]] = field(default_factory=list)
    ambiguous: list[dict[str, Any]] = field(default_factory=list)
    unreadable: list[dict[str, Any]] = field(default_factory=list)
    matched_by_key: int = 0
    matched_by_text: list[dict[str, Any]] = field(default_factory=list)
    stale: list[dict[str, Any]] = field(default_factory=list)
    superseded: list[dict[str, Any]] = field(default_factory=list)
    not_tasks: list[dict[str, Any]] = field(default_factory=list)
    recovered: list[dict[str, Any]] = field(default_factory=list)
    status_differs: list[dict[str, Any]] = field(default_factory=list)
    uncaptured: int = 0
    #: stored file name -> plan path, as the user chose them
    chosen: dict[str, str] = field(default_factory=dict)
    #: planvec id -> legacy point id, for the tasks matched in a plan
    legacy_ids: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if k != "legacy_ids"}

    @property
    def unplaced(self) -> int:
        """Legacy tasks not placed in a plan file (not found, ambiguous, unreadable, stale)."""
        groups = (self.not_found, self.ambiguous, self.unreadable)
        return sum(len(g["tasks"]) for grp in groups for g in grp) + len(self.stale)


def legacy_plans(
    tasks: Sequence[LegacyTask],
    plans_root: Path | None = None,
    plan_for: Mapping[str, str] | None = None,
) -> tuple[list[Plan], Placement]:
    """Map legacy tasks to plans (see the module docstring).

    Args:
        tasks: the legacy points read as tasks (``read_legacy_point``), duplicates included.
        plans_root: the directory the plans live in (searched recursively), or ``None``.
        plan_for: stored file name -> plan path under ``plans_root``, chosen by the user for
            names found several times (or moved since).

    Returns:
        The plans, sorted by path, and the placement report.
    """
    per_file = dedupe(tasks)
    placement = Placement(plans_root=str(plans_root) if plans_root else None)
    placement.chosen = dict(plan_for or {})
    if plans_root is None:
        plans = [stored_plan(file or NO_FILE_PLAN, items) for file, items in per_file.items()]
        return sorted(plans, key=lambda p: p.path), placement
    files = discover([plans_root])[0]
    by_rel = {rel: full for full, rel in files}
    by_name: dict[str, list[str]] = defaultdict(list)
    for rel in by_rel:
        by_name[PurePosixPath(rel).name].append(rel)
    targets: dict[str, list[LegacyTask]] = defaultdict(list)
    unplaced: dict[str, list[LegacyTask]] = {}
    for file, items in per_file.items():
        target = _resolve(file, items, by_rel, by_name, placement)
        if target is None:
            unplaced[_unplaced_path(file, by_rel)] = items
        else:
            targets[target].extend(items)
    plans = [stored_plan(path, items) for path, items in unplaced.items()]
    keys_elsewhere = _keys_by_file(per_file)
    for rel, items in sorted(targets.items()):
        plans.append(_placed_plan(by_rel[rel], rel, items, keys_elsewhere, placement))
    return sorted(plans, key=lambda p: p.path), placement


def _unplaced_path(file: str, by_rel: dict[str, Path]) -> str:
    if not file:
        return NO_FILE_PLAN
    return f"{UNRESOLVED_DIR}/{file}" if file in by_rel else file


def _keys_by_file(per_file: dict[str, list[LegacyTask]]) -> dict[str, set[str]]:
    out: dict[str, set[str]] = defaultdict(set)
    for file, items in per_file.items():
        for task in items:
            out[task.key].add(file)
    return out


def _resolve(
    file: str,
    items: list[LegacyTask],
    by_rel: dict[str, Path],
    by_name: dict[str, list[str]],
    placement: Placement,
) -> str | None:
    """The plan path a stored file name stands for, or ``None`` (reported)."""
    brief = [t.key for t in items]
    if not file:
        return None
    if file in placement.chosen:  # the user's choice (--plan-for NAME=PATH)
        chosen = placement.chosen[file]
        if chosen in by_rel:
            placement.resolved[file] = chosen
            return chosen
        why = f"--plan-for names {chosen!r}, which is no plan under the plans root"
        placement.not_found.append({"file": file, "tasks": brief, "why": why})
        return None
    # a relative path (older shape) is taken as it is; a basename may be anywhere
    name = PurePosixPath(file).name
    exact = file in by_rel and file != name
    candidates = [file] if exact else sorted(by_name.get(name, []))
    if not candidates:
        why = "no plan of this name under the plans root"
        placement.not_found.append({"file": file, "tasks": brief, "why": why})
        return None
    if len(candidates) > 1:
        scores = {rel: _score(by_rel[rel], rel, items) for rel in candidates}
        holding = [rel for rel, n in scores.items() if n]
        if len(holding) != 1:
            placement.ambiguous.append({
                "file": file, "candidates": scores, "tasks": brief,
                "why": ("several plans of this name hold these tasks" if holding
                        else "several plans of this name, none holds these tasks")
                + ": choose one with --plan-for NAME=PATH",
            })  # fmt: skip
            return None
        placement.by_content.append({"file": file, "plan": holding[0], "candidates": scores})
        candidates = holding
    placement.resolved[file] = candidates[0]
    return candidates[0]


def _score(full: Path, rel: str, items: list[LegacyTask]) -> int:
    """How many of ``items`` the plan holds with the same key and text."""
    plan = read_plan(full, rel)
    if isinstance(plan, SourceFailure):
        return 0
    held = {(t.key, _norm(t.text)) for t in plan.tasks}
    return sum(1 for t in items if (t.key, _norm(t.text)) in held)


def _norm(text: str) -> str:
    return " ".join(clean_task_text(text).casefold().split())


def _placed_plan(
    full: Path,
    rel: str,
    items: list[LegacyTask],
    keys_elsewhere: dict[str, set[str]],
    placement: Placement,
) -> Plan:
    """The parsed plan's tasks that the legacy held (or should have), plus stale ones."""
    plan = read_plan(full, rel)
    if isinstance(plan, SourceFailure):
        placement.unreadable.append({"plan": rel, "why": plan.message,
                                     "tasks": [t.key for t in items]})  # fmt: skip
        return stored_plan(rel, items)
    captures = legacy_captures(decode(full.read_bytes(), rel)[0])
    captured = {c.line for c in captures}
    matched, stale = _match(plan, items, captures, placement)
    keep = [t for t in plan.tasks if t.id in matched or t.line in captured]
    placement.uncaptured += len(plan.tasks) - len(keep)
    key_counts = Counter(t.key for t in plan.tasks)
    read_as = {c.line: c.key for c in captures}
    for task in keep:
        if task.id in matched:
            continue
        entry = _recovered(task, rel, key_counts, keys_elsewhere)
        if read_as.get(task.line, task.key) != task.key:
            entry["why"] = f"the legacy read this line as task {read_as[task.line]}"
        placement.recovered.append(entry)
    extra = _stale_tasks(plan, stale, placement)
    return dataclasses.replace(plan, tasks=(*keep, *extra))


def _match(
    plan: Plan, items: list[LegacyTask], captures: list[Capture], placement: Placement
) -> tuple[dict[str, LegacyTask], list[LegacyTask]]:
    """Legacy tasks to parsed tasks: on the numbered key (same text first), then on the text.

    Among equal candidates the last in the plan wins: a writer run kept the last line of a
    repeated key (one id), so the earlier ones are the lost ones.
    """
    by_key: dict[str | None, list[Task]] = defaultdict(list)
    for task in plan.tasks:
        by_key[task.key].append(task)
    matched: dict[str, LegacyTask] = {}
    rest: list[LegacyTask] = []
    for textual in (True, False):
        rest = []
        for item in items:
            free = [t for t in by_key.get(item.key, []) if t.id not in matched]
            pick = _same_text(item, free) if textual else free
            if pick:
                _take(matched, pick[-1], item, plan.path, placement)
                placement.matched_by_key += 1
            else:
                rest.append(item)
        items = rest
    return matched, _match_text(plan, rest, matched, by_key, captures, placement)


def _match_text(
    plan: Plan,
    items: list[LegacyTask],
    matched: dict[str, LegacyTask],
    by_key: dict[str | None, list[Task]],
    captures: list[Capture],
    placement: Placement,
) -> list[LegacyTask]:
    """Match what the keys left on the text; sort the rest out. Returns the stale tasks."""
    held = {(c.key, c.description): c.line for c in captures}
    stale = []
    for item in items:
        same = _same_text(item, [t for t in plan.tasks if t.id not in matched], exact=True)
        line = held.get((item.key, item.description))
        if same:
            _take(matched, same[-1], item, plan.path, placement)
            placement.matched_by_text.append(
                {"plan": plan.path, "legacy_task_id": item.key, "task_id": same[-1].key,
                 "line": same[-1].line}
            )  # fmt: skip
        elif item.key in by_key:  # an older text of a task matched on its key
            placement.superseded.append({**item.brief(), "plan": plan.path,
                "why": "an older text of this task; the plan's text is kept"})  # fmt: skip
        elif line is not None:
            placement.not_tasks.append({**item.brief(), "plan": plan.path, "line": line,
                "why": "the plan has this line, but it is no task of its own (code block, "
                       "or glued to another item): not migrated"})  # fmt: skip
        else:
            stale.append(item)
    return stale


def _same_text(item: LegacyTask, tasks: list[Task], exact: bool = False) -> list[Task]:
    """The tasks with the legacy text, else (unless ``exact``) the ones that continue it."""
    want = _norm(item.text)
    same = [t for t in tasks if _norm(t.text) == want]
    if same or exact:
        return same
    return [t for t in tasks if _norm(t.text).startswith(want)]  # continuation lines


def _take(
    matched: dict[str, LegacyTask], task: Task, item: LegacyTask, plan: str, placement: Placement
) -> None:
    matched[task.id] = item
    placement.legacy_ids[task.id] = item.legacy_id
    if task.status != item.status:
        placement.status_differs.append(
            {"plan": plan, "task_id": task.key, "line": task.line,
             "legacy": item.legacy_status, "plan_status": task.status}
        )  # fmt: skip


def _recovered(
    task: Task, rel: str, key_counts: Counter[str | None], keys_elsewhere: dict[str, set[str]]
) -> dict[str, Any]:
    others = sorted(f for f in keys_elsewhere.get(task.key or "", set()) if f)
    name = PurePosixPath(rel).name
    if key_counts[task.key] > 1:
        why = "its key occurs twice in the plan: both lines shared one legacy id"
    elif any(f != name for f in others):
        why = f"overwritten: its id is shared with task {task.key} of {', '.join(others)}"
    else:
        why = "no point in the collection (overwritten by a re-run, or added since)"
    return {"plan": rel, "line": task.line, "task_id": task.key, "why": why}


def _stale_tasks(plan: Plan, stale: list[LegacyTask], placement: Placement) -> Iterator[Task]:
    """Legacy tasks the plan no longer holds, kept as stored (ids clear of the plan's)."""
    ids = IdMaker(plan.path)
    ids.used.update(t.id for t in plan.tasks)
    for task in plan.tasks:
        if task.key is not None:
            ids.seen[("key", task.key)] += 1
    first: dict[str, str] = {}
    for item in stale:
        placement.stale.append({**item.brief(), "plan": plan.path,
                                "why": "the plan holds no task with this key or text"})  # fmt: skip
        yield stored_task(plan.path, item, ids.make("key", item.key), first)
