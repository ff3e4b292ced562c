"""Pass 2 of ``planvec check``: each parsed plan against the points stored for it.

For each plan, one filtered scroll of its points without vectors: missing tasks, stale
text or payload, orphans and duplicates. Memory is bounded by the largest plan.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from planvec.checks.findings import CheckReport, Finding
from planvec.embedding_recipe import VOLATILE_FIELDS, indexable_tasks, payload_hash, task_payload
from planvec.index import Index
from planvec.records import Plan, SourceFailure
from planvec.sources.base import Source
from planvec.store.base import Filter, MatchValue


@dataclass(frozen=True)
class Expected:
    """What sync would write for one task (held for one plan at a time)."""

    id: str
    line: int
    key: str | None
    embed_hash: str
    payload: dict[str, Any]
    payload_hash: str


def compare_plans(
    index: Index,
    source: Source,
    report: CheckReport,
    on_plan: Callable[[Plan], None] | None,
) -> None:
    """Pass 2: each parsed plan against the points stored for it."""
    family = index.embedder.family
    lexical_version = index.lexical.version if index.lexical else None
    seen_plans: set[str] = set()
    for item in source.iter_plans():
        if isinstance(item, SourceFailure):
            seen_plans.add(item.path)
            report.add(Finding("unparsed_plan", f"cannot parse: {item.message}", plan=item.path))
            continue
        seen_plans.add(item.path)
        report.plans_checked += 1
        if on_plan is not None:
            on_plan(item)
        counts = report.plan(item.path)
        tasks = indexable_tasks(item)
        counts.tasks = len(tasks)
        report.tasks += len(tasks)
        expected: dict[str, Expected] = {}
        for task in tasks:
            if task.id in expected:
                continue  # sync skips it too (with a parse warning)
            payload = task_payload(task, model_family=family, lexical_version=lexical_version)
            expected[task.id] = Expected(
                task.id,
                task.line,
                task.key,
                payload["embed_hash"],
                payload,
                payload_hash(payload),
            )
        _compare_one(index, item.path, expected, lexical_version, report)
    in_scope = getattr(source, "in_scope", None)  # a rooted source over part of the tree
    for plan, counts in sorted(report.plans.items()):
        if plan in seen_plans or not counts.points:
            continue
        if in_scope is None or in_scope(plan):
            report.add(
                Finding(
                    "orphan_plan",
                    f"{counts.points} point(s) of a plan that is not among the plans given",
                    plan=plan,
                    detail={"points": counts.points},
                )
            )


def _compare_one(
    index: Index,
    plan: str,
    expected: dict[str, Expected],
    lexical_version: str | None,
    report: CheckReport,
) -> None:
    """The stored points of ``plan`` against what sync would write for it."""
    by_line = {e.line: e.id for e in expected.values()}
    by_key = {e.key: e.id for e in expected.values() if e.key}
    stored: set[str] = set()
    flt = Filter(must=(MatchValue("plan", plan),))
    for point in index.points.scroll(filter=flt, with_payload=True):
        pid = str(point.id)
        want = expected.get(pid)
        if want is None:
            twin = _twin(point.payload, by_line, by_key)
            report.add(_stray(plan, pid, point.payload, twin, expected))
            continue
        stored.add(pid)
        stale = _staleness(point.payload, want, lexical_version)
        if stale is not None:
            kind, message = stale
            report.add(Finding(kind, message, plan=plan, line=want.line, id=pid))
    for pid in sorted(expected.keys() - stored, key=lambda i: expected[i].line):
        want = expected[pid]
        report.add(
            Finding("missing", "task is not in the index", plan=plan, line=want.line, id=pid)
        )


def _twin(payload: dict[str, Any], by_line: dict[int, str], by_key: dict[str, str]) -> str | None:
    """The expected task an unexpected point duplicates (same line, else same key)."""
    line = to_int(payload.get("line"))
    twin = by_line.get(line) if line is not None else None
    key = payload.get("key")
    if twin is None and isinstance(key, str) and key:
        twin = by_key.get(key)
    return twin


def _stray(
    plan: str,
    pid: str,
    payload: dict[str, Any],
    twin: str | None,
    expected: dict[str, Expected],
) -> Finding:
    """A point no task of the plan has: a duplicate of ``twin``, or an orphan."""
    line = to_int(payload.get("line"))
    if twin is not None:
        return Finding(
            "duplicate",
            f"second point for the task at line {expected[twin].line} (kept id {twin})",
            plan=plan,
            line=line,
            id=pid,
            detail={"duplicate_of": twin},
        )
    return Finding(
        "orphan_task",
        f"no task of the plan matches this point ({_short(payload.get('text'))})",
        plan=plan,
        line=line,
        id=pid,
    )


def _staleness(
    payload: dict[str, Any], want: Expected, lexical_version: str | None
) -> tuple[str, str] | None:
    """``(kind, message)`` when the stored point differs from what sync would write."""
    if (
        payload.get("embed_hash") != want.embed_hash
        or payload.get("lexical_version") != lexical_version
    ):
        text = _short(payload.get("text"))
        return "stale_text", f"indexed text or recipe differs from the plan ({text})"
    if payload.get("payload_hash") != want.payload_hash or not _same_payload(payload, want.payload):
        return "stale_payload", "payload differs from the plan (status, section, metadata...)"
    return None


def _same_payload(stored: dict[str, Any], expected: dict[str, Any]) -> bool:
    """Stored payload equals the expected one, volatile fields aside.

    Same answer as comparing the ``payload_hash`` of both (equal stable JSON), at a fraction
    of the cost of hashing every stored payload.
    """
    if len(stored.keys() - VOLATILE_FIELDS) != len(expected):
        return False
    return all(k in stored and _json_equal(stored[k], v) for k, v in expected.items())


def _json_equal(a: Any, b: Any) -> bool:
    """Equal as JSON: ``True`` is not ``1``, ``1`` is not ``1.0``, a tuple is a list."""
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(_json_equal(x, y) for x, y in zip(a, b, strict=True))
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_json_equal(a[k], b[k]) for k in a)
    return bool(a == b)


def to_int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _short(text: Any, size: int = 60) -> str:
    s = str(text or "")
    return s if len(s) <= size else s[: size - 1] + "…"
