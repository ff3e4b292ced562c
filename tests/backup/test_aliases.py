"""Alias support of the stores (the embedded alias file, Qdrant aliases) and its resolution."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from planvec.errors import CollectionNotFound, StoreError
from planvec.store.aliases import ALIAS_FILE, resolve_collection
from planvec.store.base import CollectionSpec, SupportsAliases, VectorStore

SPEC = CollectionSpec(dimension=4, sparse=False)


def test_set_move_delete_and_resolve(
    store_at: Callable[[str, str], VectorStore], backend: str
) -> None:
    store = store_at(backend, "a")
    assert isinstance(store, SupportsAliases)
    for name in ("tasks_v1", "tasks_v2"):
        store.ensure_collection(name, SPEC)
    assert resolve_collection(store, "tasks") == "tasks"  # no alias: the name itself
    store.set_alias("tasks", "tasks_v1")
    assert resolve_collection(store, "tasks") == "tasks_v1"
    store.set_alias("tasks", "tasks_v2")  # moved in one step
    assert store.aliases() == {"tasks": "tasks_v2"}
    store.delete_alias("tasks")
    store.delete_alias("tasks")  # idempotent
    assert resolve_collection(store, "tasks") == "tasks"
    assert sorted(store.list_collections()) == ["tasks_v1", "tasks_v2"]


def test_edge_alias_file_survives_reopen_and_is_validated(
    store_at: Callable[[str, str], VectorStore],
) -> None:
    store = store_at("edge", "b")
    store.ensure_collection("tasks_v1", SPEC)
    with pytest.raises(CollectionNotFound):
        store.set_alias("tasks", "missing")  # type: ignore[attr-defined]
    store.set_alias("tasks", "tasks_v1")  # type: ignore[attr-defined]
    store.ensure_collection("tasks", SPEC)  # an alias may shadow a collection directory
    assert resolve_collection(store, "tasks") == "tasks_v1"
    with pytest.raises(StoreError, match="is an alias"):
        store.set_alias("other", "tasks")  # type: ignore[attr-defined]
    root = store.root  # type: ignore[attr-defined]
    store.close()
    reopened = store_at("edge", "b")
    assert resolve_collection(reopened, "tasks") == "tasks_v1"
    (root / ALIAS_FILE).write_text("{not json", encoding="utf-8")
    with pytest.raises(StoreError, match="fix or delete it"):
        resolve_collection(reopened, "tasks")
