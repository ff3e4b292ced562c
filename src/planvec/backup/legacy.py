"""The legacy ``roadmap_tasks`` collection: reading it and judging its integrity.

``LegacyPoints`` reads it from a store (a server URL or qdrant-client local mode, through the
store layer) or from a planvec archive of it. ``integrity_report`` says what is in it and what
is wrong, before anything is written: which writer's shape each point has
(``planvec.backup.legacy_payloads``), the points that are no task (the test point, mixed
payloads), duplicates left by re-runs, keys that collide, missing texts, files and parents,
and the ids that the writers are known to overwrite. Placing the tasks in plan files is
``planvec.backup.legacy_plans``.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from planvec.backup.archive import Archive
from planvec.backup.legacy_payloads import (
    SNAKE,
    LegacyTask,
    NotATask,
    read_legacy_point,
)
from planvec.store.base import PointRecord, VectorStore

LEGACY_COLLECTION = "roadmap_tasks"


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
    shapes: Counter[str] = field(default_factory=Counter)
    not_tasks: list[dict[str, Any]] = field(default_factory=list)
    distinct_tasks: int = 0
    duplicates: list[dict[str, Any]] = field(default_factory=list)
    colliding: list[dict[str, Any]] = field(default_factory=list)
    overwritten: list[dict[str, Any]] = field(default_factory=list)
    missing_text: list[dict[str, Any]] = field(default_factory=list)
    missing_file: list[dict[str, Any]] = field(default_factory=list)
    missing_task_id: list[dict[str, Any]] = field(default_factory=list)
    missing_parent: list[dict[str, Any]] = field(default_factory=list)
    statuses: Counter[str] = field(default_factory=Counter)
    fields: dict[str, Counter[str]] = field(default_factory=dict)
    files: int = 0

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = dict(self.__dict__)
        for name in ("id_types", "shapes", "statuses"):
            out[name] = dict(out[name])
        out["fields"] = {k: dict(v) for k, v in sorted(self.fields.items())}
        return out


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


def read_points(points: Sequence[PointRecord]) -> list[LegacyTask | NotATask]:
    """Every point read with ``read_legacy_point`` (same order)."""
    return [read_legacy_point(p) for p in points]


def integrity_report(
    points: Sequence[PointRecord], *, source: str = "", dimension: int | None = None
) -> IntegrityReport:
    """What the legacy collection holds and what is wrong with it.

    * duplicate: several points for one task (same file, task id and description), left by
      re-runs (the salted ``hash()`` gives new ids each run); one copy is migrated.
    * colliding: different texts under one file and task id; all are kept.
    * overwritten: points the writers' id schemes are known to have destroyed (the test
      point on id 0 over the meta-sync's first task); lost tasks that only the plans can
      show are listed by the placement (``legacy_plans``).
    * missing parent: a ``parentId`` that is no task of the same file: often a point that
      another file's task overwrote (ids are shared across files), or a heading, not a task.

    Args:
        points: the legacy points (payloads are enough).
        source: where they were read (shown in the report).
        dimension: the legacy vector size, when known.

    Returns:
        The report.
    """
    report = IntegrityReport(source=source, points=len(points), dimension=dimension)
    items = read_points(points)
    tasks: list[LegacyTask] = []
    for point, item in zip(points, items, strict=True):
        report.id_types["int" if isinstance(point.id, int) else "uuid"] += 1
        for name, value in point.payload.items():
            report.fields.setdefault(name, Counter())[_type_name(value)] += 1
        report.statuses[str(point.payload.get("status"))] += 1
        if isinstance(item, NotATask):
            report.shapes[item.kind] += 1
            report.not_tasks.append(item.brief())
            continue
        report.shapes[item.shape] += 1
        tasks.append(item)
        if not item.description:
            report.missing_text.append(item.brief())
        if not item.file:
            report.missing_file.append(item.brief())
        if item.key.startswith("legacy-"):
            report.missing_task_id.append(item.brief())
    report.files = len({t.file for t in tasks})
    _group_report(report, tasks)
    _overwrite_report(report, tasks, items)
    return report


def _group_report(report: IntegrityReport, tasks: list[LegacyTask]) -> None:
    groups: dict[tuple[str, str], list[LegacyTask]] = defaultdict(list)
    for task in tasks:
        groups[(task.file, task.key)].append(task)
    for (file, key), members in sorted(groups.items()):
        texts = {m.description for m in members}
        report.distinct_tasks += len(texts)
        if len(members) > len(texts):
            report.duplicates.append({
                "file": file or None, "task_id": key,
                "legacy_ids": sorted((m.legacy_id for m in members), key=str),
                "shapes": sorted({m.shape for m in members}),
            })  # fmt: skip
        if len(texts) > 1:
            report.colliding.append({"file": file or None, "task_id": key,
                                     "descriptions": sorted(texts)[:5]})  # fmt: skip
    keys = {(t.file, t.key) for t in tasks}
    for task in tasks:
        if task.parent_key and (task.file, task.parent_key) not in keys:
            report.missing_parent.append({"file": task.file or None, "task_id": task.key,
                                          "parent": task.parent_key})  # fmt: skip


def _overwrite_report(
    report: IntegrityReport, tasks: list[LegacyTask], items: list[LegacyTask | NotATask]
) -> None:
    """Overwrites the id schemes make certain: meta-sync ids 0..N-1 and the test point's 0."""
    meta_ids = sorted(t.legacy_id for t in tasks if t.shape == SNAKE and _is_meta_sync(t))
    tests = [i for i in items if isinstance(i, NotATask) and i.kind == "test-point"]
    if meta_ids and tests and 0 not in meta_ids and 1 in meta_ids:
        report.overwritten.append({
            "legacy_id": 0, "lost": "the first task of the meta-sync run",
            "by": "the simple_vectorize.py test point (id 0)",
        })  # fmt: skip
    if meta_ids:
        report.overwritten.append({
            "legacy_ids": f"{meta_ids[0]}..{meta_ids[-1]}",
            "lost": "any earlier point with one of these ids (unknowable from the collection)",
            "by": "initialize_meta_roadmap_sync.py, which numbers its points 0, 1, 2...",
        })  # fmt: skip


def _is_meta_sync(task: LegacyTask) -> bool:
    return isinstance(task.legacy_id, int) and "legacy_phase" in task.metadata
