"""Fixtures for check/repair/quality tests: a small plan tree and indexes on real stores."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from planvec.embed.hashing import HashingEmbedder
from planvec.embedding_recipe import VOLATILE_FIELDS
from planvec.index import Index, sources_for
from planvec.store import open_store
from planvec.store.base import VectorStore
from planvec.text.lexical import LexicalEncoder

ROADMAP = """\
# Roadmap v3

## Phase 1 : Fondations

- [ ] **1.1** Mettre en place la sauvegarde de la base de données
  - [x] **1.1.1** Écrire le script de dump PostgreSQL
  - [ ] **1.1.2** Planifier la rotation des sauvegardes
- [ ] **1.2** Configurer l'intégration continue
- [x] **1.3** Choisir le moteur de recherche vectorielle

## Phase 2 : API

- [ ] **2.1** Write the API documentation
- [ ] **2.2** Add rate limiting to the public endpoints
"""

NOTES = """\
# Notes

- [ ] Review security policies
- [x] Archive old dashboards
- [ ] Traduire l'interface en espagnol
"""

OTHER = """\
# Autre plan

- [ ] Mettre en place la sauvegarde de la base de données
- [ ] Recruter un développeur frontend
"""


@pytest.fixture
def plan_tree(tmp_path: Path) -> Path:
    root = tmp_path / "plans"
    (root / "sub").mkdir(parents=True)
    (root / "roadmap.md").write_text(ROADMAP, encoding="utf-8")
    (root / "sub" / "notes.md").write_text(NOTES, encoding="utf-8")
    (root / "other.md").write_text(OTHER, encoding="utf-8")
    return root


@pytest.fixture(params=["edge", "memory"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[VectorStore]:
    """A real store: Qdrant Edge on disk, or qdrant-client's memory engine."""
    url = None if request.param == "edge" else "memory://"
    s = open_store(index_dir=tmp_path / "index", qdrant_url=url)
    yield s
    s.close()


def make_index(store: VectorStore, dimension: int = 384) -> Index:
    return Index(store, HashingEmbedder(dimension), lexical=LexicalEncoder())


@pytest.fixture
def index(store: VectorStore, plan_tree: Path) -> Index:
    """An index synced with ``plan_tree`` (hashing embedder)."""
    idx = make_index(store)
    idx.sync(sources_for([plan_tree]))
    return idx


Snapshot = dict[str, tuple[Any, ...]]


def _snapshot(index: Index) -> Snapshot:
    """Every point: payload without volatile fields, dense vector rounded, sparse vector."""
    out: Snapshot = {}
    for p in index.points.scroll(with_vectors=True):
        payload = {k: v for k, v in p.payload.items() if k not in VOLATILE_FIELDS}
        vector = tuple(round(x, 5) for x in p.vector or [])
        sparse = None
        if p.sparse is not None:
            sparse = (p.sparse.indices, tuple(round(v, 5) for v in p.sparse.values))
        out[str(p.id)] = (payload, vector, sparse, p.payload.get("payload_hash"))
    return out


@pytest.fixture
def clean_snapshot(plan_tree: Path, tmp_path: Path) -> Callable[[], Snapshot]:
    """The state a clean full index of ``plan_tree`` has (computed on demand)."""

    def build() -> Snapshot:
        s = open_store(index_dir=tmp_path / "clean-index")
        try:
            idx = make_index(s)
            idx.sync(sources_for([plan_tree]))
            return _snapshot(idx)
        finally:
            s.close()

    return build


@pytest.fixture
def snapshot() -> Callable[[Index], Snapshot]:
    """Function giving an index's comparable state (see ``_snapshot``)."""
    return _snapshot


@pytest.fixture
def new_index() -> Callable[..., Index]:
    """Function building an ``Index`` on a store with the hashing embedder."""
    return make_index
