"""Fixtures for backup/migration tests: a small plan tree and indexes on real stores."""

from __future__ import annotations

import importlib.util
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType

import pytest

from planvec.embed.base import Embedder
from planvec.embed.hashing import HashingEmbedder
from planvec.index import Index, sources_for
from planvec.store import open_store
from planvec.store.base import VectorStore
from planvec.text.lexical import LexicalEncoder

REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO / "tests" / "fixtures"
LEGACY_ARCHIVE = FIXTURES / "legacy" / "roadmap_tasks.planvec.tar"
LEGACY_EXPECTED = FIXTURES / "legacy" / "expected.json"

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
- [ ] **2.2** Add rate limiting to the public endpoints (P1, 2d)
- [ ] Review security policies
"""


@pytest.fixture
def plan_tree(tmp_path: Path) -> Path:
    root = tmp_path / "plans"
    root.mkdir()
    (root / "roadmap.md").write_text(ROADMAP, encoding="utf-8")
    for name in ("nesting.md", "metadata.md"):
        shutil.copy(FIXTURES / "plans" / name, root / name)
    return root


@pytest.fixture(params=["edge", "memory"])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def store_at(tmp_path: Path) -> Iterator[Callable[[str, str], VectorStore]]:
    """Open stores (``edge`` in ``tmp_path/<name>``, or ``memory``); all closed at the end."""
    opened: list[VectorStore] = []

    def make(backend: str, name: str = "index") -> VectorStore:
        url = None if backend == "edge" else "memory://"
        store = open_store(index_dir=tmp_path / name, qdrant_url=url)
        opened.append(store)
        return store

    yield make
    for store in opened:
        store.close()


def make_index(
    store: VectorStore, embedder: Embedder | None = None, collection: str = "planvec_tasks"
) -> Index:
    return Index(
        store,
        embedder or HashingEmbedder(),
        collection=collection,  # type: ignore[arg-type]
        lexical=LexicalEncoder(),
    )


@pytest.fixture
def indexed(store_at: Callable[[str, str], VectorStore], plan_tree: Path, backend: str) -> Index:
    """An index of ``plan_tree`` on the parametrized backend."""
    index = make_index(store_at(backend, "source"))
    index.sync(sources_for([plan_tree]))
    return index


def load_legacy_builder() -> ModuleType:
    """``scripts/make_legacy_fixture.py`` as a module (it is a script, not a package)."""
    path = REPO / "scripts" / "make_legacy_fixture.py"
    spec = importlib.util.spec_from_file_location("make_legacy_fixture", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
