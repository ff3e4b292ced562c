"""The legacy ``roadmap_tasks`` collection: reading it, judging its integrity, mapping it.

The legacy scripts wrote one point per task with a *random* 1536-d vector (so search never
worked), an integer id (``hash(task_id) % 10_000``: ids collide and move between runs) and this
payload: ``task_id`` ("1.2.3"), ``description``, ``status`` ("todo"/"done"/"in_progress"),
``section`` ("Phase 1 > Setup" or "Phase 1/Setup"), ``parent`` (task_id of the parent),
``priority``, ``estimate``, ``mvp`` (bool), ``category``, ``file_path``, ``last_updated``.

``LegacyPoints`` reads it from a store (a server URL or qdrant-client local mode, through the
store layer) or from a planvec archive of it. ``integrity_report`` counts what is wrong before
anything is written. ``legacy_plans`` maps the payloads to planvec ``Plan``/``Task`` records
with the parser's own id scheme, so the result is indexed by the ordinary sync (real model,
lexical vectors, hashes) and checked by the ordinary ``planvec check``.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from planvec.backup.archive import Archive
from planvec.records import (
    STATUS_CANCELLED,
    STATUS_DONE,
    STATUS_IN_PROGRESS,
    STATUS_TODO,
    Plan,
    SourceFailure,
    Task,
    content_hash,
)
from planvec.sources.markdown_plans import IdMaker  # the parser's id scheme, not a copy
from planvec.store.base import PointRecord, VectorStore

LEGACY_COLLECTION = "roadmap_tasks"
LEGACY_FIELDS = (
    "task_id", "description", "status", "section", "parent", "priority", "estimate", "mvp",
    "category", "file_path", "last_updated",
)  # fmt: skip
#: Plan name given to tasks whose ``file_path`` is missing.
NO_FILE_PLAN = "legacy/no-file.md"
_STATUSES = {
    "todo": STATUS_TODO, "to_do": STATUS_TODO, "open": STATUS_TODO, "pending": STATUS_TODO,
    "done": STATUS_DONE, "completed": STATUS_DONE, "complete": STATUS_DONE,
    "in_progress": STATUS_IN_PROGRESS, "doing": STATUS_IN_PROGRESS, "wip": STATUS_IN_PROGRESS,
    "cancelled": STATUS_CANCELLED, "canceled": STATUS_CANCELLED,
}  # fmt: skip


class LegacyPoints:
    """The points of a legacy collection, chunk by chunk, from a store or an archive."""

    def __init__(
        self,
        *,
        store: VectorStore | None = None,
        collection: str = LEGACY_COLLECTION,
        archive: Archive | None = None,
    ) -> None:
        if (store is None) == (archive is None):
            raise ValueError("give exactly one of store or archive")
        self.store = store
        self.collection = collection
        self.archive = archive

    @property
    def location(self) -> str:
        if self.archive is not None:
            return str(self.archive.path)
        assert self.store is not None
        return f"{self.store.backend} {getattr(self.store, 'location', '')} {self.collection!r}"

    def chunks(
        self, *, with_vectors: bool = False, size: int = 1024
    ) -> Iterator[list[PointRecord]]:
        """The points in chunks (vectors only when asked: 1536 floats each)."""
        if self.archive is not None:
            for chunk in self.archive.iter_chunks():
                if not with_vectors:
                    for point in chunk:
                        point.vector = None
                yield chunk
            return
        assert self.store is not None
        page: list[PointRecord] = []
        for point in self.store.scroll(self.collection, with_vectors=with_vectors, batch_size=size):
            page.append(point)
            if len(page) >= size:
                yield page
                page = []
        if page:
            yield page


@dataclass
class IntegrityReport:
    """What is in the legacy collection, and what is wrong with it."""

    source: str = ""
    points: int = 0
    dimension: int | None = None
    id_types: Counter[str] = field(default_factory=Counter)
    distinct_tasks: int = 0
    duplicates: list[dict[str, Any]] = field(default_factory=list)
    colliding: list[dict[str, Any]] = field(default_factory=list)
    missing_text: list[dict[str, Any]] = field(default_factory=list)
    missing_file: list[dict[str, Any]] = field(default_factory=list)
    missing_task_id: list[dict[str, Any]] = field(default_factory=list)
    statuses: Counter[str] = field(default_factory=Counter)
    fields: dict[str, Counter[str]] = field(default_factory=dict)
    files: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "points": self.points,
            "dimension": self.dimension,
            "id_types": dict(self.id_types),
            "distinct_tasks": self.distinct_tasks,
            "files": self.files,
            "duplicates": self.duplicates,
            "colliding": self.colliding,
            "missing_text": self.missing_text,
            "missing_file": self.missing_file,
            "missing_task_id": self.missing_task_id,
            "statuses": dict(self.statuses),
            "fields": {k: dict(v) for k, v in sorted(self.fields.items())},
        }


def _type_name(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "float"
    if isinstance(value, str):
        return "str" if value.strip() else "empty-str"
    return "list" if isinstance(value, list) else "object"


def _text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


def integrity_report(
    points: Sequence[PointRecord],
    *,
    source: str = "",
    plans_root: Path | None = None,
    dimension: int | None = None,
) -> IntegrityReport:
    """Count duplicates, colliding keys, missing texts/files and field types.

    * duplicate: several points for one task (same file, ``task_id`` and description), e.g.
      left by a re-run whose ``hash()`` salt gave new ids; one copy is migrated.
    * colliding: different tasks sharing one file and ``task_id``; all are migrated (the
      parser's id scheme numbers repeated keys).

    Args:
        points: the legacy points (payloads are enough).
        source: where they were read (shown in the report).
        plans_root: when given, a ``file_path`` that does not exist under it is "missing".
        dimension: the legacy vector size, when known.

    Returns:
        The report.
    """
    report = IntegrityReport(source=source, points=len(points), dimension=dimension)
    groups: dict[tuple[str, str], list[PointRecord]] = defaultdict(list)
    files: set[str] = set()
    for point in points:
        p = point.payload
        report.id_types["int" if isinstance(point.id, int) else "uuid"] += 1
        for name in sorted(set(LEGACY_FIELDS) | set(p)):
            kind = _type_name(p[name]) if name in p else "absent"
            report.fields.setdefault(name, Counter())[kind] += 1
        report.statuses[str(p.get("status"))] += 1
        brief = {
            "legacy_id": point.id,
            "task_id": p.get("task_id"),
            "file_path": p.get("file_path"),
        }
        if not _text(p.get("description")):
            report.missing_text.append(brief)
        file_path = _text(p.get("file_path"))
        if not file_path or (plans_root is not None and not (plans_root / file_path).is_file()):
            report.missing_file.append(brief)
        if not _text(str(p.get("task_id") or "")):
            report.missing_task_id.append(brief)
        files.add(file_path)
        groups[(file_path, str(p.get("task_id") or f"#legacy-{point.id}"))].append(point)
    report.files = len(files)
    for (file_path, task_id), members in sorted(groups.items()):
        texts = {_text(m.payload.get("description")) for m in members}
        report.distinct_tasks += len(texts)
        if len(members) > len(texts):
            report.duplicates.append({
                "file_path": file_path, "task_id": task_id,
                "legacy_ids": sorted((m.id for m in members), key=str),
            })  # fmt: skip
        if len(texts) > 1:
            report.colliding.append({
                "file_path": file_path, "task_id": task_id,
                "descriptions": sorted(texts)[:5],
            })  # fmt: skip
    return report


def _natural(key: str) -> tuple[Any, ...]:
    return tuple(
        (0, int(part)) if part.isdigit() else (1, part) for part in re.split(r"[.\s]", key)
    )


def _section(value: Any) -> tuple[str, ...]:
    if isinstance(value, list):
        return tuple(str(v).strip() for v in value if str(v).strip())
    text = _text(value)
    if not text:
        return ()
    parts = text.split(" > ") if " > " in text else text.split("/")
    return tuple(p.strip() for p in parts if p.strip())


def _status(value: Any) -> str:
    text = _text(value).lower().replace("-", "_").replace(" ", "_")
    return _STATUSES.get(text, STATUS_TODO)


def _latest(points: list[PointRecord]) -> PointRecord:
    return max(points, key=lambda p: (str(p.payload.get("last_updated") or ""), str(p.id)))


def legacy_plans(points: Sequence[PointRecord]) -> list[Plan]:
    """Map legacy points to planvec plans (one per ``file_path``), duplicates dropped.

    ``plan`` = file_path, ``text`` = description (the task id when it is missing), ``key`` =
    task_id, ``section`` split on " > " or "/", ``priority``/``estimate``/``mvp``/``category``
    in metadata with the legacy id and date; ids come from the parser's own scheme, so a later
    ``planvec index`` of the same plan files finds the same ids for numbered tasks. ``line``
    is 0 (unknown).

    Args:
        points: the legacy points (payloads only).

    Returns:
        Plans sorted by path, tasks in natural ``task_id`` order.
    """
    by_task: dict[tuple[str, str, str], list[PointRecord]] = defaultdict(list)
    for point in points:
        p = point.payload
        plan = str(PurePosixPath(_text(p.get("file_path")) or NO_FILE_PLAN))
        task_id = _text(str(p.get("task_id") or "")) or f"legacy-{point.id}"
        by_task[(plan, task_id, _text(p.get("description")))].append(point)
    per_plan: dict[str, list[tuple[str, PointRecord]]] = defaultdict(list)
    for (plan, task_id, _), group in by_task.items():
        per_plan[plan].append((task_id, _latest(group)))
    return [_plan(path, items) for path, items in sorted(per_plan.items())]


def _plan(path: str, items: list[tuple[str, PointRecord]]) -> Plan:
    items.sort(key=lambda item: (_natural(item[0]), str(item[1].id)))
    ids = IdMaker(path)
    made = [(task_id, point, ids.make("key", task_id)) for task_id, point in items]
    first_id: dict[str, str] = {}
    for task_id, _, new_id in made:
        first_id.setdefault(task_id, new_id)
    tasks = []
    for task_id, point, new_id in made:
        p = point.payload
        text = _text(p.get("description"))
        issues = [] if text else ["missing description"]
        if not _text(p.get("file_path")):
            issues.append("missing file_path")
        section = _section(p.get("section"))
        status = _status(p.get("status"))
        meta: dict[str, Any] = {
            "priority": None if p.get("priority") is None else str(p.get("priority")),
            "estimate": p.get("estimate"),
            "mvp": bool(p.get("mvp", False)),
            "category": p.get("category"),
            "legacy_id": point.id,
            "legacy_last_updated": p.get("last_updated"),
        }
        if issues:
            meta["legacy_issues"] = issues
        parent = _text(str(p.get("parent") or ""))
        text = text or f"{task_id} (no description in the legacy collection)"
        tasks.append(
            Task(
                plan=path,
                line=0,
                checked=status == STATUS_DONE,
                status=status,
                text=text,
                depth=task_id.count(".") if re.fullmatch(r"[\d.]+", task_id) else 0,
                parent_line=None,
                section=section,
                key=task_id,
                id=new_id,
                parent_id=first_id.get(parent) if parent else None,
                content_hash=content_hash(text),
                metadata={k: v for k, v in meta.items() if v is not None},
            )
        )
    return Plan(path=path, title=None, version=None, tasks=tuple(tasks))


class LegacySource:
    """A ``Source`` over mapped legacy plans (so sync and check treat them like files)."""

    def __init__(self, plans: Sequence[Plan]) -> None:
        self.plans = list(plans)

    def iter_plans(self) -> Iterator[Plan | SourceFailure]:
        yield from self.plans
