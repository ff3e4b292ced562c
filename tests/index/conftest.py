"""Fixtures for index/sync/search tests: small plan trees and indexes on real stores."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from planvec.embed.cache import CachedEmbedder, EmbeddingCache
from planvec.embed.hashing import HashingEmbedder
from planvec.index import Index
from planvec.store import open_store
from planvec.text.lexical import LexicalEncoder

ROADMAP = """\
# Roadmap v3

## Phase 1 : Fondations

- [ ] **1.1** Mettre en place la sauvegarde de la base de données
  - [x] **1.1.1** Écrire le script de dump PostgreSQL
  - [ ] **1.1.2** Planifier la rotation des sauvegardes
- [ ] **1.2** Configurer l'intégration continue
  ```bash
  - [ ] not a task inside a fence
  ```
- [x] **1.3** Choisir le moteur de recherche vectorielle

## Phase 2 : API

- [ ] **2.1** Write the API documentation
- [ ] **2.2** Add rate limiting to the public endpoints
"""

NOTES = """\
# Notes

- [ ] Review security policies
- [x] Archive old dashboards
"""


@pytest.fixture
def plan_tree(tmp_path: Path) -> Path:
    root = tmp_path / "plans"
    (root / "sub").mkdir(parents=True)
    (root / "roadmap.md").write_text(ROADMAP, encoding="utf-8")
    (root / "sub" / "notes.md").write_text(NOTES, encoding="utf-8")
    return root


@pytest.fixture(params=["edge", "memory"])
def store_factory(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Callable[[], object]]:
    """One store per test (Edge on disk, or qdrant-client's memory engine)."""
    url = None if request.param == "edge" else "memory://"
    store = open_store(index_dir=tmp_path / "index", qdrant_url=url)
    yield lambda: store
    store.close()


@pytest.fixture
def make_index(store_factory: Callable[[], object], tmp_path: Path) -> Callable[..., Index]:
    cache = EmbeddingCache(tmp_path / "cache" / "embeddings.sqlite")

    def make(embedder: object | None = None, cached: bool = True) -> Index:
        emb = embedder or HashingEmbedder()
        if cached:
            emb = CachedEmbedder(emb, cache)  # type: ignore[arg-type]
        return Index(store_factory(), emb, lexical=LexicalEncoder())  # type: ignore[arg-type]

    return make
