"""Collection aliases: a logical collection name that points at a physical collection.

Why: switching an index to another embedding model builds a second collection next to the
live one and then flips the name readers use, atomically, keeping the old collection for a
rollback (``planvec migrate-model``). On a Qdrant server this is a native collection alias
(``update_collection_aliases``). Qdrant Edge has no collection layer, so the embedded store
keeps the same mapping in one small JSON file, ``<index_dir>/collections/aliases.json``,
replaced atomically (temp file, fsync, rename): a reader sees the old or the new pointer.

``resolve_collection`` is what ``open_index`` calls: a store without aliases, or a name that
is not an alias, resolves to itself, so indexes created before aliases work exactly as before.
"""

from __future__ import annotations

import json
from pathlib import Path

from planvec.errors import StoreError
from planvec.store.base import SupportsAliases, VectorStore

ALIAS_FILE = "aliases.json"


def read_alias_file(root: Path) -> dict[str, str]:
    """The ``{alias: collection}`` mapping kept in ``root/aliases.json`` (empty when absent).

    Args:
        root: the Edge ``collections`` directory.

    Returns:
        The mapping.

    Raises:
        StoreError: the file exists but is not a JSON object of strings.
    """
    path = root / ALIAS_FILE
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        raise StoreError(
            f"alias file {path} is unreadable ({exc}): fix or delete it (then the collection "
            "names are used as they are; see docs/backup.md)"
        ) from exc
    aliases = data.get("aliases") if isinstance(data, dict) else None
    if not isinstance(aliases, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in aliases.items()
    ):
        raise StoreError(f"alias file {path} is damaged: fix or delete it")
    return dict(aliases)


def resolve_collection(store: VectorStore, name: str) -> str:
    """The physical collection behind ``name`` (``name`` itself when it is no alias).

    Args:
        store: any store; stores without alias support resolve every name to itself.
        name: the logical collection name (``--collection``).

    Returns:
        The collection to read and write.
    """
    if not isinstance(store, SupportsAliases):
        return name
    return store.aliases().get(name, name)


def serving_collection(
    store: VectorStore, logical: str, *, model: str, dimension: int
) -> str | None:
    """The physical collection that serves ``logical`` for ``model`` right now, if any.

    Why: a reader opened before ``planvec migrate-model`` switched ``logical`` holds an
    embedder of the old model. After the switch it must go on searching a complete
    collection of *its* model: the new live one when the models agree, else the one the
    switch kept for rollback (the live manifest's ``previous_collection``). ``None`` while
    nothing compatible exists (e.g. the instant a bare server collection becomes an alias).

    Args:
        store: the store.
        logical: the name users know (alias or collection).
        model: the reader's model family.
        dimension: the reader's vector dimension.

    Returns:
        A collection name whose manifest matches ``model`` and ``dimension``, or ``None``.
    """
    live = resolve_collection(store, logical)
    manifest = store.read_manifest(live)
    if manifest is None:
        return None
    candidates = [live, manifest.get("previous_collection")]
    for name in candidates:
        if not isinstance(name, str):
            continue
        found = manifest if name == live else store.read_manifest(name)
        if found and (found.get("model"), found.get("dimension")) == (model, dimension):
            return name
    return None
