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

A source that offers ``iter_plans_since`` (the Markdown files) skips the files whose recorded
fingerprint still matches (``planvec.fingerprints``): they are counted as unchanged, neither
parsed nor diffed, and the run then trusts the manifest's points per plan instead of
scrolling the collection.

Three stages overlap (``planvec.pipeline``): parsing, diffing and rendering the embedded
texts run in a producer thread; the caller's thread looks vectors up in the cache and runs
the model on the misses; one writer thread stores the new vectors in the cache, builds the
points (lexical vectors) and writes them, in submission order. The model's thread does little
else, so it is rarely kept waiting. Embeddings are batched across plans; memory is bounded by
the batches in flight and the largest plan, not by the corpus. When the parse thread has
nothing ready and at least ``EARLY_BATCH`` texts wait (a small edit spread over big files),
the model embeds them at once instead of after the last file; in an incremental run it does
so on one core (``embed_aside``), leaving the other to the parse thread.

The diff of a changed file compares it with its recorded task states
(``planvec.task_states``) when its trusted fingerprint vouches for them, so it neither reads
the file's points back from the store nor builds the payloads of its unchanged tasks.
"""

from __future__ import annotations

import functools
import inspect
import logging
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from planvec.embed.base import Embedder, StagedEmbedder, Vectors, embed_keyed
from planvec.embedding_recipe import (
    blank_task_warnings,
    embed_hash,
    embedding_text,
    finalize_payload,
    indexable_tasks,
    lexical_text,
    payload_hash,
    task_payload,
)
from planvec.errors import ConfigError
from planvec.fingerprints import FileFingerprint, FingerprintBook, Fingerprinted, UnchangedFile
from planvec.guard import DeleteGuard
from planvec.pipeline import OrderedWorker, Prefetched, prefetch
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
from planvec.sync_report import ADDED_IDS_LIMIT, Change, SyncProgress, SyncReport
from planvec.task_states import Recorded, State, TaskStates, task_signature

__all__ = ["Change", "SyncProgress", "SyncReport", "Syncer", "dry_run_new"]

log = logging.getLogger(__name__)

_STATE_FIELDS = ("embed_hash", "payload_hash", "lexical_hash")
#: fields that an edit higher up in a plan shifts; when nothing else changed, only they are
#: written (a merge), not the whole payload
_POSITION_FIELDS = ("line", "parent_line")
#: what the diff compares per point, in the order of a task's state (``task_states.State``)
_DIFF_FIELDS = _STATE_FIELDS + _POSITION_FIELDS
#: ids per delete call
_DELETE_BATCH = 1024
#: recorded states of a plan checked against the store before the diff relies on them
_SPOT_CHECKS = 8
#: texts pending after which the model embeds them at once when the parse thread has nothing
#: ready (a small edit then embeds while the other changed files parse, not after them all;
#: a full run, where parsing stays ahead of the model, keeps its ``batch_size`` batches)
EARLY_BATCH = 32
#: tasks to write that the parse thread may hold ready ahead of the model (plus one per
#: file): plans with little to do, and unchanged files, queue up while the model embeds
_PREFETCH_TASKS = 4096


class LexicalEncoderLike(Protocol):
    """What sync needs from a lexical encoder (see ``planvec.text.lexical``)."""

    version: str

    def encode_document(self, text: str, section: Sequence[str] = ()) -> SparseVector: ...


@dataclass
class _Pending:
    """Work planned for one plan."""

    to_embed: list[tuple[Task, dict[str, Any]]] = field(default_factory=list)
    payload_only: dict[str, dict[str, Any]] = field(default_factory=dict)
    moved: dict[str, dict[str, Any]] = field(default_factory=dict)
    delete_ids: list[str] = field(default_factory=list)
    #: embedded text per ``embed_hash`` of ``to_embed``, rendered ahead on the parse thread
    texts: dict[str, str] = field(default_factory=dict)
    #: (id, signature, state) of every point the plan builds (``planvec.task_states``)
    states: list[tuple[str, bytes, State]] = field(default_factory=list)


@dataclass
class _Diffed:
    """A plan diffed on the parse thread: its pending work and its own report (not the
    plan's tasks: what waits in the parse queue is bounded by the work it carries)."""

    path: str
    warnings: list[ParseWarning]
    tasks: int
    fingerprint: FileFingerprint | None
    pending: _Pending
    report: SyncReport

    def weight(self) -> int:
        """Tasks this item carries to the writer (``_PREFETCH_TASKS`` bounds their sum)."""
        pending = self.pending
        return 1 + len(pending.to_embed) + len(pending.payload_only) + len(pending.moved)


def _state_of(payload: Mapping[str, Any]) -> State:
    """The values of ``_DIFF_FIELDS`` in a point's payload (a stored or a new one)."""
    return tuple(payload.get(k) for k in _DIFF_FIELDS)


def _weight(item: Any) -> int:
    """What one parse-queue item holds (``_Diffed.weight``; 1 for the others)."""
    return item.weight() if isinstance(item, _Diffed) else 1


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
        guard: DeleteGuard | None = None,
        known_files: Mapping[str, FileFingerprint] | None = None,
        known_counts: Mapping[str, int] | None = None,
        before_embed: Callable[[bool], None] | None = None,
        model_ready: Callable[[], bool] | None = None,
        task_states: TaskStates | None = None,
        states_key: str = "",
    ) -> None:
        self.store = store
        #: each file's recorded tasks (``planvec.task_states``), under ``states_key``
        self.task_states = task_states if states_key else None
        self._states_key = states_key
        #: called when a plan's diff finds tasks to embed (``Index.sync`` loads the model),
        #: with whether this run embeds aside (what to load)
        self.before_embed = before_embed
        #: whether embedding now would not wait for the model to load (``Index.sync``'s
        #: warm-up); ``None``: always
        self.model_ready = model_ready
        self.guard = guard if guard is not None else DeleteGuard(allow=True)
        self.collection = collection
        self.embedder = embedder
        self.lexical = lexical
        if batch_size < 1:
            raise ConfigError(f"batch size must be at least 1, not {batch_size}")
        self.batch_size = batch_size
        self.progress = progress
        self._family = embedder.family
        #: points per plan after ``run`` (when it scrolled them anyway, or could trust the
        #: recorded ones), else ``None``
        self.plan_counts: dict[str, int] | None = None
        #: the fingerprints to record after ``run`` (``planvec.fingerprints``)
        self.recorded_files: dict[str, FileFingerprint] = {}
        self._lexical_version = lexical.version if lexical else None
        #: fingerprints trusted for this run (``planvec.fingerprints``) and the points per
        #: plan recorded with them; a source with ``iter_plans_since`` then skips the files
        #: that did not change, and the run trusts these counts instead of scrolling
        self.files = FingerprintBook(known_files or {})
        self._known_counts = dict(known_counts or {}) if known_files else None
        #: an incremental run (trusted fingerprints: few files to parse, few tasks to
        #: embed) embeds its small batches on one core, beside the parse thread
        self._aside = bool(known_files)
        #: the parse thread begun by ``start``: (its start time, its stop event, its diffs)
        self._started: tuple[float, threading.Event, Prefetched[Any]] | None = None
        self._counts: dict[str, int] = {}
        self._started_empty = False

    # -- planning ---------------------------------------------------------------------------

    def _stored_state(self, plan: str) -> dict[str, tuple[Any, ...]]:
        flt = Filter(must=(MatchValue("plan", plan),))
        found = self.store.scroll(self.collection, filter=flt, with_payload=_DIFF_FIELDS)
        return {str(p.id): _state_of(p.payload) for p in found}

    def _memo_option(self, since: Callable[..., Any]) -> dict[str, Any]:
        """``memo_for`` for a source whose ``iter_plans_since`` takes it (the Markdown files)."""
        if self.task_states is None:
            return {}
        try:
            takes = "memo_for" in inspect.signature(since).parameters
        except (TypeError, ValueError):
            takes = False
        return {"memo_for": self._memo_for} if takes else {}

    def _memo_for(self, plan: str) -> Any:
        """What earlier parses of ``plan`` derived from task sources (``SourceMemo``)."""
        from planvec.sources.markdown_plans import SourceMemo

        states = self.task_states
        return SourceMemo(states.texts(self._states_key, plan) if states is not None else None)

    def _recorded(self, plan: str) -> Recorded | None:
        """The plan's points as recorded beside the index, when the trusted fingerprint of
        the file vouches for them (``planvec.task_states``); else ``None``."""
        known = self.files.known.get(plan)
        if self.task_states is None or known is None or self._known_counts is None:
            return None
        points = self._known_counts.get(plan, 0)
        recorded = self.task_states.get(self._states_key, plan, known.sha256, points)
        if recorded is None or not self._agrees_with_store(recorded):
            return None
        return recorded

    def _agrees_with_store(self, recorded: Recorded) -> bool:
        """Whether a few recorded states (spread over the plan) are those stored: a cheap
        check (one point lookup) against a sidecar that disagrees with the store anyway."""
        ids = list(recorded)
        sample = ids[:: max(1, len(ids) // _SPOT_CHECKS)][:_SPOT_CHECKS]
        if not sample:
            return True
        found = self.store.retrieve(self.collection, sample, payload_fields=_DIFF_FIELDS)
        stored = {str(p.id): _state_of(p.payload) for p in found}
        if all(stored.get(i) == recorded[i][1] for i in sample):
            return True
        log.warning("recorded task states disagree with the store: diffing from the store")
        return False

    def diff_plan(self, plan: Plan, report: SyncReport) -> _Pending:
        """Compare one parsed plan with its stored points.

        The stored points are those recorded beside the index when the file's fingerprint
        vouches for them (a task whose signature did not change is then unchanged, with no
        payload built), else read from the store.
        """
        recorded = self._recorded(plan.path)
        if recorded is None:
            stored = {k: (b"", v) for k, v in self._stored_state(plan.path).items()}
        else:
            stored = recorded
        signed = self.task_states is not None
        pending = _Pending()
        seen: set[str] = set()
        report.warnings.extend(blank_task_warnings(plan))
        tasks = indexable_tasks(plan)
        for task in tasks:
            if task.id in seen:
                report.warnings.append(
                    ParseWarning(plan.path, task.line, f"duplicate task id {task.id}; skipped")
                )
                continue
            seen.add(task.id)
            signature = task_signature(task) if signed else b""
            old = stored.get(task.id)
            if old is not None and signature and old[0] == signature:
                pending.states.append((task.id, signature, old[1]))
                report.unchanged += 1
                continue
            payload = task_payload(
                task, model_family=self._family, lexical_version=self._lexical_version
            )
            payload["payload_hash"] = payload_hash(payload)
            if signed:
                pending.states.append((task.id, signature, _state_of(payload)))
            if old is None:
                pending.to_embed.append((task, payload))
                report.added += 1
                self._note(report, "add", task)
                continue
            old_embed, old_payload, old_lexical, *old_position = old[1]
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
        report.tasks += len(tasks)
        return pending

    @staticmethod
    def _note(report: SyncReport, action: str, task: Task) -> None:
        if action == "add" and len(report.added_ids) < ADDED_IDS_LIMIT:
            report.added_ids.append(task.id)
        if report.dry_run:
            report.changes.append(Change(action, task.plan, task.line, task.id, task.text))

    # -- applying ---------------------------------------------------------------------------

    def _embed(
        self, batch: Sequence[tuple[Task, dict[str, Any]]], texts: dict[str, str], aside: bool
    ) -> tuple[Vectors, int, Callable[[], None] | None]:
        """Vectors of ``batch`` (through the cache), how many were computed, and the cache
        write still to do (``None`` when nothing is left to write).

        Only the texts missing from the cache are rendered (``embedding_text``) and given to
        the model; the keys are the ``embed_hash`` the diff already put in each payload.
        """
        keys = [
            payload.get("embed_hash") or embed_hash(task, self._family) for task, payload in batch
        ]
        rendered = {key: texts.pop(key) for key in keys if key in texts}

        def text_of(key: str, task: Task) -> str:
            return rendered.get(key) or embedding_text(task)

        embedder = self.embedder
        if not isinstance(embedder, StagedEmbedder):
            items = [(key, text_of(key, task)) for key, (task, _) in zip(keys, batch, strict=True)]
            vectors, computed = embed_keyed(embedder, items)
            return vectors, computed, None
        known = embedder.lookup(list(dict.fromkeys(keys)))
        missing: dict[str, str] = {}
        for key, (task, _) in zip(keys, batch, strict=True):
            if key not in known and key not in missing:
                missing[key] = text_of(key, task)
        remember: Callable[[], None] | None = None
        if missing:
            fresh = embedder.compute(list(missing.items()), aside=aside)
            known.update(zip(missing, fresh, strict=True))
            remember = functools.partial(embedder.remember, list(missing), fresh)
        vectors = np.empty((len(keys), embedder.dimension), dtype=np.float32)
        for row, key in enumerate(keys):
            vectors[row] = known[key]
        return vectors, len(missing), remember

    def write(
        self,
        batch: list[tuple[Task, dict[str, Any]]],
        deletes: list[str],
        report: SyncReport | None = None,
        writer: OrderedWorker | None = None,
        texts: dict[str, str] | None = None,
        aside: bool = False,
    ) -> None:
        """Embed (through the cache) and upsert ``batch``, then delete ``deletes``.

        The one place that builds points (vectors, sparse vectors, final payloads), used by
        sync and by ``planvec repair``, so both write identical points. Embeds on the
        caller's thread; with ``writer`` the cache write, the points (lexical vectors) and
        the store write run on that thread (in order), else right here. Clears both lists.
        ``texts`` holds embedded texts already rendered (by ``embed_hash``); the ones used
        are taken out of it. ``aside``: the model runs on one core (``embed_aside``).
        """
        report = report if report is not None else SyncReport()
        todo, gone = list(batch), list(deletes)
        batch.clear()
        deletes.clear()
        vectors: Vectors | None = None
        remember: Callable[[], None] | None = None
        if todo:
            rendered = texts if texts is not None else {}
            vectors, computed, remember = self._embed(todo, rendered, aside)
            report.embedded += computed
        if writer is None:
            self._store(todo, vectors, gone, remember)
        elif todo or gone:
            writer.submit(lambda: self._store(todo, vectors, gone, remember))

    def _store(
        self,
        batch: list[tuple[Task, dict[str, Any]]],
        vectors: Vectors | None,
        deletes: list[str],
        remember: Callable[[], None] | None = None,
    ) -> None:
        """Write the cache, then the points of ``batch``, then the deletes."""
        if remember is not None:
            remember()
        if batch:
            assert vectors is not None
            lexical = self.lexical
            points = [
                PointRecord(
                    id=task.id,
                    vector=vector,
                    payload=finalize_payload(payload),
                    sparse=(
                        lexical.encode_document(lexical_text(task), task.section)
                        if lexical
                        else None
                    ),
                )
                # one C call converts the whole batch to Python floats
                for (task, payload), vector in zip(batch, vectors.tolist(), strict=True)
            ]
            self.store.upsert(self.collection, points)
        if deletes:
            self.store.delete(self.collection, ids=deletes)

    def start(self, source: Source, *, dry_run: bool = False) -> None:
        """Begin parsing and diffing ``source`` on the parse thread, ahead of ``run``.

        ``Index.sync`` calls it before it loads the collection's shard, so the first changed
        files parse while the store loads (a diff that needs the store waits for it). ``run``
        then consumes what was started (give it the same ``source`` and ``dry_run``);
        ``stop`` ends it when ``run`` will not be called. The parse thread writes nothing
        but the recorded task states (``planvec.task_states``, a cache keyed by content).
        """
        if self._started is None:
            self._started = (time.perf_counter(), *self._begin(source, dry_run))

    def stop(self) -> None:
        """End a parse thread begun by ``start`` that ``run`` will not consume."""
        if self._started is not None:
            diffs = self._started[2]
            self._started = None
            diffs.close()

    def _begin(self, source: Source, dry_run: bool) -> tuple[threading.Event, Prefetched[Any]]:
        stop = threading.Event()
        since = getattr(source, "iter_plans_since", None)
        if since is not None:
            items = since(self.files.known, **self._memo_option(since))
        else:
            items = source.iter_plans()
        diffs = prefetch(self._diffed(items, dry_run), stop, weight=_weight, budget=_PREFETCH_TASKS)
        return stop, diffs

    def run(
        self, source: Source, *, dry_run: bool = False, delete_missing: bool = True
    ) -> SyncReport:
        """Sync every plan of ``source`` into the collection; see the module docstring.

        Deletions are gathered over the whole run and written last, after every upsert,
        once the deletion guard (``planvec.guard``) has let them through.
        """
        if self._started is not None:
            started, stop, diffs = self._started
            self._started = None
        else:
            started = time.perf_counter()
            stop, diffs = self._begin(source, dry_run)
        report = SyncReport(dry_run=dry_run, guard=self.guard)
        seen_plans: set[str] = set()
        batch: list[tuple[Task, dict[str, Any]]] = []
        deletes: list[str] = []
        writer = None
        texts: dict[str, str] = {}
        full_batches = 0
        try:
            initial = self.store.count(self.collection)
            self.guard.start(initial)
            self._started_empty = initial == 0
            writer = None if dry_run else OrderedWorker("planvec-write")
            for diffed in diffs:
                if isinstance(diffed, UnchangedFile):
                    self._skip_unchanged(diffed, report)
                    seen_plans.add(diffed.path)
                    continue
                if isinstance(diffed, SourceFailure):
                    report.failed += 1
                    report.failures.append(diffed)
                    seen_plans.add(diffed.path)  # an unreadable file keeps its tasks
                    continue
                report.plans += 1
                report.warnings.extend(diffed.warnings)
                seen_plans.add(diffed.path)
                pending = self._settle(diffed, report)
                if pending is not None:
                    self.files.record(
                        diffed.path, diffed.fingerprint, deletes=bool(pending.delete_ids)
                    )
                if writer is None or pending is None:
                    continue
                if pending.to_embed and self.before_embed is not None:
                    self.before_embed(self._aside)
                self._submit_payloads(writer, pending.payload_only, merge=False)
                self._submit_payloads(writer, pending.moved, merge=True)
                batch.extend(pending.to_embed)
                texts.update(pending.texts)
                deletes.extend(pending.delete_ids)
                while len(batch) >= self.batch_size:
                    head = batch[: self.batch_size]
                    del batch[: self.batch_size]
                    self.write(head, [], report, writer, texts)
                    full_batches += 1
                if len(batch) >= EARLY_BATCH and diffs.starved() and self._model_ready():
                    self.write(batch, [], report, writer, texts, aside=self._aside)
                self._tick(report)
            if writer is not None:
                aside = self._aside and not full_batches  # else the main session is loaded
                self.write(batch, [], report, writer, texts, aside=aside)
                writer.drain()
                writer = None
            keep = seen_plans if delete_missing else None
            self._finish_deletes(deletes, keep, report, getattr(source, "in_scope", None))
            self._finish_files(seen_plans, report, getattr(source, "in_scope", None))
            if self.task_states is not None and not dry_run:
                self.task_states.commit(keep=self.recorded_files)
        except KeyboardInterrupt:
            report.interrupted = True
            raise
        finally:
            stop.set()
            if writer is not None:
                writer.cancel()
            report.seconds = time.perf_counter() - started
        return report

    def _model_ready(self) -> bool:
        return self.model_ready is None or self.model_ready()

    def _diffed(
        self, items: Iterator[Any], dry_run: bool
    ) -> Iterator[UnchangedFile | SourceFailure | _Diffed]:
        """Parse (``items``) and diff each plan, rendering the texts it will embed.

        Runs on the parse thread (``prefetch``), ahead of the embedder: reading the stored
        state, building payloads and hashes and rendering texts are pure Python that would
        otherwise keep the model waiting. Each plan gets its own report; the caller's thread
        settles it (deletion guard, totals) in order.
        """
        for raw_item in items:
            if isinstance(raw_item, UnchangedFile | SourceFailure):
                yield raw_item
                continue
            item, fingerprint, memo = raw_item, None, None
            if isinstance(raw_item, Fingerprinted):
                item, fingerprint, memo = raw_item.item, raw_item.fingerprint, raw_item.memo
            if isinstance(item, SourceFailure):
                yield item
                continue
            local = SyncReport(dry_run=dry_run)
            pending = self.diff_plan(item, local)
            if self.task_states is not None and fingerprint is not None and not dry_run:
                texts = getattr(memo, "used", None)
                self.task_states.put(
                    self._states_key, item.path, fingerprint.sha256, pending.states, texts
                )
            pending.states = []
            if not dry_run:
                for task, payload in pending.to_embed:
                    key = payload["embed_hash"]
                    if key not in pending.texts:
                        pending.texts[key] = embedding_text(task)
            yield _Diffed(item.path, item.warnings, len(item.tasks), fingerprint, pending, local)

    def _settle(self, diffed: _Diffed, report: SyncReport) -> _Pending | None:
        """Count one diffed plan; ``None`` when the guard holds it (it keeps its points)."""
        path, pending, local = diffed.path, diffed.pending, diffed.report
        stored = local.unchanged + local.updated + local.payload_only + local.deleted
        parsed = diffed.tasks
        if self.guard.hold_plan(path, stored, parsed, len(pending.delete_ids)):
            report.tasks += parsed
            self._counts[path] = stored
            return None
        report.merge(local)
        self._counts[path] = local.added + local.updated + local.payload_only + local.unchanged
        return pending

    def _skip_unchanged(self, item: UnchangedFile, report: SyncReport) -> None:
        """A file whose bytes are those recorded: count its points as unchanged."""
        count = (self._known_counts or {}).get(item.path, 0)
        report.plans += 1
        report.tasks += count
        report.unchanged += count
        self._counts[item.path] = count
        self.files.record(item.path, item.fingerprint)

    def _finish_files(
        self, seen: set[str], report: SyncReport, in_scope: Callable[[str], bool] | None
    ) -> None:
        """Settle the fingerprints to record and, when trusted, the points per plan."""
        if self.guard.refused:
            self.files.deletions_refused()
        self.recorded_files = self.files.entries(seen, in_scope)
        if self._known_counts is None or self.plan_counts is not None or self.guard.tripped:
            return  # the counts come from the store (scrolled in _vanished_plans or later)
        counts = {p: n for p, n in self._known_counts.items() if p not in report.plans_deleted}
        counts.update(self._counts)
        self.plan_counts = dict(sorted((p, n) for p, n in counts.items() if n))

    def _finish_deletes(
        self,
        deletes: list[str],
        keep: set[str] | None,
        report: SyncReport,
        in_scope: Callable[[str], bool] | None,
    ) -> None:
        """Delete the gathered ids and the vanished plans (those in scope, not in ``keep``),
        if the guard agrees."""
        vanished: dict[str, int] = {}
        if keep is not None and self._known_counts is not None:
            vanished = {p: n for p, n in self._known_counts.items() if p not in keep}
        elif keep is not None and self._started_empty:
            # a first index: nothing can have vanished, and this run's counts are the store's
            # (no scroll of every point, which at 1M points is most of a minute)
            if not report.dry_run:
                self.plan_counts = dict(sorted((p, n) for p, n in self._counts.items() if n))
        elif keep is not None:
            vanished = self._vanished_plans(keep, report.dry_run)
        if in_scope is not None:
            vanished = {p: n for p, n in vanished.items() if in_scope(p)}
        report.plans_deleted = sorted(vanished)
        report.deleted += sum(vanished.values())
        if report.dry_run:
            report.changes.extend(
                Change("delete-plan", p, None, "", "") for p in report.plans_deleted
            )
        if not self.guard.check_run(report.deleted) or report.dry_run:
            return
        for start in range(0, len(deletes), _DELETE_BATCH):
            self.store.delete(self.collection, ids=deletes[start : start + _DELETE_BATCH])
        for start in range(0, len(report.plans_deleted), 64):
            names = tuple(report.plans_deleted[start : start + 64])
            self.store.delete(self.collection, filter=Filter(must=(MatchAny("plan", names),)))
        if self.plan_counts is not None:
            self.plan_counts = {p: n for p, n in self.plan_counts.items() if p not in vanished}

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

    def _vanished_plans(self, keep: set[str], dry_run: bool) -> dict[str, int]:
        """Points per stored plan that is not in ``keep`` (and the plan counts, as a bonus)."""
        all_counts: dict[str, int] = {}
        for point in self.store.scroll(self.collection, with_payload=("plan",)):
            plan = point.payload.get("plan")
            if isinstance(plan, str):
                all_counts[plan] = all_counts.get(plan, 0) + 1
        if not dry_run:
            self.plan_counts = dict(sorted(all_counts.items()))
        return {p: n for p, n in all_counts.items() if p not in keep}

    def _tick(self, report: SyncReport) -> None:
        if self.progress is not None:
            self.progress(SyncProgress(report.plans, report.tasks, report.embedded, report.written))


def dry_run_new(source: Source) -> SyncReport:
    """The dry run of a first index: every task is an addition."""
    report = SyncReport(dry_run=True)
    for item in source.iter_plans():
        if isinstance(item, Plan):
            tasks = len(indexable_tasks(item))
            report.plans += 1
            report.tasks += tasks
            report.added += tasks
            report.warnings.extend((*item.warnings, *blank_task_warnings(item)))
        else:
            report.failed += 1
            report.failures.append(item)
    return report
