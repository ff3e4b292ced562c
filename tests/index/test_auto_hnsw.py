"""A sync builds the HNSW search index itself once the collection is big enough
(planvec.hnsw); on Qdrant Edge, with the hashing embedder and a lowered threshold."""

from __future__ import annotations

from pathlib import Path

import pytest

from planvec import hnsw
from planvec.embed.hashing import HashingEmbedder
from planvec.index import Index
from planvec.store import open_store
from planvec.text.lexical import LexicalEncoder


def test_decision_table() -> None:
    small = hnsw.after_sync(None, hnsw.AUTO_HNSW_POINTS - 1, 500)
    assert not small.build and small.pending == 500
    first = hnsw.after_sync(small.record, hnsw.AUTO_HNSW_POINTS, 1)
    assert first.build  # never built
    built = first.built(1.5).record
    assert built["written_since_build"] == 0 and built["built_at"]
    points = 100_000
    few = hnsw.after_sync(built, points, int(points * hnsw.REBUILD_FRACTION) - 1)
    assert not few.build
    assert hnsw.after_sync(few.record, points, 1).build
    assert not hnsw.after_sync(built, points, 0).build  # a no-op never builds


def test_sync_builds_the_index_above_the_threshold(
    tmp_path: Path, plan_tree: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = open_store(index_dir=tmp_path / "index")
    built: list[str] = []
    real = store.optimize  # type: ignore[attr-defined]

    def counting(name: str) -> bool:
        built.append(name)
        return bool(real(name))

    monkeypatch.setattr(store, "optimize", counting)
    index = Index(store, HashingEmbedder(), lexical=LexicalEncoder())
    try:
        monkeypatch.setattr(hnsw, "AUTO_HNSW_POINTS", 1_000)
        index.sync(index.source([plan_tree]))
        assert built == [] and (index.manifest or {})["search_index"]["built_at"] is None
        monkeypatch.setattr(hnsw, "AUTO_HNSW_POINTS", 5)
        (plan_tree / "more.md").write_text("# More\n\n- [ ] Encore une tâche\n")
        index.sync(index.source([plan_tree]))
        assert built == ["planvec_tasks"]
        record = (index.manifest or {})["search_index"]
        assert record["built_at"] and record["points"] == index.count()
        index.sync(index.source([plan_tree]))  # nothing written: nothing built
        assert built == ["planvec_tasks"]
        hits = index.search("Encore une tâche", limit=1)
        assert hits and hits[0].plan == "more.md"
    finally:
        index.close()
