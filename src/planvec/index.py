"""The ``Index`` facade: one collection, one embedder, one store, wired together.

``open_index(settings)`` (``planvec.wiring``, re-exported here) builds one from settings;
``Index(store=..., embedder=...)`` takes injected parts, so tests use the hashing embedder and
an in-memory store. The index keeps a manifest (see ``planvec.manifest``) and refuses to mix
models.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Protocol

from planvec.embed.base import Embedder
from planvec.embedding_recipe import (
    BOOL_FIELDS,
    INTEGER_FIELDS,
    KEYWORD_FIELDS,
    TEXT_FIELDS,
    query_embedding_text,
)
from planvec.errors import (
    CollectionNotFound,
    ConfigError,
    StoreError,
    StoreTimeout,
    StoreUnavailable,
)
from planvec.index_points import IndexPoints
from planvec.lock import WriteLock
from planvec.manifest import (
    Manifest,
    check_compatible,
    new_manifest,
    now_iso,
    upgrade_manifest,
)
from planvec.records import Plan, SearchHit
from planvec.search import LexicalQueryEncoder, Searcher, SearchFilters
from planvec.sources.base import Source
from planvec.store.base import CollectionInfo, CollectionSpec, StoreHealth, VectorStore
from planvec.sync import LexicalEncoderLike, Syncer, SyncProgress, SyncReport
from planvec.wiring import open_index

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
    ) -> None:
        self._store = store  # private: operations use the methods below and ``points``
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
                    f"{self.location} holds points but no planvec manifest: it was not "
                    "written by planvec. Use another --collection, or `planvec migrate-legacy`."
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
    ) -> SyncReport:
        """Make the collection hold exactly the tasks of ``source`` (see ``planvec.sync``)."""
        if dry_run and self.manifest is None:
            manifest: Manifest | None = None
        else:
            manifest = self.ensure() if not dry_run else self.check_manifest()
        syncer = Syncer(
            self._store,
            self.collection,
            self.embedder,
            lexical=self.lexical,
            batch_size=batch_size,
            progress=progress,
        )
        if manifest is None:  # dry run on a new index: everything is an addition
            report = SyncReport(dry_run=True)
            for item in source.iter_plans():
                if isinstance(item, Plan):
                    report.plans += 1
                    report.tasks += len(item.tasks)
                    report.added += len(item.tasks)
                    report.warnings.extend(item.warnings)
                else:
                    report.failed += 1
                    report.failures.append(item)
            return report
        report = syncer.run(source, dry_run=dry_run, delete_missing=delete_missing)
        if not dry_run:
            self._record_sync(manifest, report, syncer.plan_counts)
        return report

    def _record_sync(
        self, manifest: Manifest, report: SyncReport, plan_counts: dict[str, int] | None
    ) -> None:
        updated = dict(manifest)
        updated["updated_at"] = now_iso()
        updated["model_id"] = self.embedder.model_id
        updated["lexical"] = self.lexical.version if self.lexical else None
        updated["plans"] = plan_counts if plan_counts is not None else self.plan_counts()
        updated["last_sync"] = {
            k: v for k, v in report.to_dict().items() if k not in ("failures", "warnings")
        }
        self._store.write_manifest(self.collection, updated)
        self._manifest = updated

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
    ) -> list[SearchHit]:
        """Ranked tasks for ``query`` (see ``planvec.search``).

        An index opened through a logical name survives a model switch made meanwhile by
        another process: on a store error it rebinds to the collection that now serves its
        model (``serving_collection``) and asks again, for at most half a second (a bare
        server collection turning into an alias is missing for a few milliseconds).
        """
        filters = SearchFilters(plan=plan, status=status, section=section, priority=priority)
        attempts = 10
        for attempt in range(attempts):
            try:
                return self._search(query, limit=limit, mode=mode, filters=filters)
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
        self, query: str, *, limit: int, mode: str, filters: SearchFilters
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
        )
        return searcher.search(query, limit=limit, mode=mode, filters=filters)

    def count(self) -> int:
        return self._store.count(self.collection) if self.exists() else 0

    # -- what operations (checks, repair, backup, migrations) use instead of the store --------

    @property
    def points(self) -> IndexPoints:
        """The points of this index's collection: scroll, retrieve, rewrite, delete."""
        return IndexPoints(self._store, self.collection)

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

    def drop(self) -> None:
        """Delete the collection and its manifest (``repair`` rebuilds it by a sync)."""
        self._store.drop_collection(self.collection)
        self._manifest = None

    def syncer(self, *, batch_size: int = 256) -> Syncer:
        """A ``Syncer`` writing points the way ``sync`` does (repair rewrites with it)."""
        return Syncer(
            self._store, self.collection, self.embedder, lexical=self.lexical, batch_size=batch_size
        )


def count_plans(paths: Sequence[Path]) -> int:
    """How many plan files ``paths`` hold (for progress bars)."""
    from planvec.sources.files import discover

    return len(discover([Path(p) for p in paths])[0])


def sources_for(paths: Sequence[Path], kind: str = "markdown") -> Source:
    """The source of plans under ``paths``: Markdown files by default, or a plugin's ``kind``.

    Raises:
        ConfigError: two arguments would index two files under one plan name, or no
            source is called ``kind``.
    """
    from planvec.plugins import make_source

    return make_source(kind, [Path(p) for p in paths])


__all__ = ["Index", "open_index", "sources_for"]
