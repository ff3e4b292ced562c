"""The VectorStore contract, checked on every backend (edge, memory, local, server)."""

from __future__ import annotations

import math
import uuid
from dataclasses import replace
from typing import Any

import pytest

from planvec.errors import CollectionNotFound, IndexMismatch, StoreError
from planvec.records import point_id
from planvec.store import (
    CollectionSpec,
    Filter,
    MatchAny,
    MatchText,
    MatchValue,
    PointRecord,
    SearchRequest,
    SparseVector,
    VectorStore,
)

DIM = 8
SPEC = CollectionSpec(
    dimension=DIM,
    keyword_fields=("status", "plan", "tags"),
    integer_fields=("line",),
    bool_fields=("checked",),
    text_fields=("text",),
)
TEXTS = [
    "Mettre en place la Sauvegarde de la base",
    "Écrire l'API REST (v2) et sa documentation",
    "Planifier la rotation des sauvegardes",
    "Base de données : migration PostgreSQL",
    "Write the API documentation",
    "Add rate limiting to the public endpoints",
]


def vec(i: int) -> list[float]:
    """A deterministic unit-ish vector, distinct per i."""
    return [math.cos(i * 0.7 + k) + (1.5 if k == i % DIM else 0.0) for k in range(DIM)]


def make_points(n: int = 6) -> list[PointRecord]:
    return [
        PointRecord(
            id=point_id("plan.md", str(i)),
            vector=vec(i),
            payload={
                "status": "done" if i % 3 == 0 else "todo",
                "plan": f"plan{i % 2}.md",
                "line": i,
                "checked": i % 3 == 0,
                "tags": ["backup", "db"] if i < 3 else ["api"],
                "text": TEXTS[i % len(TEXTS)],
            },
            sparse=SparseVector(indices=(i, 100 + i % 2), values=(1.0, 0.5)),
        )
        for i in range(n)
    ]


@pytest.fixture
def filled(store: VectorStore, collection: str) -> list[PointRecord]:
    store.ensure_collection(collection, SPEC)
    points = make_points()
    assert store.upsert(collection, points) == len(points)
    return points


def ids_of(hits: Any) -> list[Any]:
    return [h.id for h in hits]


def test_ensure_collection_creates_and_validates(store: VectorStore, collection: str) -> None:
    assert store.collection_info(collection) is None
    store.ensure_collection(collection, SPEC)
    store.ensure_collection(collection, SPEC)  # idempotent
    info = store.collection_info(collection)
    assert info is not None
    assert (info.dimension, info.distance, info.sparse, info.named_vectors) == (
        DIM,
        "cosine",
        True,
        True,
    )
    assert info.points == 0
    assert collection in store.list_collections()
    with pytest.raises(IndexMismatch, match="rebuild"):
        store.ensure_collection(collection, CollectionSpec(dimension=DIM + 1))


def test_upsert_retrieve_roundtrip(
    store: VectorStore, collection: str, filled: list[PointRecord]
) -> None:
    got = {p.id: p for p in store.retrieve(collection, [p.id for p in filled], with_vectors=True)}
    assert set(got) == {p.id for p in filled}
    for p in filled:
        assert got[p.id].payload == p.payload
        assert got[p.id].sparse == p.sparse
        assert got[p.id].vector is not None and len(got[p.id].vector or []) == DIM
    without = store.retrieve(collection, [filled[0].id])
    assert without[0].vector is None
    missing = store.retrieve(collection, [str(uuid.uuid4())])
    assert missing == []


