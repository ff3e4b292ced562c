"""Memory placement of a new Edge collection (docs/store.md, "Edge: memory").

The HNSW graph and the sparse index are memory-mapped and page-cache warmed (``cached``)
rather than copied onto the heap; the HNSW parameters stay Edge's defaults. Segments are
bounded: merges stop at ``SEGMENT_POINTS`` points' vectors, and the store optimizes a shard
(seals its appendable, heap-held segment) every ``segment_points`` upserted points.
"""

from __future__ import annotations

import json
from pathlib import Path

from planvec.store import open_store
from planvec.store.base import CollectionSpec, PointRecord, SparseVector
from planvec.store.edge import EdgeStore
from planvec.store.edge_convert import SEGMENT_POINTS
from planvec.store.observe import OperationEvent


def test_new_collection_maps_its_hnsw_graph_and_sparse_index(tmp_path: Path) -> None:
    store = open_store(index_dir=tmp_path)
    try:
        store.ensure_collection("c", CollectionSpec(dimension=4))
        point = PointRecord(
            id=1, vector=[0.5, 0.5, 0.5, 0.5], payload={}, sparse=SparseVector((3,), (1.0,))
        )
        store.upsert("c", [point])
        config = json.loads((tmp_path / "collections" / "c" / "edge_config.json").read_text())
        segments = [
            json.loads(p.read_text())["config"]
            for p in (tmp_path / "collections" / "c" / "segments").glob("*/segment.json")
        ]
    finally:
        store.close()
    assert config["hnsw_config"] == {
        "m": 16,
        "ef_construct": 100,
        "full_scan_threshold": 10000,
        "max_indexing_threads": 0,
        "memory": "cached",
    }
    assert config["sparse_vectors"]["lexical"]["memory"] == "cached"
    assert "memory" not in config["vectors"]["dense"]  # Edge's default (cached) for vectors
    assert segments and all(
        s["sparse_vector_data"]["lexical"]["index"]["memory"] == "cached" for s in segments
    )


class _Events:
    def __init__(self) -> None:
        self.operations: list[tuple[str, int]] = []

    def on_operation(self, event: OperationEvent) -> None:
        self.operations.append((event.operation, event.points))


def _points(start: int, count: int) -> list[PointRecord]:
    return [
        PointRecord(id=i, vector=[1.0, float(i), 0.5, 0.25], payload={"n": i})
        for i in range(start, start + count)
    ]


def test_new_collection_caps_the_points_a_merge_puts_in_one_segment(tmp_path: Path) -> None:
    store = open_store(index_dir=tmp_path)
    try:
        store.ensure_collection("c", CollectionSpec(dimension=384))
        config = json.loads((tmp_path / "collections" / "c" / "edge_config.json").read_text())
    finally:
        store.close()
    # SEGMENT_POINTS points of 384 floats and a sparse vector, in KB
    assert config["optimizers"]["max_segment_size"] == SEGMENT_POINTS * (4 * 384 + 256) // 1024


def test_the_store_optimizes_a_shard_every_segment_points_upserted(tmp_path: Path) -> None:
    events = _Events()
    store = EdgeStore(tmp_path, observer=events, batch_points=2, segment_points=5)
    try:
        store.ensure_collection("c", CollectionSpec(dimension=4, sparse=False))
        store.upsert("c", _points(0, 3))
        assert ("optimize", 5) not in events.operations
        store.upsert("c", _points(3, 3))  # 6 upserted: sealed once
        store.upsert("c", _points(6, 3))  # 3 since
        sealed = [e for e in events.operations if e[0] == "optimize"]
        store.upsert("c", _points(9, 2))  # 5 since: sealed again
        assert store.count("c") == 11
    finally:
        store.close()
    assert sealed == [("optimize", 6)]
    assert [e for e in events.operations if e[0] == "optimize"] == [
        ("optimize", 6),
        ("optimize", 5),
    ]


def test_an_explicit_optimize_restarts_the_count(tmp_path: Path) -> None:
    events = _Events()
    store = EdgeStore(tmp_path, observer=events, segment_points=5)
    try:
        store.ensure_collection("c", CollectionSpec(dimension=4, sparse=False))
        store.upsert("c", _points(0, 4))
        store.optimize("c")
        store.upsert("c", _points(4, 4))  # 4 since the optimize: not sealed
        unsealed = EdgeStore(tmp_path / "other", observer=events, segment_points=None)
        unsealed.ensure_collection("c", CollectionSpec(dimension=4, sparse=False))
        unsealed.upsert("c", _points(0, 50))  # segment_points=None: never by itself
        unsealed.close()
    finally:
        store.close()
    assert [e for e in events.operations if e[0] == "optimize"] == [("optimize", 0)]


def test_warm_reads_every_payload_once_and_stops_when_asked(tmp_path: Path) -> None:
    """The owner's search warm-up (``EdgeStore.warm``): one pass over every point, page by
    page, that can be stopped between pages and changes nothing."""
    store = open_store(index_dir=tmp_path)
    assert isinstance(store, EdgeStore)
    try:
        store.ensure_collection("c", CollectionSpec(dimension=4))
        assert store.warm("c") == 0
        store.upsert("c", _points(0, 250))
        before = sorted((p.id, p.payload["n"]) for p in store.scroll("c"))
        assert store.warm("c", batch_size=64) == 250
        asked: list[int] = []

        def stop() -> bool:
            asked.append(1)
            return len(asked) > 2  # two pages, then stop

        assert store.warm("c", stop=stop, batch_size=64) == 128
        assert sorted((p.id, p.payload["n"]) for p in store.scroll("c")) == before
        assert store.count("c") == 250
    finally:
        store.close()
