"""Store fixtures: one ``store`` fixture parametrized over every backend.

``edge`` (Qdrant Edge on disk), ``memory`` (qdrant-client in-memory), ``local``
(qdrant-client local mode on disk), plus ``server`` when ``--qdrant-url`` is given.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from planvec.store import VectorStore, open_store

BACKENDS = ["edge", "memory", "local", pytest.param("server", marks=pytest.mark.server)]


def make_store(
    backend: str, tmp_path: Path, config: pytest.Config, **kwargs: object
) -> VectorStore:
    """Open a store of ``backend`` in ``tmp_path`` (skip ``server`` without --qdrant-url)."""
    url: str | None
    if backend == "edge":
        url = None
    elif backend == "memory":
        url = "memory://"
    elif backend == "local":
        url = "local://"
    else:
        url = config.getoption("--qdrant-url")
        if not url:
            pytest.skip("no --qdrant-url given")
    kwargs.setdefault("base_delay", 0.001)
    kwargs.setdefault("retry_ceiling", 0.01)
    return open_store(index_dir=tmp_path / "index", qdrant_url=url, **kwargs)  # type: ignore[arg-type]


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    """The backend name under test (``server`` only with ``--qdrant-url``)."""
    return str(request.param)


@pytest.fixture
def store(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[VectorStore]:
    """A fresh store of each backend; closed after the test."""
    opened = make_store(backend, tmp_path, request.config)
    yield opened
    opened.close()


@pytest.fixture
def collection(backend: str) -> str:
    """A collection name unique per test (server runs share one Qdrant)."""
    return f"t_{uuid.uuid4().hex[:12]}"
