"""The no-op short-cut of ``planvec index``: "nothing changed" decided from small files alone.

A re-run over plans that did not change used to load the whole store (Qdrant Edge reads its
shard: ~0.45 s at 20k tasks), import numpy and the embedders' code, and rewrite the
manifest twice, only to find that every file's fingerprint (``planvec.fingerprints``) still
matched. ``noop_report`` reaches the same verdict from the manifest, the fingerprints and
the store's closed-state stamp. It answers only when all of these hold,
and otherwise returns ``None`` so that the caller runs the full sync (which then reports,
repairs or refuses exactly as before):

* the store is the embedded one (Edge) and its last clean close recorded the point count
  with a signature of the shard's files that still matches (``EdgeStore.closed_count``):
  it stands for ``store.count()``; a crash, another process loading the shard, or a
  restore all change the files;
* the manifest is readable, carries no unfinished-sync marker (``SYNC_MARKER``), needs no
  migration, and matches the family, dimension and distance of the embedder this run
  would use (a built-in one: ``BUILTIN_MODELS``; a plugin's always takes the full path,
  which checks it);
* the fingerprints are trusted as by ``trusted_fingerprints`` (same key, same points);
* the root is the recorded one (or ``--root`` names it), the paths exist inside it,
  discovery found nothing unreadable, every file under the paths has a fingerprint whose
  stat short-cut matches (size, mtime, ctime; not racy), and no fingerprinted file or,
  unless ``delete_missing`` is off, indexed plan vanished from the paths;
* the search-index record needs no update (``planvec.hnsw.after_sync`` with nothing
  written).

The report is the one the full sync gives in that case: every plan and task unchanged,
the deletion guard's verdict for zero deletions; a write run records it in the manifest
(``last_sync``, ``updated_at``: readers judge freshness by them), as the full sync does.
Nothing here imports numpy, the store client or the model, and the shard is never loaded.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from planvec import hnsw
from planvec.embedding_recipe import EMBED_RECIPE
from planvec.errors import PlanvecError
from planvec.fingerprints import FileFingerprint, fingerprint_key, trusted_fingerprints
from planvec.guard import DeleteGuard
from planvec.lock import WriteLock, lock_path_for
from planvec.manifest import SYNC_MARKER, Manifest, sync_recorded, upgrade_manifest
from planvec.model_families import (
    AUTO_BY_FAMILY,
    E5_FAMILY,
    HASHING_FAMILY,
    MODEL_DIMENSION,
    MODEL_FAMILY,
    USEM3_FAMILY,
)
from planvec.roots import RootedPlanSource
from planvec.settings import Settings
from planvec.sync_report import SyncReport

if TYPE_CHECKING:
    from planvec.store.base import VectorStore

log = logging.getLogger(__name__)

_MINILM = (MODEL_FAMILY, MODEL_DIMENSION)
#: (family, dimension) of the built-in embedders by name, as ``planvec.wiring.open_embedder``
#: builds them (a test checks this table against it). ``auto`` follows the index's model
#: when that is the hashing or a multilingual one (``AUTO_BY_FAMILY``).
BUILTIN_MODELS: dict[str, tuple[str, int]] = {
    "auto": _MINILM,
    "onnx": _MINILM,
    "onnx-int8": _MINILM,
    "torch": _MINILM,
    "hashing": (HASHING_FAMILY, 384),
    "usem3": (USEM3_FAMILY, 512),
    "e5": (E5_FAMILY, 384),
}


def model_of(embedder: str, manifest: Manifest) -> tuple[str, int] | None:
    """Family and dimension of the embedder ``embedder`` names for this index, if built in."""
    if embedder == "auto":
        embedder = AUTO_BY_FAMILY.get(str(manifest.get("model")), embedder)
    return BUILTIN_MODELS.get(embedder)


def noop_report(
    settings: Settings,
    paths: Sequence[Path],
    *,
    dry_run: bool = False,
    delete_missing: bool = True,
    allow_delete: bool = False,
    wait: bool = False,
) -> SyncReport | None:
    """The report of a sync of ``paths`` that finds nothing to do, or ``None`` if unsure.

    Args:
        settings: the index (``index_dir``, ``collection``, ``embedder``, ``root``...).
        paths: the files and folders the sync would read.
        dry_run: report as a dry run (no lock is taken, as for a dry sync).
        delete_missing: plans that vanished from ``paths`` would be deleted (then a
            vanished plan is a change); off, they are kept (``--keep-missing``).
        allow_delete: recorded in the guard's verdict, as the full sync does.
        wait: queue behind another writer for the write lock instead of failing.

    Returns:
        The report, or ``None``: run the full sync. A write run records itself in the
        manifest (``last_sync``, ``updated_at``), as the full sync does; nothing else is
        written.

    Raises:
        IndexLocked: another run holds the index (and ``wait`` is off), as for a full sync.
    """
    if settings.store.target.kind != "edge":
        return None
    from planvec.store.factory import open_configured_store

    started = time.perf_counter()
    lock = None
    if not dry_run:
        path = lock_path_for(
            settings.index_dir, settings.qdrant_url, settings.collection, settings.cache_dir
        )
        lock = WriteLock(path, wait=wait)
        lock.acquire()
    store = None
    try:
        store = open_configured_store(settings.store)  # opens no shard: files only
        found = _unchanged_plans(store, settings, paths, delete_missing)
        if found is None:
            return None
        report = _report(found.plans, found.points, dry_run, settings.max_delete, allow_delete)
        report.seconds = time.perf_counter() - started
        if not dry_run:
            _record_run(store, found, report)
    except (PlanvecError, OSError, TypeError, ValueError) as exc:  # the full sync says why
        log.debug("no-op check abandoned: %s", exc)
        return None
    finally:
        if store is not None:
            store.close()
        if lock is not None:
            lock.release()
    log.info("nothing changed under the paths (%d plans): the index was not opened", report.plans)
    return report


@dataclass(frozen=True)
class _Unchanged:
    """What the check read: points per plan under the paths, the index's count and manifest."""

    plans: dict[str, int]
    points: int
    manifest: Manifest
    collection: str


