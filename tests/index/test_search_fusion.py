"""Hybrid search fuses both sides: a task only the lexical side finds and a task only the
dense side finds both surface, on the real stores (Qdrant Edge and qdrant-client memory).

The dense side is a tiny "concept" embedder (a stand-in for a sentence model that knows
``car`` and ``automobile`` mean the same thing); the lexical side is planvec's real
``LexicalEncoder``, which cannot know that.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import pytest

from planvec.errors import ConfigError
from planvec.index import Index, sources_for
from planvec.search import Searcher
from planvec.text.lexical import LexicalEncoder

# word -> concept weights over 3 dimensions; a text with no known word points along a 4th
_CONCEPTS = {
    "car": (1.0, 0.0, 0.0),
    "cars": (1.0, 0.0, 0.0),
    "automobile": (1.0, 0.0, 0.0),
    "truck": (0.6, 0.8, 0.0),
    "road": (0.3, 0.0, 0.95),
    "bicycle": (0.2, 0.9, 0.3),
}


class ConceptEmbedder:
    """Embeds a text as the sum of its words' concept vectors (synonyms coincide)."""

    family = "test-concepts"
    model_id = "test-concepts-4"
    dimension = 4

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        out = np.zeros((len(texts), 4), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in re.findall(r"\w+", text.lower()):
                if word in _CONCEPTS:
                    out[row, :3] += np.asarray(_CONCEPTS[word], dtype=np.float32)
            if not out[row].any():
                out[row, 3] = 1.0  # no known concept: orthogonal to every concept
            out[row] /= float(np.linalg.norm(out[row]))
        return out


PLAN = """\
# Fleet

- [ ] Register the automobile fleet
- [ ] Renew licence XJ-4471 before March
- [ ] Plan truck maintenance
- [ ] Repaint the road markings
- [ ] Buy a bicycle rack
- [ ] Order office chairs
- [ ] Write the quarterly report
"""

SEMANTIC_ONLY = "Register the automobile fleet"  # no shared word with the query
LEXICAL_ONLY = "Renew licence XJ-4471 before March"  # shares "XJ-4471", no concept


@pytest.fixture
def fleet_index(tmp_path: Path, store_factory: Callable[[], object]) -> Index:
    root = tmp_path / "fleet"
    root.mkdir()
    (root / "fleet.md").write_text(PLAN, encoding="utf-8")
    index = Index(
        store_factory(),  # type: ignore[arg-type]
        ConceptEmbedder(),  # type: ignore[arg-type]
        lexical=LexicalEncoder(),
    )
    report = index.sync(sources_for([root]))
    assert report.tasks == 7
    return index


QUERY = "car XJ-4471"


def texts(hits: Sequence[object]) -> list[str]:
    return [h.text for h in hits]  # type: ignore[attr-defined]


def test_each_side_alone_misses_one_task(fleet_index: Index) -> None:
    dense = texts(fleet_index.search(QUERY, mode="dense", limit=3))
    sparse = texts(fleet_index.search(QUERY, mode="sparse", limit=3))
    assert dense[0] == SEMANTIC_ONLY and LEXICAL_ONLY not in dense
    assert sparse == [LEXICAL_ONLY]  # the only task sharing a token with the query


def test_hybrid_surfaces_both(fleet_index: Index) -> None:
    top2 = texts(fleet_index.search(QUERY, mode="hybrid", limit=2))
    assert sorted(top2) == sorted([SEMANTIC_ONLY, LEXICAL_ONLY])


@pytest.mark.parametrize(
    ("weights", "first"), [((1.0, 1.5), LEXICAL_ONLY), ((1.5, 1.0), SEMANTIC_ONLY)]
)
def test_fusion_weights_order_the_sides(
    fleet_index: Index, weights: tuple[float, float], first: str
) -> None:
    searcher = Searcher(
        fleet_index.admin,
        fleet_index.collection,
        fleet_index.embedder,
        lexical=fleet_index.lexical,
        known_plans=lambda: ["fleet.md"],
        weights=weights,
        prefetch_limit=3,  # else every task of this tiny plan is a dense candidate
    )
    hits = texts(searcher.search(QUERY, mode="hybrid", limit=2))
    # the heavier side's best hit comes first; the other side's best still comes second
    assert hits[0] == first and set(hits) == {SEMANTIC_ONLY, LEXICAL_ONLY}


def test_bad_fusion_settings_are_rejected(fleet_index: Index) -> None:
    with pytest.raises(ConfigError):
        Searcher(
            fleet_index.admin,
            fleet_index.collection,
            fleet_index.embedder,
            lexical=None,
            known_plans=list,
            weights=(0.0, 0.0),
        )


def test_index_without_sparse_vectors_is_upgraded_not_half_searched(
    tmp_path: Path, store_factory: Callable[[], object]
) -> None:
    from planvec.errors import IndexMismatch

    root = tmp_path / "fleet"
    root.mkdir()
    (root / "fleet.md").write_text(PLAN, encoding="utf-8")
    store = store_factory()
    old = Index(store, ConceptEmbedder(), lexical=None)  # type: ignore[arg-type]
    old.sync(sources_for([root]))
    assert old.manifest is not None and old.manifest.get("lexical") is None

    new = Index(store, ConceptEmbedder(), lexical=LexicalEncoder())  # type: ignore[arg-type]
    for mode in ("hybrid", "sparse"):
        with pytest.raises(IndexMismatch, match="planvec index"):
            new.search(QUERY, mode=mode)
    assert texts(new.search(QUERY, mode="dense", limit=1)) == [SEMANTIC_ONLY]

    report = new.sync(sources_for([root]))  # what `planvec index PATH` runs
    assert report.updated == 7  # every point gets its sparse vector
    assert new.manifest is not None and new.manifest.get("lexical") == new.lexical.version  # type: ignore[union-attr]
    assert sorted(texts(new.search(QUERY, mode="hybrid", limit=2))) == sorted(
        [SEMANTIC_ONLY, LEXICAL_ONLY]
    )


class _RecordingStore:
    """The real store, recording the payload keys each search asked for."""

    def __init__(self, store: object) -> None:
        self._store = store
        self.asked: list[tuple[str, ...] | None] = []

    def search(self, name: str, request: object) -> object:
        self.asked.append(request.payload_fields)  # type: ignore[attr-defined]
        return self._store.search(name, request)  # type: ignore[attr-defined]

    def __getattr__(self, name: str) -> object:
        return getattr(self._store, name)


def test_hybrid_sides_fetch_no_payload_and_the_hits_whole_payloads(fleet_index: Index) -> None:
    """The sides return no payload (ties are read apart); the fused hits are read whole."""
    store = _RecordingStore(fleet_index.admin)
    searcher = Searcher(
        store,  # type: ignore[arg-type]
        fleet_index.collection,
        fleet_index.embedder,
        lexical=fleet_index.lexical,
        known_plans=lambda: ["fleet.md"],
    )
    hits = searcher.search(QUERY, mode="hybrid", limit=2, collapse=False)
    assert store.asked == [(), ()]
    whole = fleet_index.search(QUERY, mode="dense", limit=7, collapse=False)
    by_id = {hit.id: hit for hit in whole}
    assert sorted(texts(hits)) == sorted([SEMANTIC_ONLY, LEXICAL_ONLY])
    for hit in hits:  # the same payload a single-side search returns
        assert hit.payload == by_id[hit.id].payload and hit.section == ("Fleet",)
