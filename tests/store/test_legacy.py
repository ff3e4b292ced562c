"""Collections written by the legacy scripts (unnamed 1536-d vector, int ids) are readable."""

from __future__ import annotations

import random
import warnings
from pathlib import Path

import pytest

from planvec.store import Filter, MatchValue, SearchRequest, open_store

DIM = 1536


def write_legacy(path: Path, n: int = 24) -> list[list[float]]:
    """What the legacy scripts did: qdrant-client, ``roadmap_tasks``, unnamed vector, int ids."""
    from qdrant_client import QdrantClient, models

    rng = random.Random(3)
    vectors = [[rng.uniform(-1, 1) for _ in range(DIM)] for _ in range(n)]
    client = QdrantClient(path=str(path))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            client.create_collection(
                "roadmap_tasks",
                vectors_config=models.VectorParams(size=DIM, distance=models.Distance.COSINE),
            )
            for i, vector in enumerate(vectors):  # one point per call, as the scripts did
                client.upsert(
                    "roadmap_tasks",
                    [
                        models.PointStruct(
                            id=i + 1,
                            vector=vector,
                            payload={"task_id": f"1.{i}", "status": "done" if i % 4 else "todo"},
                        )
                    ],
                )
    finally:
        client.close()
    return vectors


def test_legacy_collection_is_readable(tmp_path: Path) -> None:
    legacy = tmp_path / "legacy_qdrant"
    vectors = write_legacy(legacy)
    store = open_store(index_dir=tmp_path / "index", qdrant_url=f"local://{legacy}")
    try:
        info = store.collection_info("roadmap_tasks")
        assert info is not None
        assert (info.points, info.dimension, info.named_vectors, info.sparse) == (
            24,
            DIM,
            False,
            False,
        )
        assert store.count("roadmap_tasks") == 24
        assert store.count("roadmap_tasks", Filter(must=(MatchValue("status", "todo"),))) == 6
        points = list(store.scroll("roadmap_tasks", with_vectors=True, batch_size=16))
        assert sorted(p.id for p in points) == list(range(1, 25))
        assert all(isinstance(p.id, int) for p in points)
        by_id = {p.id: p for p in points}
        assert by_id[5].payload == {"task_id": "1.4", "status": "todo"}
        vector = by_id[5].vector
        assert vector is not None and len(vector) == DIM
        dot = sum(a * b for a, b in zip(vector, vectors[4], strict=True))
        norms = (sum(a * a for a in vector) * sum(b * b for b in vectors[4])) ** 0.5
        assert dot / norms == pytest.approx(1.0, abs=1e-5)  # same direction (may be normalized)
        (one,) = store.retrieve("roadmap_tasks", [7], with_vectors=True)
        assert one.id == 7 and one.vector is not None
        hits = store.search("roadmap_tasks", SearchRequest(dense=vectors[9], limit=3))
        assert hits[0].id == 10
        assert store.read_manifest("roadmap_tasks") is None
    finally:
        store.close()
