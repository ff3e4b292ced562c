"""Incremental, crash-safe sync of parsed plans into a collection.

The store is the only state: every point carries ``embed_hash`` and ``payload_hash``, point
ids are deterministic, and every write is an idempotent upsert or delete. A run diffs each
parsed plan against the points stored for it and writes exactly the difference:

* ``added``        new ids: embed (through the cache) and upsert;
* ``updated``      the embedded text (or the lexical recipe) changed: re-embed and upsert;
* ``payload_only`` only the payload changed (e.g. a status flip): rewrite it, no embedding;
* ``deleted``      ids no longer in their plan, and whole plans that disappeared.

Write order per plan: upserts first, deletes after, so a task that moves never leaves a gap.
Whatever point a crash leaves behind is either in its old or its new state (a point's vector
and hashes are written in one upsert), so the next run's diff sees exactly what is left to do
and converges to the state of a clean full run. Files that fail to parse keep their points.

Three stages overlap (``planvec.pipeline``): parsing runs in a producer thread, the caller's
thread diffs and embeds, and one writer thread builds the points (lexical vectors) and writes
them, in submission order. Embeddings are batched across plans; memory is bounded by the
batches in flight and the largest plan, not by the corpus.
"""

from __future__ import annotations

import functools
import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from planvec.embed.base import Embedder, Vectors, embed_keyed
from planvec.embedding_recipe import (
    embed_hash,
    embedding_text,
    finalize_payload,
    lexical_text,
    payload_hash,
    task_payload,
)
from planvec.pipeline import OrderedWorker, prefetch
from planvec.records import ParseWarning, Plan, SourceFailure, Task
from planvec.sources.base import Source
from planvec.store.base import (
    Filter,
    MatchAny,
    MatchValue,
    PointId,
    PointRecord,
    SparseVector,
    VectorStore,
)

log = logging.getLogger(__name__)

_STATE_FIELDS = ("embed_hash", "payload_hash", "lexical_hash")
#: fields that an edit higher up in a plan shifts; when nothing else changed, only they are
#: written (a merge), not the whole payload
_POSITION_FIELDS = ("line", "parent_line")
#: deletes gathered across plans before they are written (after the upserts before them)
_MAX_DELETES = 1024


class LexicalEncoderLike(Protocol):
    """What sync needs from a lexical encoder (see ``planvec.text.lexical``)."""

    version: str

    def encode_document(self, text: str, section: Sequence[str] = ()) -> SparseVector: ...


@dataclass(frozen=True)
class Change:
    """One planned change (listed by ``--dry-run``)."""

    action: str
    plan: str
    line: int | None
    id: str
    text: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "action": self.action,
            "plan": self.plan,
            "line": self.line,
            "id": self.id,
            "text": self.text,
        }


@dataclass
class SyncReport:
    """What a sync did (or, with ``dry_run``, would do)."""

    added: int = 0
    updated: int = 0
    payload_only: int = 0
    unchanged: int = 0
    deleted: int = 0
    failed: int = 0
    embedded: int = 0
    seconds: float = 0.0
    plans: int = 0
    tasks: int = 0
    plans_deleted: list[str] = field(default_factory=list)
    failures: list[SourceFailure] = field(default_factory=list)
    warnings: list[ParseWarning] = field(default_factory=list)
    changes: list[Change] = field(default_factory=list)
    dry_run: bool = False
    interrupted: bool = False

    @property
    def written(self) -> int:
        return self.added + self.updated + self.payload_only + self.deleted

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "added": self.added,
            "updated": self.updated,
            "payload_only": self.payload_only,
            "unchanged": self.unchanged,
            "deleted": self.deleted,
            "failed": self.failed,
            "embedded": self.embedded,
            "seconds": round(self.seconds, 3),
            "plans": self.plans,
            "tasks": self.tasks,
            "plans_deleted": self.plans_deleted,
            "dry_run": self.dry_run,
            "interrupted": self.interrupted,
            "failures": [{"path": f.path, "error": f.message} for f in self.failures],
            "warnings": [str(w) for w in self.warnings],
        }
        if self.dry_run:
            out["changes"] = [c.to_dict() for c in self.changes]
        return out


@dataclass(frozen=True)
class SyncProgress:
    """Progress so far, passed to the progress callback."""

    plans: int
    tasks: int
    embedded: int
    written: int


@dataclass
class _Pending:
    """Work planned for one plan."""

    to_embed: list[tuple[Task, dict[str, Any]]] = field(default_factory=list)
    payload_only: dict[str, dict[str, Any]] = field(default_factory=dict)
    moved: dict[str, dict[str, Any]] = field(default_factory=dict)
    delete_ids: list[str] = field(default_factory=list)


