"""The Index API operations use instead of the store: points, admin, manifest, health."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from planvec.index import Index, sources_for
from planvec.store.base import (
    AliasStore,
    CollectionAdmin,
    DataStore,
    Filter,
    ManifestStore,
    MatchValue,
    SearchRequest,
    VectorStore,
)

IndexFactory = Callable[..., Index]


def test_every_backend_implements_the_narrow_seams(make_index: IndexFactory) -> None:
    store = make_index().admin
    for seam in (DataStore, CollectionAdmin, ManifestStore, VectorStore, AliasStore):
        assert isinstance(store, seam), seam.__name__


def test_points_read_write_and_delete_through_the_index(
    make_index: IndexFactory, plan_tree: Path
) -> None:
    index = make_index()
    index.sync(sources_for([plan_tree]))
    total = index.count()
    points = list(index.points.scroll(with_vectors=True))
    assert len(points) == total == index.points.count() > 3
    first = points[0]
    assert [p.id for p in index.points.retrieve([first.id])] == [first.id]
    hits = index.points.search(SearchRequest(dense=first.vector, limit=1))
    assert str(hits[0].id) == str(first.id)

    index.points.set_payloads({first.id: {"status": "blocked"}}, merge=True)
    (again,) = index.points.retrieve([first.id])
    assert again.payload["status"] == "blocked" and again.payload["text"] == first.payload["text"]

    notes = index.points.count(Filter(must=(MatchValue("plan", "sub/notes.md"),)))
    assert index.points.delete_plans(["sub/notes.md"]) == notes > 0
    assert index.points.delete([first.id]) == 1
    assert index.points.count() == total - notes - (first.payload["plan"] != "sub/notes.md")


def test_manifest_health_and_drop(make_index: IndexFactory, plan_tree: Path) -> None:
    index = make_index()
    assert index.collection_info() is None and index.stored_manifest() is None
    index.sync(sources_for([plan_tree]))
    info = index.collection_info()
    assert info is not None and info.dimension == index.embedder.dimension
    stored = index.stored_manifest()
    assert stored is not None and stored["model"] == index.embedder.family
    assert index.store_health().ok
    index.drop()
    assert index.collection_info() is None and index.count() == 0
