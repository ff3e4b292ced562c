"""The four backup commands as library calls taking ``Settings`` (one call per CLI command).

Each opens what it needs (store, write lock, embedder), runs the operation from
``transfer``/``legacy_migration``/``model_migration`` and closes everything, so the CLI only
parses options and renders. Writers take the index's write lock (the same lock as
``planvec index``), so a sync cannot interleave with an import or a model switch.
"""

from __future__ import annotations

import contextlib
import logging
import os
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from planvec.backup.model_migration import (
    ModelMigrationReport,
    delete_old,
    migrate_model,
    migration_status,
    rollback_model,
)
from planvec.backup.transfer import ExportReport, ImportReport, export_collection, import_archive
from planvec.errors import ConfigError, EmbedError
from planvec.redact import redact_url
from planvec.settings import Settings, check_qdrant_url
from planvec.store.base import VectorStore
from planvec.wiring import open_embedder, open_store, write_lock

log = logging.getLogger(__name__)


def open_settings_store(settings: Settings, qdrant_url: str | None = None) -> VectorStore:
    """The store named by ``settings`` (or by ``qdrant_url``, for a legacy source)."""
    return open_store(settings, qdrant_url=qdrant_url)


@contextlib.contextmanager
def _locked(settings: Settings, collection: str, wait: bool = False) -> Iterator[None]:
    with write_lock(settings, collection, wait=wait):
        yield


def _cache_entries(settings: Settings, model_id: Any) -> int | None:
    from planvec.embed.cache import EmbeddingCache, default_cache_path

    path = default_cache_path(settings.cache_dir)
    if not isinstance(model_id, str) or not path.is_file():
        return None
    with EmbeddingCache(path) as cache:
        return cache.count(model_id)


def export_index(
    settings: Settings,
    out: Path,
    *,
    overwrite: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> ExportReport:
    """``planvec export``: archive the collection ``settings.collection`` (alias resolved).

    Args:
        settings: where the index lives.
        out: the archive file to write (replaced atomically, mode 0600).
        overwrite: replace ``out`` when it exists (else ``ConfigError``: an export never
            silently destroys an older backup).
        progress: called as ``progress(points written, total)`` while writing.

    Returns:
        The export report.

    Raises:
        IndexLocked: a `planvec index` (or another writer) is running on this index.
    """
    if os.path.lexists(out) and not overwrite:
        what = "a directory" if Path(out).is_dir() else "a file"
        raise ConfigError(
            f"{out} already exists ({what}): choose another path, or pass --force to replace it"
        )
    with _locked(settings, settings.collection):  # a consistent snapshot: no sync meanwhile
        return _export(settings, out, progress)


def _export(
    settings: Settings, out: Path, progress: Callable[[int, int], None] | None
) -> ExportReport:
    from planvec.store.aliases import resolve_collection

    store = open_settings_store(settings)
    try:
        physical = resolve_collection(store, settings.collection)
        manifest = store.read_manifest(physical) or {}
        return export_collection(
            store, physical, out, logical=settings.collection,
            cache_entries=_cache_entries(settings, manifest.get("model_id")), progress=progress,
        )  # fmt: skip
    finally:
        store.close()


def import_index(
    settings: Settings, archive: Path, *, collection: str | None = None, force: bool = False
) -> ImportReport:
    """``planvec import``: restore an archive into the store of ``settings``, verified.

    Args:
        settings: the target store (``--index`` or ``--qdrant-url``).
        archive: the archive file.
        collection: target collection (default: the archived collection name).
        force: replace a non-empty target collection.

    Returns:
        The import report (``ok`` tells whether the verification passed).
    """
    from planvec.backup.archive import read_archive

    target = collection or str(read_archive(archive).manifest.get("collection"))
    with _locked(settings, target):
        store = open_settings_store(settings)
        try:
            return import_archive(store, archive, collection=target, force=force)
        finally:
            store.close()


def migrate_legacy_index(
    settings: Settings,
    *,
    from_url: str | None,
    from_archive: Path | None,
    legacy_collection: str,
    out_dir: Path,
    dry_run: bool = False,
    delete_source: bool = False,
    plans_root: Path | None = None,
    plan_for: dict[str, str] | None = None,
) -> Any:
    """``planvec migrate-legacy``: see ``planvec.backup.legacy_migration.migrate_legacy``.

    Returns:
        The ``LegacyMigrationReport``.
    """
    from planvec.backup.archive import read_archive
    from planvec.backup.legacy import LegacyPoints
    from planvec.backup.legacy_migration import migrate_legacy
    from planvec.index import open_index

    if (from_url is None) == (from_archive is None):
        raise ConfigError("give exactly one of --from-url URL or --from-archive FILE")
    if from_url is not None:
        check_qdrant_url(from_url, option="--from-url")
    source_store: VectorStore | None = None
    with contextlib.ExitStack() as stack:
        if from_url is not None:
            if from_url.startswith("memory://"):
                raise ConfigError(
                    "--from-url memory:// holds nothing: use a server or local:// URL"
                )
            scratch = Path(stack.enter_context(tempfile.TemporaryDirectory()))
            source_store = open_settings_store(
                Settings(index_dir=scratch, api_key=settings.api_key), qdrant_url=from_url
            )
            stack.callback(source_store.close)
            if source_store.collection_info(legacy_collection) is None:
                raise ConfigError(f"{redact_url(from_url)} has no collection {legacy_collection!r}")
            legacy = LegacyPoints(store=source_store, collection=legacy_collection)
        else:
            assert from_archive is not None
            legacy = LegacyPoints(archive=read_archive(from_archive))
        index = stack.enter_context(open_index(settings, write=not dry_run))
        return migrate_legacy(
            legacy, index, out_dir, dry_run=dry_run, delete_source=delete_source,
            plans_root=plans_root, plan_for=plan_for,
        )  # fmt: skip


def migrate_model_index(
    settings: Settings,
    *,
    to: str | None,
    apply: bool = False,
    rollback: bool = False,
    delete_old_collections: bool = False,
    max_quality_drop: float = 0.05,
) -> ModelMigrationReport | dict[str, Any]:
    """``planvec migrate-model``: plan, apply, roll back, delete old, or show the status.

    Returns:
        A ``ModelMigrationReport``, or the status dict when no action was asked.
    """
    from planvec.text.lexical import default_lexical_encoder

    with _locked(settings, settings.collection):
        store = open_settings_store(settings)
        try:
            if rollback:
                return rollback_model(store, settings.collection)
            if delete_old_collections:
                return delete_old(store, settings.collection)
            if to is None:
                return migration_status(store, settings.collection)
            from planvec.store.aliases import resolve_collection

            manifest = store.read_manifest(resolve_collection(store, settings.collection))
            try:  # the live model, to compare quality; optional
                old: Any = open_embedder(settings, manifest, name="auto")
            except EmbedError as exc:
                log.warning("live model unavailable (%s): quality is not compared", exc)
                old = None
            # the target model is a setting like any other (validated, cache dir, plugins)
            new = open_embedder(settings.with_overrides(embedder=to), cached=True)
            return migrate_model(
                store, settings.collection, new, apply=apply, old_embedder=old,
                lexical=default_lexical_encoder(), max_quality_drop=max_quality_drop,
            )  # fmt: skip
        finally:
            store.close()
