"""The index manifest: what built an index, checked every time it is opened.

A manifest is a small JSON document kept by the store beside the collection::

    {"schema_version": 1, "model": "all-MiniLM-L6-v2", "model_id": "...@onnx-fp32",
     "dimension": 384, "distance": "cosine", "lexical": "fr-en-v1",
     "created_at": "...", "updated_at": "...", "last_sync": {...}}

Opening an index whose model family, dimension or distance differs from the embedder in use
is refused (``IndexMismatch``) with the way out. A manifest from a newer planvec is refused;
an older one is upgraded by the ordered ``MIGRATIONS`` (each a named function).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from planvec.errors import IndexMismatch

SCHEMA_VERSION = 1

#: set when a sync starts and removed when it ends: present on an idle index, it says the
#: last sync was interrupted (killed, crashed) and the index may lag behind its plans
SYNC_MARKER = "sync_in_progress"

Manifest = dict[str, Any]

#: (from_version, name, function): applied in order to bring a manifest up to date.
MIGRATIONS: list[tuple[int, str, Callable[[Manifest], Manifest]]] = []


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def new_manifest(
    *, model: str, model_id: str, dimension: int, distance: str, lexical: str | None
) -> Manifest:
    """The manifest of a new index."""
    stamp = now_iso()
    return {
        "schema_version": SCHEMA_VERSION,
        "model": model,
        "model_id": model_id,
        "dimension": dimension,
        "distance": distance,
        "lexical": lexical,
        "created_at": stamp,
        "updated_at": stamp,
    }


def sync_started(manifest: Manifest, *, pid: int, root: str | None) -> Manifest:
    """``manifest`` marked as being synced (``SYNC_MARKER``), with the plans' root if known."""
    marked = dict(manifest)
    marked[SYNC_MARKER] = {"started_at": now_iso(), "pid": pid}
    if root is not None:
        marked["root"] = root
    return marked


def sync_recorded(manifest: Manifest, **facts: Any) -> Manifest:
    """``manifest`` after a finished sync: the marker removed, ``facts`` and the time set."""
    updated = {k: v for k, v in manifest.items() if k != SYNC_MARKER}
    updated.update(facts, updated_at=now_iso())
    return updated


def upgrade_manifest(manifest: Manifest) -> tuple[Manifest, list[str]]:
    """Apply pending migrations; returns the new manifest and the names applied."""
    version = int(manifest.get("schema_version", 0))
    if version > SCHEMA_VERSION:
        raise IndexMismatch(
            f"this index was written by a newer planvec (schema {version}, this planvec "
            f"reads up to {SCHEMA_VERSION}): upgrade planvec (pip install -U planvec)"
        )
    applied = []
    for from_version, name, migrate in MIGRATIONS:
        if version == from_version:
            manifest = migrate(dict(manifest))
            version = from_version + 1
            manifest["schema_version"] = version
            applied.append(name)
    return manifest, applied


def check_compatible(
    manifest: Manifest, *, model: str, dimension: int, distance: str, where: str
) -> None:
    """Refuse to use an index built with another model, dimension or distance."""
    built = (manifest.get("model"), manifest.get("dimension"), manifest.get("distance"))
    if built == (model, dimension, distance):
        return
    raise IndexMismatch(
        f"{where} was built with model {built[0]} ({built[1]}-d, {built[2]}), but this run "
        f"uses {model} ({dimension}-d, {distance}). Use the same --embedder as when it was "
        f"built, index into another --collection / --index, or switch models with "
        f"`planvec migrate-model`."
    )
