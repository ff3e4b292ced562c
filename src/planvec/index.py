"""The ``Index`` facade: one collection, one embedder, one store, wired together.

``open_index(settings)`` (``planvec.wiring``, re-exported here) builds one from settings;
``Index(store=..., embedder=...)`` takes injected parts, so tests use the hashing embedder and
an in-memory store. The index keeps a manifest (see ``planvec.manifest``) and refuses to mix
models.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Protocol

from planvec import hnsw
from planvec.embed.base import Embedder
from planvec.embedding_recipe import (
    BOOL_FIELDS,
    EMBED_RECIPE,
    INTEGER_FIELDS,
    KEYWORD_FIELDS,
    TEXT_FIELDS,
    query_embedding_text,
)
from planvec.errors import (
    REBUILD_HINT,
    CollectionNotFound,
    ConfigError,
    DeleteRefused,
    IndexDamaged,
    StoreError,
    StoreTimeout,
    StoreUnavailable,
)
from planvec.fingerprints import MANIFEST_KEY as FINGERPRINTS
from planvec.fingerprints import (
    FileFingerprint,
    fingerprint_key,
    fingerprint_record,
    trusted_fingerprints,
)
from planvec.guard import DeleteGuard
from planvec.index_points import IndexPoints
from planvec.lock import WriteLock
from planvec.manifest import (
    SYNC_MARKER,
    Manifest,
    check_compatible,
    new_manifest,
    sync_recorded,
    sync_started,
    upgrade_manifest,
)
from planvec.records import SearchHit
from planvec.roots import RootedPlanSource, rooted_source
from planvec.search import LexicalQueryEncoder, Searcher, SearchFilters, fusion_weights
from planvec.sources.base import Source
from planvec.store.base import CollectionInfo, CollectionSpec, StoreHealth, VectorStore
from planvec.store.probe import sample_points
from planvec.sync import LexicalEncoderLike, Syncer, SyncProgress, SyncReport, dry_run_new
from planvec.task_states import TaskStates
from planvec.warmup import WarmUp
from planvec.wiring import count_plans, open_index, sources_for

log = logging.getLogger(__name__)


class LexicalEncoder(LexicalEncoderLike, LexicalQueryEncoder, Protocol):
    """A lexical encoder for both documents (sync) and queries (search)."""


class Index:
    """A searchable, always-in-sync index of plan tasks in one collection."""

    def __init__(
        self,
        store: VectorStore,
        embedder: Embedder,
        *,
        collection: str = "planvec_tasks",
        lexical: LexicalEncoder | None = None,
        location: str = "",
        lock: WriteLock | None = None,
        logical: str | None = None,
        task_states: TaskStates | None = None,
    ) -> None:
        self._store = store  # private: operations use the methods below and ``points``
        #: each plan file's recorded tasks, so a re-run's diff skips store reads
        #: (``planvec.task_states``); ``None``: diffs read the store
        self._task_states = task_states
        self.embedder = embedder
        self.collection = collection
        # the name users know, when ``collection`` was resolved from an alias: lets a
        # long-lived reader follow (or outlive) a ``migrate-model`` switch
        self.logical = logical
        self.lexical = lexical
        self.location = location or f"{store.backend} collection {collection!r}"
        self._lock = lock
        self._manifest: Manifest | None = None

    # -- lifecycle ---------------------------------------------------------------------------

    def close(self) -> None:
        """Flush and release the store and the write lock."""
        try:
            if self._task_states is not None:
                self._task_states.close()
            self._store.close()
        finally:
            if self._lock is not None:
                self._lock.release()
                self._lock = None

    def __enter__(self) -> Index:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- manifest ----------------------------------------------------------------------------

    def spec(self) -> CollectionSpec:
        return CollectionSpec(
            dimension=self.embedder.dimension,
            distance="cosine",
            sparse=True,
            keyword_fields=KEYWORD_FIELDS,
            integer_fields=INTEGER_FIELDS,
            bool_fields=BOOL_FIELDS,
            text_fields=TEXT_FIELDS,
        )

    def exists(self) -> bool:
        return self._store.collection_info(self.collection) is not None

    @property
    def manifest(self) -> Manifest | None:
        if self._manifest is None:
            self._manifest = self._store.read_manifest(self.collection)
        return self._manifest

    def check_manifest(self) -> Manifest:
        """The manifest, upgraded and checked against the embedder; raises if incompatible."""
        manifest = self.manifest
        if manifest is None:
            if self.exists() and self._store.count(self.collection) > 0:
                raise IndexDamaged(
                    f"{self.location} holds points but its planvec manifest is missing; "
                    f"{REBUILD_HINT}"
                )
            raise CollectionNotFound(
                f"no planvec index in {self.location}: run `planvec index PATH` first"
            )
        manifest, applied = upgrade_manifest(manifest)
        if applied:
            log.info("manifest migrated: %s", ", ".join(applied))
        check_compatible(
            manifest,
            model=self.embedder.family,
            dimension=self.embedder.dimension,
            distance="cosine",
            where=self.location,
        )
        return manifest

    def ensure(self) -> Manifest:
        """Create the collection and its manifest if missing; check them otherwise."""
        if self.manifest is None:
            if self.exists() and self._store.count(self.collection) > 0:
                raise ConfigError(
                    f"{self.location} holds points but no planvec manifest. If planvec built "
                    f"it and the manifest was lost, {REBUILD_HINT}; if another tool wrote it, "
                    "use another --collection, or `planvec migrate-legacy`."
                )
            self._store.ensure_collection(self.collection, self.spec())
            manifest = new_manifest(
                model=self.embedder.family,
                model_id=self.embedder.model_id,
                dimension=self.embedder.dimension,
                distance="cosine",
                lexical=self.lexical.version if self.lexical else None,
            )
            self._store.write_manifest(self.collection, manifest)
            self._manifest = manifest
            return manifest
        manifest = self.check_manifest()
        self._store.ensure_collection(self.collection, self.spec())
        return manifest

    # -- operations --------------------------------------------------------------------------

    def sync(
        self,
        source: Source,
        *,
        dry_run: bool = False,
        delete_missing: bool = True,
        batch_size: int = 256,
        progress: Callable[[SyncProgress], None] | None = None,
        guard: DeleteGuard | None = None,
    ) -> SyncReport:
        """Make the collection hold exactly the tasks of ``source`` (see ``planvec.sync``).

        The model loads on another thread once a task to embed is found (``planvec.warmup``).

        Raises:
            DeleteRefused: the deletion guard held deletions back (``planvec.guard``); the
                rest was written and the report is ``exc.report``.
        """
        warm = WarmUp(self.embedder)
        try:
            return self._sync(
                source,
                dry_run=dry_run,
                delete_missing=delete_missing,
                batch_size=batch_size,
                progress=progress,
                guard=guard,
                warm=warm,
            )
        finally:
            warm.wait()

    def _sync(
        self,
        source: Source,
        *,
        dry_run: bool,
        delete_missing: bool,
        batch_size: int,
        progress: Callable[[SyncProgress], None] | None,
        guard: DeleteGuard | None,
        warm: WarmUp,
    ) -> SyncReport:
        if dry_run and self.manifest is None:
            return dry_run_new(source)
        # Loading the shard takes ~0.15 s (native code, outside the GIL): when its point
        # count is known without it (``closed_count``), the parse thread starts first and
        # the shard loads meanwhile (``Syncer.start``).
        closed = None if dry_run or self.manifest is None else self._closed_count()
        manifest = self.check_manifest() if closed is not None or dry_run else self.ensure()
        guard = guard if guard is not None else DeleteGuard()
        interrupted = isinstance(manifest.get(SYNC_MARKER), dict)
        known = trusted_fingerprints(
            manifest,
            key=self._fingerprint_key(),
            points=closed if closed is not None else self._store.count(self.collection),
            interrupted=interrupted,
        )
        counts = manifest.get("plans")
        if not isinstance(counts, dict):
            known, counts = {}, None  # skipped plans need their recorded point counts
        syncer = Syncer(
            self._store,
            self.collection,
            self.embedder,
            lexical=self.lexical,
            batch_size=batch_size,
            progress=progress,
            guard=guard,
            known_files=known,
            known_counts=counts,
            before_embed=None if dry_run else warm.start,
            model_ready=warm.ready,
            task_states=self._task_states,
            states_key=self._fingerprint_key(),
        )
        if closed is not None:
            syncer.start(source)
        try:
            if closed is not None:
                self._store.ensure_collection(self.collection, self.spec())  # the rest of ensure
            sample_points(self._store, self.collection)  # damaged files: fail before writing
            if interrupted:
                log.warning(
                    "the last sync of %s was interrupted: this run completes it", self.location
                )
            if not dry_run:
                manifest = self._mark_sync_started(manifest, source)
        except BaseException:
            syncer.stop()
            raise
        report = syncer.run(source, dry_run=dry_run, delete_missing=delete_missing)
        if not dry_run:
            self._record_sync(manifest, report, syncer.plan_counts, syncer.recorded_files)
            self._maybe_build_search_index(report.written)
            if guard.tripped:
                raise DeleteRefused(guard.message(report.plans_deleted), report)
        return report

    def _closed_count(self) -> int | None:
        """The collection's point count when the store knows it without loading it."""
        closed_count = getattr(self._store, "closed_count", None)
        return closed_count(self.collection) if callable(closed_count) else None

    def _mark_sync_started(self, manifest: Manifest, source: Source) -> Manifest:
        """Record that a sync runs (cleared by ``_record_sync``): a kill leaves it behind."""
        root = getattr(source, "root", None)
        marked = sync_started(manifest, pid=os.getpid(), root=None if root is None else str(root))
        self._store.write_manifest(self.collection, marked)
        self._manifest = marked
        return marked

    def _maybe_build_search_index(self, written: int) -> None:
        """Build the HNSW index after a sync when the collection needs it (``planvec.hnsw``)."""
        optimize = getattr(self._store, "optimize", None)
        manifest = self._manifest
        if optimize is None or manifest is None:
            return  # a server optimizes in the background
        state = hnsw.after_sync(manifest.get(hnsw.MANIFEST_KEY), self.count(), written)
        if state.build:
            started = time.perf_counter()
            log.info("building the search index of %s (%d points)", self.location, state.points)
            optimize(self.collection)
            state = state.built(time.perf_counter() - started)
        if state.record != manifest.get(hnsw.MANIFEST_KEY):
            updated = {**manifest, hnsw.MANIFEST_KEY: state.record}
            self._store.write_manifest(self.collection, updated)
            self._manifest = updated

    def _fingerprint_key(self) -> str:
        return fingerprint_key(
            family=self.embedder.family,
            lexical=self.lexical.version if self.lexical else None,
            recipe=EMBED_RECIPE,
        )

    def _record_sync(
        self,
        manifest: Manifest,
        report: SyncReport,
        plan_counts: dict[str, int] | None,
        files: dict[str, FileFingerprint],
    ) -> None:
        skip = ("failures", "warnings", "guard")
        files_record = fingerprint_record(
            files, key=self._fingerprint_key(), points=self._store.count(self.collection)
        )
        updated = sync_recorded(
            manifest,
            model_id=self.embedder.model_id,
            lexical=self.lexical.version if self.lexical else None,
            plans=plan_counts if plan_counts is not None else self.plan_counts(),
            payload_indexes=list(KEYWORD_FIELDS),  # ensure() created them all
            last_sync={k: v for k, v in report.to_dict().items() if k not in skip},
            **{FINGERPRINTS: files_record},
        )
        self._store.write_manifest(self.collection, updated)
        self._manifest = updated

    def salvage(self) -> Manifest:
        """What can still be read before a rebuild: the manifest, else the stored plan names
        (``planvec.roots`` finds the root again from them)."""
        try:
            old = self.manifest
        except StoreError:
            old = None
        return old if old is not None else {"plans": self._readable_plan_counts()}

    def drop(self) -> None:
        """Delete the collection and its manifest, even damaged (``--rebuild``)."""
        self._store.drop_collection(self.collection)
        self._manifest = None

    def _readable_plan_counts(self) -> dict[str, int]:
        """Points per plan read from the store; empty when the collection cannot be read."""
        try:
            return self.plan_counts() if self.exists() else {}
        except StoreError:
            return {}

    def source(
        self,
        paths: Sequence[Path],
        *,
        root: Path | None = None,
        config_file: Path | None = None,
        manifest: Manifest | None = None,
    ) -> RootedPlanSource:
        """The plans under ``paths``, named relative to the index root (see ``planvec.roots``);
        ``manifest`` stands for the index's own (``salvage`` gives it before a rebuild)."""
        known = manifest if manifest is not None else self.manifest
        return rooted_source(
            known,
            paths,
            root=root,
            config_file=config_file,
            stored_plans=lambda: list((known or {}).get("plans") or self._readable_plan_counts()),
        )

    def plan_counts(self) -> dict[str, int]:
        """Number of points per plan, read from the store."""
        counts: dict[str, int] = {}
        for point in self._store.scroll(self.collection, with_payload=("plan",)):
            plan = point.payload.get("plan")
            if isinstance(plan, str):
                counts[plan] = counts.get(plan, 0) + 1
        return dict(sorted(counts.items()))

    def known_plans(self) -> Iterable[str]:
        plans = (self.manifest or {}).get("plans")
        return list(plans) if isinstance(plans, dict) else list(self.plan_counts())

    def search(
        self,
        query: str,
        *,
        limit: int = 10,
        mode: str = "hybrid",
        plan: str | None = None,
        status: str | None = None,
        section: str | None = None,
        priority: str | None = None,
        collapse: bool = True,
    ) -> list[SearchHit]:
        """Ranked tasks for ``query`` (see ``planvec.search``); ``collapse`` merges tasks of
        identical text into one hit (``SearchHit.also_in``).

        An index opened through a logical name survives a model switch made meanwhile by
        another process: on a store error it rebinds to the collection that now serves its
        model (``serving_collection``) and asks again, for at most half a second (a bare
        server collection turning into an alias is missing for a few milliseconds).
        """
        filters = SearchFilters(plan=plan, status=status, section=section, priority=priority)
        attempts = 10
        for attempt in range(attempts):
            try:
                return self._search(
                    query, limit=limit, mode=mode, filters=filters, collapse=collapse
                )
            except (StoreUnavailable, StoreTimeout):
                raise  # the store layer has already retried these
            except StoreError:
                if self.logical is None or not self._rebind(last=attempt == attempts - 1):
                    raise
        raise AssertionError("unreachable")  # pragma: no cover

    def _rebind(self, *, last: bool) -> bool:
        """Point at the collection serving this model now; False to give up."""
        from planvec.store.aliases import serving_collection

        assert self.logical is not None
        found = serving_collection(
            self._store, self.logical, model=self.embedder.family, dimension=self.embedder.dimension
        )
        if last:
            return False
        if found is not None and found != self.collection:
            log.info("collection %r is now served by %r: searching it", self.logical, found)
            self.collection, self._manifest = found, None
            return True
        time.sleep(0.05)  # the instant of a switch: the name may be missing for a moment
        return True

    def _search(
        self, query: str, *, limit: int, mode: str, filters: SearchFilters, collapse: bool = True
    ) -> list[SearchHit]:
        manifest = self.check_manifest()
        lexical = self.lexical if manifest.get("lexical") else None
        if lexical is not None and manifest.get("lexical") != lexical.version:
            log.warning(
                "lexical vectors were built by analyzer %s, this planvec uses %s: "
                "run `planvec index PATH` to rebuild them",
                manifest.get("lexical"),
                lexical.version,
            )
        searcher = Searcher(
            self._store,
            self.collection,
            self.embedder,
            lexical=lexical,
            known_plans=self.known_plans,
            query_text=query_embedding_text,
            find_copies="content_hash" in (manifest.get("payload_indexes") or ()),
            weights=fusion_weights(self.embedder.family),
        )
        return searcher.search(query, limit=limit, mode=mode, filters=filters, collapse=collapse)

    def warm(self, stop: Callable[[], bool] | None = None) -> int:
        """Read every payload of the collection once, so that the first searches of each
        task do not pay for it (``EdgeStore.warm``; ``planvec serve`` does it at start-up).

        Returns:
            The points read (0 for a store without such a step, fewer when ``stop()``).
        """
        warm = getattr(self._store, "warm", None)
        return int(warm(self.collection, stop)) if callable(warm) else 0

    def count(self) -> int:
        return self._store.count(self.collection) if self.exists() else 0

    # -- what operations (checks, repair, backup, migrations) use instead of the store --------

    @property
    def points(self) -> IndexPoints:
        """The points of this index's collection: scroll, retrieve, rewrite, delete."""
        return IndexPoints(self._store, self.collection, before_write=self._forget_fingerprints)

    def _forget_fingerprints(self) -> None:
        """Drop the file fingerprints: the next sync reads and diffs every file once."""
        manifest = self.manifest
        if manifest is not None and FINGERPRINTS in manifest:
            forgotten = {k: v for k, v in manifest.items() if k != FINGERPRINTS}
            self._store.write_manifest(self.collection, forgotten)
            self._manifest = forgotten

    @property
    def admin(self) -> VectorStore:
        """The store as collection admin, manifest storage and aliases (migrations only)."""
        return self._store

    def collection_info(self) -> CollectionInfo | None:
        """Facts about the collection, or ``None`` when it does not exist."""
        return self._store.collection_info(self.collection)

    def store_health(self) -> StoreHealth:
        """Whether the store answers (never raises)."""
        return self._store.health()

    def stored_manifest(self) -> Manifest | None:
        """The manifest as stored now (not the cached, upgraded one)."""
        return self._store.read_manifest(self.collection)

    def syncer(self, *, batch_size: int = 256) -> Syncer:
        """A ``Syncer`` writing points the way ``sync`` does (repair rewrites with it)."""
        self._forget_fingerprints()
        return Syncer(
            self._store, self.collection, self.embedder, lexical=self.lexical, batch_size=batch_size
        )


__all__ = ["Index", "count_plans", "open_index", "sources_for"]
