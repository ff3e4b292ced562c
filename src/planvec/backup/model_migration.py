"""``planvec migrate-model``: move an index to another embedding model with no downtime.

States of the logical collection ``L`` (``--collection``, default ``planvec_tasks``)::

    live on P0 ──build──> P1 filled ──verify──> P1 verified ──switch──> live on P1
        ^                                                                   │
        └──────────────────────────── rollback (alias back to P0) ─────────┘
                                           delete-old: drop the collection not live

* build: a new physical collection ``P1 = L__<model>__<UTC stamp>`` next to the live one; every
  live point is re-embedded from its stored text with the new model (through the embedding
  cache, keyed by model id and text hash), keeping its id, sparse vector and payload (only
  ``embed_hash``/``payload_hash`` are recomputed, so a later ``planvec index`` finds nothing to
  do). Readers keep searching P0 meanwhile: nothing they read changes.
* verify: same point count and ids as P0; ``planvec check`` passes on P1; ``planvec quality``
  of P1 does not drop more than ``max_quality_drop`` below P0's (when the old model is given;
  between two model families only the rank metrics, ``SCALE_FREE_METRICS``, are compared:
  their cosine scales differ).
* switch: one atomic alias update, ``L -> P1`` (Qdrant alias on a server, the alias file of
  the embedded store). P1's manifest records ``previous_collection`` for the rollback.
* rollback: ``L`` points at the previous collection again. delete-old: drops the collection
  that is not live (only when asked).

On a server, an index created before aliases has a *collection* named ``L``, and a Qdrant
alias cannot take a collection's name: the first switch copies it to ``L__<old model>__<stamp>``
(vectors included, verified), drops ``L`` and creates the alias right away. Between those two
calls (milliseconds) a search by the bare name fails; every later switch is gap-free. The
embedded store needs no copy: its alias may shadow a collection directory.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import numpy as np

from planvec.embed.base import Embedder, embed_keyed
from planvec.embedding_recipe import embedding_text_of, payload_hash, text_embed_hash
from planvec.errors import ConfigError, StoreError
from planvec.index import Index, LexicalEncoder
from planvec.manifest import new_manifest, now_iso
from planvec.store.aliases import resolve_collection
from planvec.store.base import PointRecord, SupportsAliases, VectorStore


@dataclass
class ModelMigrationReport:
    """What ``migrate_model`` planned or did."""

    logical: str
    action: str
    live_before: str
    live_after: str
    old_model: str | None = None
    new_model: str | None = None
    new_collection: str | None = None
    points: int = 0
    embedded: int = 0
    check: dict[str, Any] = field(default_factory=dict)
    quality: dict[str, Any] = field(default_factory=dict)
    verified: bool = False
    switched: bool = False
    deleted: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__, seconds=round(self.seconds, 3))


def _aliases(store: VectorStore) -> SupportsAliases:
    if not isinstance(store, SupportsAliases):
        raise ConfigError(f"the {store.backend} store has no aliases: migrate-model needs them")
    return store


def physical_name(logical: str, model_id: str, now: datetime | None = None) -> str:
    """``<logical>__<model slug>__<UTC stamp>``: unique, sortable, safe as a directory name."""
    slug = re.sub(r"[^A-Za-z0-9_.-]+", "-", model_id).strip("-")[:60] or "model"
    stamp = (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%S%f")
    return f"{logical}__{slug}__{stamp}"


def migration_status(store: VectorStore, logical: str) -> dict[str, Any]:
    """Which collection is live, what the previous one was, and every sibling collection."""
    live = resolve_collection(store, logical)
    manifest = store.read_manifest(live) or {}
    siblings = sorted(
        n for n in store.list_collections() if n == logical or n.startswith(logical + "__")
    )
    return {
        "logical": logical,
        "live": live,
        "model": manifest.get("model"),
        "model_id": manifest.get("model_id"),
        "dimension": manifest.get("dimension"),
        "previous": manifest.get("previous_collection"),
        "collections": siblings,
    }


def build_collection(
    store: VectorStore,
    source: str,
    target: str,
    embedder: Embedder,
    *,
    batch_size: int = 256,
    progress: Callable[[int], None] | None = None,
) -> tuple[int, int]:
    """Re-embed every point of ``source`` into the new collection ``target``.

    Returns:
        (points written, texts embedded) - the cache may make the second smaller.
    """
    old_manifest = store.read_manifest(source) or {}
    new = Index(store, embedder, collection=target)
    store.ensure_collection(target, new.spec())
    written = embedded = 0
    page: list[PointRecord] = []

    def flush() -> None:
        nonlocal written, embedded
        texts = [embedding_text_of(str(p.payload.get("text", ""))) for p in page]
        items = [
            (text_embed_hash(str(p.payload.get("text", "")), embedder.family), t)
            for p, t in zip(page, texts, strict=True)
        ]
        vectors, computed = embed_keyed(embedder, items)
        points = []
        for point, (digest, _), vector in zip(page, items, vectors, strict=True):
            payload = dict(point.payload)
            payload["embed_hash"] = digest
            payload.pop("payload_hash", None)
            payload["payload_hash"] = payload_hash(payload)
            points.append(PointRecord(point.id, np.asarray(vector, np.float32).tolist(),
                                      payload, point.sparse))  # fmt: skip
        written += store.upsert(target, points)
        embedded += int(computed)
        page.clear()
        if progress is not None:
            progress(written)

    for point in store.scroll(source, with_vectors=True, batch_size=batch_size):
        page.append(point)
        if len(page) >= batch_size:
            flush()
    if page:
        flush()
    manifest = new_manifest(
        model=embedder.family, model_id=embedder.model_id, dimension=embedder.dimension,
        distance="cosine", lexical=old_manifest.get("lexical"),
    )  # fmt: skip
    for key in ("plans", "last_sync"):
        if key in old_manifest:
            manifest[key] = old_manifest[key]
    manifest["previous_collection"] = source
    manifest["migrated_at"] = now_iso()
    store.write_manifest(target, manifest)
    return written, embedded


def verify_collection(
    old: Index,
    new: Index,
    *,
    old_embedder_matches: bool,
    max_quality_drop: float,
    quality_sample: int = 500,
) -> tuple[dict[str, Any], dict[str, Any], list[str]]:
    """``check`` and ``quality`` of the new collection, compared with the live one.

    Returns:
        (check summary, quality summary, problems) - no problem means "safe to switch".
    """
    from planvec.checks.baseline import compare_baseline
    from planvec.checks.quality import (
        METRICS,
        SCALE_FREE_METRICS,
        QualityOptions,
        measure_quality,
    )
    from planvec.checks.verify import check_index

    problems: list[str] = []
    ids = [{str(p.id) for p in i.points.scroll(with_payload=False)} for i in (old, new)]
    if ids[0] != ids[1]:
        problems.append("the new collection does not hold exactly the ids of the live one")
    check = check_index(new)
    check_info = {"status": check.status, "summary": check.summary(), "error": check.error}
    if check.exit_code != 0:
        problems.append(f"planvec check on the new collection: {check.status} {check.summary()}")
    opts = QualityOptions(sample=quality_sample)
    quality_new = measure_quality(new, opts)
    quality: dict[str, Any] = {"new": quality_new.metrics}
    if old_embedder_matches:
        quality_old = measure_quality(old, opts)
        quality["old"] = quality_old.metrics
        # cosine-valued metrics are not comparable between two models' similarity scales
        same_family = old.embedder.family == new.embedder.family
        compared = METRICS if same_family else SCALE_FREE_METRICS
        alerts = compare_baseline(
            quality_new, quality_old.baseline_dict(), max_quality_drop, metrics=compared
        )
        quality["compared"] = list(compared)
        quality["alerts"] = alerts
        problems.extend(f"quality: {a}" for a in alerts)
    return check_info, quality, problems


def migrate_model(
    store: VectorStore,
    logical: str,
    embedder: Embedder,
    *,
    apply: bool = False,
    old_embedder: Embedder | None = None,
    lexical: LexicalEncoder | None = None,
    max_quality_drop: float = 0.05,
    batch_size: int = 256,
    progress: Callable[[int], None] | None = None,
) -> ModelMigrationReport:
    """Plan (default) or run build -> verify -> switch to ``embedder``.

    Args:
        store: the store holding the index.
        logical: the collection name users know (alias or legacy physical name).
        embedder: the new model.
        apply: build, verify and switch; without it only the plan is reported.
        old_embedder: the live model, to compare quality (skipped when ``None``).
        lexical: the lexical encoder of the index (as ``open_index`` builds it).
        max_quality_drop: largest allowed drop of a quality metric versus the live index.
        batch_size: points re-embedded per batch.
        progress: called with the points written so far (searches may run meanwhile).

    Returns:
        The report; ``switched`` says whether ``logical`` now serves the new model.

    Raises:
        CollectionNotFound: no live index under ``logical``.
        ConfigError: the store has no aliases, or the index already uses this model.
    """
    started = time.perf_counter()
    _aliases(store)  # fail fast: a store without aliases cannot switch
    live = resolve_collection(store, logical)
    old = Index(store, old_embedder or embedder, collection=live, lexical=lexical)
    manifest = old.manifest
    if manifest is None:
        raise ConfigError(f"no planvec index under {logical!r}: run `planvec index PATH` first")
    report = ModelMigrationReport(
        logical=logical, action="plan" if not apply else "apply", live_before=live,
        live_after=live, old_model=manifest.get("model_id"), new_model=embedder.model_id,
        points=store.count(live),
    )  # fmt: skip
    if (manifest.get("model"), manifest.get("dimension")) == (embedder.family, embedder.dimension):
        raise ConfigError(
            f"{logical!r} already uses {embedder.family} ({embedder.dimension}-d): "
            "nothing to migrate"
        )
    report.new_collection = physical_name(logical, embedder.model_id)
    if not apply:
        report.seconds = time.perf_counter() - started
        return report
    _build_verify_switch(
        store, old, embedder, report, old_embedder=old_embedder, lexical=lexical,
        max_quality_drop=max_quality_drop, batch_size=batch_size, progress=progress,
    )  # fmt: skip
    report.seconds = time.perf_counter() - started
    return report


def _build_verify_switch(
    store: VectorStore,
    old: Index,
    embedder: Embedder,
    report: ModelMigrationReport,
    *,
    old_embedder: Embedder | None,
    lexical: LexicalEncoder | None,
    max_quality_drop: float,
    batch_size: int,
    progress: Callable[[int], None] | None,
) -> None:
    """The applied part of ``migrate_model``: build the new collection, verify, switch."""
    manifest = old.manifest or {}
    live, logical = old.collection, report.logical
    target = str(report.new_collection)
    report.points, report.embedded = build_collection(
        store, live, target, embedder, batch_size=batch_size, progress=progress
    )
    new = Index(store, embedder, collection=target, lexical=lexical)
    old_matches = old_embedder is not None and _compatible(manifest, old_embedder)
    report.check, report.quality, report.problems = verify_collection(
        old, new, old_embedder_matches=old_matches, max_quality_drop=max_quality_drop
    )
    report.verified = not report.problems
    if not report.verified:
        report.problems.append(
            f"not switched: {target!r} is kept for inspection; `planvec migrate-model "
            "--delete-old` removes it"
        )
        return
    _switch(store, _aliases(store), logical, live, target, old_manifest=manifest)
    report.switched = True
    report.live_after = resolve_collection(store, logical)


def _compatible(manifest: dict[str, Any], embedder: Embedder) -> bool:
    return (manifest.get("model"), manifest.get("dimension")) == (
        embedder.family,
        embedder.dimension,
    )


def _switch(
    store: VectorStore,
    aliases: SupportsAliases,
    logical: str,
    live: str,
    target: str,
    *,
    old_manifest: dict[str, Any],
) -> None:
    """Point ``logical`` at ``target``; convert a bare collection named ``logical`` first."""
    if live == logical and store.backend != "edge":
        kept = physical_name(logical, str(old_manifest.get("model_id") or "previous"))
        _copy(store, logical, kept)
        manifest = store.read_manifest(target) or {}
        manifest["previous_collection"] = kept
        store.write_manifest(target, manifest)
        store.drop_collection(logical)
    aliases.set_alias(logical, target)


def _copy(store: VectorStore, source: str, target: str) -> None:
    """Copy a collection with its vectors and manifest, and check the count."""
    info = store.collection_info(source)
    assert info is not None
    manifest = store.read_manifest(source)
    from planvec.store.base import CollectionSpec

    spec = CollectionSpec(dimension=info.dimension, distance=info.distance,  # type: ignore[arg-type]
                          sparse=info.sparse)  # fmt: skip
    store.ensure_collection(target, spec)
    store.upsert(target, store.scroll(source, with_vectors=True))
    if manifest is not None:
        store.write_manifest(target, manifest)
    if store.count(target) != store.count(source):
        raise StoreError(f"copy of {source!r} to {target!r} is incomplete: the switch stopped")


def rollback_model(store: VectorStore, logical: str) -> ModelMigrationReport:
    """Point ``logical`` back at the collection that was live before the last switch.

    Raises:
        ConfigError: nothing to roll back to (no previous collection, or it was deleted).
    """
    aliases = _aliases(store)
    live = resolve_collection(store, logical)
    manifest = store.read_manifest(live) or {}
    previous = manifest.get("previous_collection")
    if not previous or store.collection_info(str(previous)) is None:
        raise ConfigError(
            f"{logical!r} has no previous collection to roll back to"
            + (f" ({previous!r} was deleted)" if previous else "")
        )
    previous = str(previous)
    prev_manifest = store.read_manifest(previous) or {}
    prev_manifest["previous_collection"] = live  # a second rollback rolls forward again
    store.write_manifest(previous, prev_manifest)
    if previous == logical:
        aliases.delete_alias(logical)  # embedded store: the shadowed directory is live again
    else:
        aliases.set_alias(logical, previous)
    report = ModelMigrationReport(
        logical=logical, action="rollback", live_before=live,
        live_after=resolve_collection(store, logical), old_model=manifest.get("model_id"),
        new_model=prev_manifest.get("model_id"), switched=True,
    )  # fmt: skip
    if str(manifest.get("updated_at", "")) > str(manifest.get("migrated_at") or "~"):
        report.problems.append(
            f"{live!r} was synced after the switch; {previous!r} missed those changes: run "
            "`planvec index PATH` now to bring it up to date"
        )
    return report


def delete_old(store: VectorStore, logical: str) -> ModelMigrationReport:
    """Drop every sibling collection of ``logical`` that is not live (old models)."""
    live = resolve_collection(store, logical)
    report = ModelMigrationReport(logical=logical, action="delete-old", live_before=live,
                                  live_after=live)  # fmt: skip
    for name in migration_status(store, logical)["collections"]:
        if name == live:
            continue
        if name == logical and live == logical:
            continue
        store.drop_collection(name)
        report.deleted.append(name)
    if report.deleted and live != logical:
        manifest = store.read_manifest(live) or {}
        if manifest.get("previous_collection") in report.deleted:
            manifest["previous_collection"] = None
            store.write_manifest(live, manifest)
    if not report.deleted and live == logical:
        raise ConfigError(f"{logical!r} has no old collection to delete")
    return report