def test_payload_selection_of_retrieve_and_search(
    store: VectorStore, collection: str, filled: list[PointRecord]
) -> None:
    """Only the asked payload keys come back; ``()`` asks for none (ids and scores only)."""
    ids = [p.id for p in filled[:3]]
    some = store.retrieve(collection, ids, payload_fields=("status",))
    assert {p.id: p.payload for p in some} == {
        p.id: {"status": p.payload["status"]} for p in filled[:3]
    }
    assert all(p.payload == {} for p in store.retrieve(collection, ids, payload_fields=()))
    sparse = SparseVector(indices=(100,), values=(1.0,))
    for request in (SearchRequest(dense=vec(2), limit=4), SearchRequest(sparse=sparse, limit=4)):
        whole = store.search(collection, request)
        bare = store.search(collection, replace(request, payload_fields=()))
        assert [(h.id, h.score) for h in bare] == [(h.id, h.score) for h in whole]
        assert whole[0].payload and all(h.payload == {} for h in bare)


def test_upsert_replaces_and_is_idempotent(
    store: VectorStore, collection: str, filled: list[PointRecord]
) -> None:
    store.upsert(collection, filled)
    assert store.count(collection) == len(filled)
    changed = PointRecord(id=filled[1].id, vector=vec(40), payload={"status": "new"})
    store.upsert(collection, [changed])
    (got,) = store.retrieve(collection, [filled[1].id], with_vectors=True)
    assert got.payload == {"status": "new"}
    assert got.sparse is None  # replaced point has no sparse vector any more
    assert store.count(collection) == len(filled)


def test_count_and_filters(store: VectorStore, collection: str, filled: list[PointRecord]) -> None:
    def expect(flt: Filter) -> set[Any]:
        return {p.id for p in filled if _matches(p.payload, flt)}

    filters = [
        Filter(must=(MatchValue("status", "todo"),)),
        Filter(must=(MatchValue("checked", True),)),
        Filter(must=(MatchValue("line", 4),)),
        Filter(must=(MatchValue("tags", "api"),)),
        Filter(must=(MatchAny("plan", ("plan0.md",)),)),
        Filter(must=(MatchAny("line", (1, 2, 99)),)),
        Filter(must_not=(MatchValue("status", "todo"),)),
        Filter(must=(MatchText("text", "SAUVEGARDE base"),)),
        Filter(must=(MatchText("text", "documentation api"),)),
        Filter(must=(MatchText("text", "sauve"),)),
        Filter(must=(MatchValue("status", "todo"),), must_not=(MatchText("text", "api"),)),
    ]
    for flt in filters:
        want = expect(flt)
        assert store.count(collection, flt) == len(want), flt
        assert {p.id for p in store.scroll(collection, filter=flt)} == want, flt
    assert store.count(collection) == len(filled)


def _matches(payload: dict[str, Any], flt: Filter) -> bool:
    def one(cond: Any) -> bool:
        value = payload.get(cond.key)
        values = value if isinstance(value, list) else [value]
        if isinstance(cond, MatchValue):
            return any(v == cond.value and type(v) is type(cond.value) for v in values)
        if isinstance(cond, MatchAny):
            return any(v in cond.values for v in values)
        words = set("".join(c if c.isalnum() else " " for c in str(value).lower()).split())
        query = "".join(c if c.isalnum() else " " for c in cond.text.lower()).split()
        return bool(query) and all(w in words for w in query)

    return all(one(c) for c in flt.must) and not any(one(c) for c in flt.must_not)


def test_dense_search_orders_and_filters(
    store: VectorStore, collection: str, filled: list[PointRecord]
) -> None:
    hits = store.search(collection, SearchRequest(dense=vec(2), limit=3))
    assert len(hits) == 3
    assert hits[0].id == filled[2].id
    assert hits[0].payload == filled[2].payload
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
    todo = Filter(must=(MatchValue("status", "todo"),))
    hits = store.search(collection, SearchRequest(dense=vec(3), filter=todo, limit=10))
    assert {h.id for h in hits} == {p.id for p in filled if p.payload["status"] == "todo"}
    text = Filter(must=(MatchText("text", "documentation"),))
    hits = store.search(collection, SearchRequest(dense=vec(0), filter=text, limit=10))
    assert {h.id for h in hits} == {filled[1].id, filled[4].id}
    with_vec = store.search(collection, SearchRequest(dense=vec(2), limit=1, with_vectors=True))
    assert with_vec[0].vector is not None and len(with_vec[0].vector) == DIM


