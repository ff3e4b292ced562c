"""Fixtures of the managers tests: the real manifest fixtures, an index on the Edge store."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from planvec.settings import Settings

MANIFESTS = Path(__file__).resolve().parent.parent / "fixtures" / "manifests"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A writable copy of tests/fixtures/manifests (five ecosystems, one planted conflict)."""
    target = tmp_path / "project"
    shutil.copytree(MANIFESTS, target)
    return target


@pytest.fixture
def settings(tmp_path: Path) -> Iterator[Settings]:
    """An embedded (Edge) index in a temp dir, embedded by the hashing embedder."""
    yield Settings(index_dir=tmp_path / "index", embedder="hashing", cache_dir=tmp_path / "cache")