def _position_change(
    payload: dict[str, Any], old_hash: Any, old_position: list[Any]
) -> dict[str, Any] | None:
    """The position fields to merge when they are all that changed, else ``None``.

    Only fields whose value changed are merged, and never a ``None`` (Qdrant's merge drops
    null values instead of storing them): such a change takes the whole-payload path.
    """
    old = dict(zip(_POSITION_FIELDS, old_position, strict=True))
    probe = {**payload, **old}
    if payload_hash(probe) != old_hash:
        return None
    moved = {k: payload[k] for k in _POSITION_FIELDS if payload[k] != old[k]}
    if any(v is None for v in moved.values()):
        return None
    moved["payload_hash"] = payload["payload_hash"]
    return moved


class Syncer:
    """Applies the diff between plans and one collection. Built by ``Index.sync``."""

    def __init__(
        self,
        store: VectorStore,
        collection: str,
        embedder: Embedder,
        *,
        lexical: LexicalEncoderLike | None = None,
        batch_size: int = 256,
        progress: Callable[[SyncProgress], None] | None = None,
    ) -> None:
        self.store = store
        self.collection = collection
        self.embedder = embedder
        self.lexical = lexical
        self.batch_size = max(1, batch_size)
        self.progress = progress
        self._family = embedder.family
        #: points per plan after ``run`` (when it scrolled them anyway), else ``None``
        self.plan_counts: dict[str, int] | None = None
        self._lexical_version = lexical.version if lexical else None

    # -- planning ---------------------------------------------------------------------------

    def _stored_state(self, plan: str) -> dict[str, tuple[Any, ...]]:
        flt = Filter(must=(MatchValue("plan", plan),))
        fields = _STATE_FIELDS + _POSITION_FIELDS
        return {
            str(p.id): tuple(p.payload.get(k) for k in fields)
            for p in self.store.scroll(self.collection, filter=flt, with_payload=fields)
        }

    def diff_plan(self, plan: Plan, report: SyncReport) -> _Pending:
        """Compare one parsed plan with its stored points."""
        stored = self._stored_state(plan.path)
        pending = _Pending()
        seen: set[str] = set()
        for task in plan.tasks:
            if task.id in seen:
                report.warnings.append(
                    ParseWarning(plan.path, task.line, f"duplicate task id {task.id}; skipped")
                )
                continue
            seen.add(task.id)
            payload = task_payload(
                task, model_family=self._family, lexical_version=self._lexical_version
            )
            payload["payload_hash"] = payload_hash(payload)
            state = stored.get(task.id)
            if state is None:
                pending.to_embed.append((task, payload))
                report.added += 1
                self._note(report, "add", task)
                continue
            old_embed, old_payload, old_lexical, *old_position = state
            if old_embed != payload["embed_hash"] or old_lexical != payload["lexical_hash"]:
                pending.to_embed.append((task, payload))
                report.updated += 1
                self._note(report, "update", task)
            elif old_payload != payload["payload_hash"]:
                moved = _position_change(payload, old_payload, old_position)
                if moved is not None:
                    pending.moved[task.id] = moved
                else:
                    pending.payload_only[task.id] = payload
                report.payload_only += 1
                self._note(report, "payload", task)
            else:
                report.unchanged += 1
        for point_id in stored.keys() - seen:
            pending.delete_ids.append(point_id)
            report.deleted += 1
            if report.dry_run:
                report.changes.append(Change("delete", plan.path, None, point_id, ""))
        report.tasks += len(plan.tasks)
        return pending

    @staticmethod
    def _note(report: SyncReport, action: str, task: Task) -> None:
        if report.dry_run:
            report.changes.append(Change(action, task.plan, task.line, task.id, task.text))

    # -- applying ---------------------------------------------------------------------------

    def _embed(self, tasks: Sequence[Task]) -> tuple[Vectors, int]:
        items = [(embed_hash(t, self._family), embedding_text(t)) for t in tasks]
        return embed_keyed(self.embedder, items)

    def write(
        self,
        batch: list[tuple[Task, dict[str, Any]]],
        deletes: list[str],
        report: SyncReport | None = None,
        writer: OrderedWorker | None = None,
    ) -> None:
        """Embed (through the cache) and upsert ``batch``, then delete ``deletes``.

        The one place that builds points (vectors, sparse vectors, final payloads), used by
        sync and by ``planvec repair``, so both write identical points. Embeds on the
        caller's thread; with ``writer`` the points are built and written on that thread
        (in order), else right here. Clears both lists.
        """
        report = report if report is not None else SyncReport()
        todo, gone = list(batch), list(deletes)
        batch.clear()
        deletes.clear()
        vectors: Vectors | None = None
        if todo:
            vectors, computed = self._embed([task for task, _ in todo])
            report.embedded += computed
        if writer is None:
            self._store(todo, vectors, gone)
        elif todo or gone:
            writer.submit(lambda: self._store(todo, vectors, gone))

    def _store(
        self, batch: list[tuple[Task, dict[str, Any]]], vectors: Vectors | None, deletes: list[str]
    ) -> None:
        if batch:
            assert vectors is not None
            points = []
            for (task, payload), vector in zip(batch, vectors, strict=True):
                sparse = (
                    self.lexical.encode_document(lexical_text(task), task.section)
                    if self.lexical
                    else None
                )
                points.append(
                    PointRecord(
                        id=task.id,
                        vector=np.asarray(vector, dtype=np.float32).tolist(),
                        payload=finalize_payload(payload),
                        sparse=sparse,
                    )
                )
            self.store.upsert(self.collection, points)
        if deletes:
            self.store.delete(self.collection, ids=deletes)

    def run(
        self, source: Source, *, dry_run: bool = False, delete_missing: bool = True
    ) -> SyncReport:
        """Sync every plan of ``source`` into the collection; see the module docstring."""
        started = time.perf_counter()
        report = SyncReport(dry_run=dry_run)
        seen_plans: set[str] = set()
        failed_plans: set[str] = set()
        batch: list[tuple[Task, dict[str, Any]]] = []
        deletes: list[str] = []
        stop = threading.Event()
        writer = None if dry_run else OrderedWorker("planvec-write")
        try:
            for item in prefetch(source.iter_plans(), stop):
                if isinstance(item, SourceFailure):
                    report.failed += 1
                    report.failures.append(item)
                    failed_plans.add(item.path)
                    continue
                report.plans += 1
                report.warnings.extend(item.warnings)
                seen_plans.add(item.path)
                pending = self.diff_plan(item, report)
                if writer is None:
                    continue
                self._submit_payloads(writer, pending.payload_only, merge=False)
                self._submit_payloads(writer, pending.moved, merge=True)
                batch.extend(pending.to_embed)
                deletes.extend(pending.delete_ids)
                while len(batch) >= self.batch_size:
                    head = batch[: self.batch_size]
                    del batch[: self.batch_size]
                    self.write(head, [], report, writer)
                if len(deletes) >= _MAX_DELETES:  # after the upserts of their plans
                    self.write(batch, deletes, report, writer)
                self._tick(report)
            if writer is not None:
                self.write(batch, deletes, report, writer)
                writer.drain()
                writer = None
            if delete_missing:
                self._delete_vanished_plans(seen_plans | failed_plans, report)
        except KeyboardInterrupt:
            report.interrupted = True
            raise
        finally:
            stop.set()
            if writer is not None:
                writer.cancel()
            report.seconds = time.perf_counter() - started
        return report

    def _submit_payloads(
        self, writer: OrderedWorker, payloads: dict[str, dict[str, Any]], *, merge: bool
    ) -> None:
        """Queue one ``set_payload`` for ``payloads`` (whole payloads, or merged fields)."""
        if not payloads:
            return
        final: dict[PointId, dict[str, Any]] = {k: finalize_payload(v) for k, v in payloads.items()}
        writer.submit(
            functools.partial(self.store.set_payload, self.collection, final, merge=merge)
        )

    def _delete_vanished_plans(self, keep: set[str], report: SyncReport) -> None:
        all_counts: dict[str, int] = {}
        for point in self.store.scroll(self.collection, with_payload=("plan",)):
            plan = point.payload.get("plan")
            if isinstance(plan, str):
                all_counts[plan] = all_counts.get(plan, 0) + 1
        counts = {p: n for p, n in all_counts.items() if p not in keep}
        if not report.dry_run:  # what the collection holds once the vanished plans are gone
            self.plan_counts = {p: n for p, n in sorted(all_counts.items()) if p in keep}
        if not counts:
            return
        report.plans_deleted = sorted(counts)
        report.deleted += sum(counts.values())
        if report.dry_run:
            for plan in report.plans_deleted:
                report.changes.append(Change("delete-plan", plan, None, "", ""))
            return
        for start in range(0, len(report.plans_deleted), 64):
            names = tuple(report.plans_deleted[start : start + 64])
            self.store.delete(self.collection, filter=Filter(must=(MatchAny("plan", names),)))

    def _tick(self, report: SyncReport) -> None:
        if self.progress is not None:
            self.progress(SyncProgress(report.plans, report.tasks, report.embedded, report.written))