def test_sparse_and_hybrid_search(
    store: VectorStore, collection: str, filled: list[PointRecord]
) -> None:
    sparse = SparseVector(indices=(3,), values=(1.0,))
    hits = store.search(collection, SearchRequest(sparse=sparse, limit=5))
    assert ids_of(hits) == [filled[3].id]  # only point 3 has term 3
    both = SparseVector(indices=(100,), values=(1.0,))
    hits = store.search(collection, SearchRequest(sparse=both, limit=10))
    assert {h.id for h in hits} == {p.id for i, p in enumerate(filled) if i % 2 == 0}
    hybrid = store.search(collection, SearchRequest(dense=vec(2), sparse=sparse, limit=3))
    assert len(hybrid) == 3
    top = {hybrid[0].id, hybrid[1].id}
    assert filled[2].id in top and filled[3].id in top  # best of each side
    # RRF score of the dense winner: 1/(k+1) from dense plus whatever sparse gave it
    assert hybrid[0].score == pytest.approx(1 / 61, rel=1e-3) or hybrid[0].score > 1 / 61
    weighted = store.search(
        collection, SearchRequest(dense=vec(2), sparse=sparse, limit=2, weights=(1.0, 3.0))
    )
    assert weighted[0].id == filled[3].id  # sparse side weighted up wins
    done = Filter(must=(MatchValue("status", "done"),))
    filtered = store.search(
        collection, SearchRequest(dense=vec(2), sparse=sparse, filter=done, limit=10)
    )
    assert filtered and all(h.payload["status"] == "done" for h in filtered)


def test_hybrid_scores_match_rrf_formula(
    store: VectorStore, collection: str, filled: list[PointRecord]
) -> None:
    sparse = SparseVector(indices=(3,), values=(1.0,))
    dense_rank = ids_of(store.search(collection, SearchRequest(dense=vec(2), limit=50)))
    sparse_rank = ids_of(store.search(collection, SearchRequest(sparse=sparse, limit=50)))
    hits = store.search(
        collection, SearchRequest(dense=vec(2), sparse=sparse, limit=10, weights=(1.0, 2.0))
    )
    for hit in hits:
        want = 0.0
        for ranking, w in ((dense_rank, 1.0), (sparse_rank, 2.0)):
            if hit.id in ranking:
                want += 1.0 / ((ranking.index(hit.id) + 1) / w + 60 - 1)
        assert hit.score == pytest.approx(want, rel=1e-4)


def test_delete_by_ids_and_filter(
    store: VectorStore, collection: str, filled: list[PointRecord]
) -> None:
    store.delete(collection, ids=[filled[0].id, str(uuid.uuid4())])
    assert store.count(collection) == len(filled) - 1
    store.delete(collection, filter=Filter(must=(MatchValue("plan", "plan1.md"),)))
    left = {p.id for p in store.scroll(collection)}
    assert left == {p.id for i, p in enumerate(filled) if i % 2 == 0 and i != 0}
    store.delete(collection, ids=[filled[0].id])  # idempotent
    store.delete(collection)  # nothing asked, nothing done
    assert store.count(collection) == len(left)


def test_set_payload_keeps_vectors(
    store: VectorStore, collection: str, filled: list[PointRecord]
) -> None:
    (before,) = store.retrieve(collection, [filled[2].id], with_vectors=True)
    ghost = str(uuid.uuid4())
    store.set_payload(collection, {filled[2].id: {"status": "done", "x": 1}, ghost: {"a": 1}})
    (after,) = store.retrieve(collection, [filled[2].id], with_vectors=True)
    assert after.payload == {"status": "done", "x": 1}
    assert after.vector == before.vector and after.sparse == before.sparse
    assert store.retrieve(collection, [ghost]) == []  # missing ids are not created
    assert store.count(collection, Filter(must=(MatchValue("status", "done"),))) == 3


