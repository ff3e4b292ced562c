"""Memory placement of a new Edge collection (docs/store.md, "Memory").

The HNSW graph and the sparse index are memory-mapped and page-cache warmed (``cached``)
rather than copied onto the heap; the HNSW parameters stay Edge's defaults.
"""

from __future__ import annotations

import json
from pathlib import Path

from planvec.store import open_store
from planvec.store.base import CollectionSpec, PointRecord, SparseVector


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
