"""Shared fixtures: a clean environment, temp home/cache, the shared corpus, store options."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"
CORPUS = SHARED / "corpus"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--qdrant-url",
        default=None,
        help="Also run the store contract suite against this real Qdrant server.",
    )
    parser.addoption(
        "--reliability-full",
        action="store_true",
        default=False,
        help="Run the full crash loop (>= 50 kills) instead of the shortened one.",
    )


@pytest.fixture(autouse=True)
def _clean_env(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """No PLANVEC_* leaks in from the developer's shell; home and cache are temporary."""
    for key in list(os.environ):
        if key.startswith("PLANVEC_") or key == "QDRANT_API_KEY":
            monkeypatch.delenv(key, raising=False)
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CACHE_HOME", str(home / ".cache"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("TRANSFORMERS_OFFLINE", "1")


@pytest.fixture
def corpus_dir() -> Iterator[Path]:
    """The shared real-plan corpus; the test skips cleanly when it is absent."""
    plans = CORPUS / "plans"
    if not plans.is_dir():
        pytest.skip("../shared/corpus is not available")
    yield plans


@pytest.fixture
def golden_dir() -> Iterator[Path]:
    golden = CORPUS / "golden"
    if not golden.is_dir():
        pytest.skip("../shared/corpus/golden is not available")
    yield golden