def test_set_payload_merge_keeps_other_keys_and_vectors(
    store: VectorStore, collection: str, filled: list[PointRecord]
) -> None:
    (before,) = store.retrieve(collection, [filled[3].id], with_vectors=True)
    store.set_payload(collection, {filled[3].id: {"line": 999, "new": "x"}}, merge=True)
    (after,) = store.retrieve(collection, [filled[3].id], with_vectors=True)
    assert after.payload == {**before.payload, "line": 999, "new": "x"}
    assert after.vector == before.vector and after.sparse == before.sparse


def test_scroll_pages_and_selects(
    store: VectorStore, collection: str, filled: list[PointRecord]
) -> None:
    many = [
        PointRecord(id=point_id("many", str(i)), vector=vec(i), payload={"n": i, "plan": "m"})
        for i in range(250)
    ]
    store.upsert(collection, many)
    seen = list(store.scroll(collection, batch_size=64))
    assert len(seen) == len({p.id for p in seen}) == 256
    only = list(store.scroll(collection, filter=Filter(must=(MatchValue("plan", "m"),))))
    assert len(only) == 250
    sel = next(iter(store.scroll(collection, with_payload=["plan"], with_vectors=True)))
    assert set(sel.payload) <= {"plan"} and sel.vector is not None


def test_manifest_roundtrip(store: VectorStore, collection: str) -> None:
    assert store.read_manifest(collection) is None
    store.ensure_collection(collection, SPEC)
    store.write_manifest(collection, {"model": "m", "dim": DIM, "nested": {"a": [1, 2]}})
    assert store.read_manifest(collection) == {"model": "m", "dim": DIM, "nested": {"a": [1, 2]}}
    store.write_manifest(collection, {"model": "m2"})
    assert store.read_manifest(collection) == {"model": "m2"}  # replaced, not merged
    assert store.list_collections().count(collection) == 1  # side data stays hidden
    store.drop_collection(collection)
    assert store.read_manifest(collection) is None
    assert store.collection_info(collection) is None
    store.drop_collection(collection)  # no error when missing


def test_missing_collection_and_bad_input(store: VectorStore, collection: str) -> None:
    with pytest.raises(CollectionNotFound):
        store.count(collection)
    with pytest.raises(CollectionNotFound):
        store.upsert(collection, make_points(1))
    store.ensure_collection(collection, SPEC)
    with pytest.raises(StoreError, match="dimensions"):
        store.upsert(collection, [PointRecord(id=point_id("x"), vector=[1.0, 2.0], payload={})])
    with pytest.raises(StoreError, match="invalid point id"):
        store.retrieve(collection, ["not-a-uuid"])
    with pytest.raises(StoreError, match="NaN"):
        store.upsert(
            collection, [PointRecord(id=point_id("x"), vector=[math.nan] * DIM, payload={})]
        )
    with pytest.raises(StoreError, match="dense vector"):
        store.search(collection, SearchRequest())
    assert store.count(collection) == 0


def test_health_and_close(store: VectorStore, collection: str) -> None:
    store.ensure_collection(collection, SPEC)
    health = store.health()
    assert health.ok, health.detail
    assert collection in health.collections
    store.close()
    store.close()  # idempotent


def test_aliases_switch_atomically(store: VectorStore, backend: str, collection: str) -> None:
    if backend == "edge":
        pytest.skip("aliases are a server feature (Edge has no collection layer)")
    set_alias = store.set_alias  # type: ignore[attr-defined]
    store.ensure_collection(collection + "_v1", SPEC)
    store.ensure_collection(collection + "_v2", SPEC)
    store.upsert(collection + "_v1", make_points(2))
    set_alias(collection, collection + "_v1")
    assert store.count(collection) == 2
    set_alias(collection, collection + "_v2")
    assert store.count(collection) == 0
    assert store.aliases()[collection] == collection + "_v2"  # type: ignore[attr-defined]