def _report(
    plans: dict[str, int], points: int, dry_run: bool, max_delete: float, allow_delete: bool
) -> SyncReport:
    """The full sync's report when every plan is unchanged and nothing is deleted."""
    guard = DeleteGuard(max_delete=max_delete, allow=allow_delete)
    guard.start(points)
    guard.check_run(0)
    tasks = sum(plans.values())
    report = SyncReport(dry_run=dry_run, guard=guard, plans=len(plans), tasks=tasks)
    report.unchanged = tasks
    return report


def _record_run(store: VectorStore, found: _Unchanged, report: SyncReport) -> None:
    """Record the run in the manifest (``last_sync``, ``updated_at``) as the full sync does:
    readers judge freshness by it (``planvec serve``'s readiness, ``planvec health``).

    Every other field would be rewritten with the value it has; ``model_id`` is kept (the
    stored vectors are still those of the recorded variant)."""
    skip = ("failures", "warnings", "guard")
    last_sync = {k: v for k, v in report.to_dict().items() if k not in skip}
    store.write_manifest(found.collection, sync_recorded(found.manifest, last_sync=last_sync))


def _stored_state(store: VectorStore, settings: Settings) -> tuple[Manifest, int, str] | None:
    """The manifest, the point count and the physical collection, without loading the shard."""
    from planvec.store.aliases import resolve_collection

    closed_count = getattr(store, "closed_count", None)
    if closed_count is None:
        return None
    collection = resolve_collection(store, settings.collection)
    manifest = store.read_manifest(collection)
    points = closed_count(collection)
    if manifest is None or points is None:
        return None
    return manifest, points, collection


def _trusted(settings: Settings, manifest: Manifest, points: int) -> dict[str, FileFingerprint]:
    """The fingerprints the full sync would trust, or ``{}`` (module docstring)."""
    from planvec.text.lexical import default_lexical_encoder

    if SYNC_MARKER in manifest or upgrade_manifest(manifest)[1]:
        return {}
    model = model_of(settings.embedder, manifest)
    built = (manifest.get("model"), manifest.get("dimension"), manifest.get("distance"))
    if model is None or built != (*model, "cosine"):
        return {}
    key = fingerprint_key(
        family=model[0], lexical=default_lexical_encoder().version, recipe=EMBED_RECIPE
    )
    return trusted_fingerprints(manifest, key=key, points=points, interrupted=False)


def _unchanged_plans(
    store: VectorStore, settings: Settings, paths: Sequence[Path], delete_missing: bool
) -> _Unchanged | None:
    """Points per plan under ``paths`` and in the index, when provably nothing changed."""
    state = _stored_state(store, settings)
    if state is None:
        return None
    manifest, points, collection = state
    known = _trusted(settings, manifest, points)
    counts: Any = manifest.get("plans")
    root = manifest.get("root")
    if not known or not isinstance(counts, dict) or not isinstance(root, str) or not root:
        return None
    search_index = manifest.get(hnsw.MANIFEST_KEY)
    if hnsw.after_sync(search_index, points, 0).record != search_index:
        return None
    source = RootedPlanSource(paths, Path(root))
    if settings.root is not None and Path(os.path.abspath(settings.root)) != source.root:
        return None
    seen = _matching_files(source, known)
    if seen is None:
        return None
    vanished = [p for p in known if p not in seen and source.in_scope(p)]
    if delete_missing:
        vanished += [p for p in counts if p not in seen and source.in_scope(p)]
    if vanished:
        return None
    plans = {name: int(counts.get(name, 0)) for name in seen}
    return _Unchanged(plans, points, manifest, collection)


def _matching_files(source: RootedPlanSource, known: dict[str, FileFingerprint]) -> set[str] | None:
    """The plan names under the source's paths, if each file's stat matches its fingerprint."""
    from planvec.sources.files import discover

    for path in source.paths:
        full = Path(os.path.abspath(path))
        if not (full == source.root or full.is_relative_to(source.root)):
            return None  # the full sync explains what is wrong with it
    files, failures = discover(source.paths)
    if failures:
        return None
    seen: set[str] = set()
    for full, _ in files:
        name = source.name_of(full)
        fp = known.get(name)
        if fp is None or not fp.stat_matches(os.stat(full)):
            return None
        seen.add(name)
    return seen
