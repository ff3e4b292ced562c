"""Legacy tasks as they were stored: deduplicated, with their legacy key and file name.

Used when no plan file holds them (no ``--plans-root``, a file found nowhere, a stale task):
plan = the stored name, key = the legacy task id, id = the parser's id for that key in that
plan (``IdMaker``, docs/ids.md), line 0.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterator, Sequence
from typing import Any

from planvec.backup.legacy_payloads import LegacyTask
from planvec.records import STATUS_DONE, Plan, SourceFailure, Task, content_hash
from planvec.sources.markdown_plans import IdMaker  # the parser's id scheme, not a copy

#: Plan name given to tasks stored without any file name.
NO_FILE_PLAN = "legacy/no-file.md"


def _natural(key: str) -> tuple[Any, ...]:
    return tuple((0, int(p)) if p.isdigit() else (1, p) for p in re.split(r"[.\s-]", key))


def _latest(tasks: list[LegacyTask]) -> LegacyTask:
    return max(tasks, key=lambda t: (t.last_updated, str(t.legacy_id)))


def dedupe(tasks: Sequence[LegacyTask]) -> dict[str, list[LegacyTask]]:
    """One task per (file, key, description), the latest copy; grouped by file."""
    groups: dict[tuple[str, str, str], list[LegacyTask]] = defaultdict(list)
    for task in tasks:
        groups[(task.file, task.key, task.description)].append(task)
    per_file: dict[str, list[LegacyTask]] = defaultdict(list)
    for (file, _, _), members in groups.items():
        per_file[file].append(_latest(members))
    for members in per_file.values():
        members.sort(key=lambda t: (_natural(t.key), str(t.legacy_id)))
    return dict(sorted(per_file.items()))


def copies(tasks: Sequence[LegacyTask]) -> dict[Any, list[Any]]:
    """Legacy id of each kept copy (see ``dedupe``) -> the legacy ids of all its copies."""
    groups: dict[tuple[str, str, str], list[LegacyTask]] = defaultdict(list)
    for task in tasks:
        groups[(task.file, task.key, task.description)].append(task)
    return {
        _latest(members).legacy_id: sorted((m.legacy_id for m in members), key=str)
        for members in groups.values()
    }


def stored_plan(path: str, items: list[LegacyTask]) -> Plan:
    """A plan of legacy tasks as stored: legacy key, parser ids, line 0."""
    ids = IdMaker(path)
    made = [(task, ids.make("key", task.key)) for task in items]
    first: dict[str, str] = {}
    for task, new_id in made:
        first.setdefault(task.key, new_id)
    tasks = tuple(stored_task(path, task, new_id, first) for task, new_id in made)
    return Plan(path=path, title=None, version=None, tasks=tasks)


def stored_task(path: str, task: LegacyTask, new_id: str, first: dict[str, str]) -> Task:
    """One legacy task as stored (line 0), with the legacy fields in its metadata."""
    meta = dict(task.metadata)
    issues = [] if task.description else ["missing description"]
    if not task.file:
        issues.append("missing file")
    if issues:
        meta["legacy_issues"] = issues
    numbered = re.fullmatch(r"\d+(?:\.\d+)*", task.key) is not None
    return Task(
        plan=path,
        line=0,
        checked=task.status == STATUS_DONE,
        status=task.status,
        text=task.text,
        depth=task.key.count(".") if numbered else 0,
        parent_line=None,
        section=task.section,
        key=task.key,
        id=new_id,
        parent_id=first.get(task.parent_key) if task.parent_key else None,
        content_hash=content_hash(task.text),
        metadata=meta,
    )


class LegacySource:
    """A ``Source`` over mapped legacy plans (so sync and check treat them like files)."""

    def __init__(self, plans: Sequence[Plan]) -> None:
        self.plans = list(plans)

    def iter_plans(self) -> Iterator[Plan | SourceFailure]:
        yield from self.plans
