"""Shared pieces of the reliability suite: the figures collector and a small test corpus.

Every reliability test records what it survived (kills, injected faults, fuzzed inputs,
concurrent operations, points lost) in the session-wide ``figures`` dict. When the
environment variable ``RELIABILITY_FIGURES`` names a file, the figures are written there as
JSON at the end of the session; docs/reliability.md quotes such a run.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
CORPUS = REPO.parent / "shared" / "corpus" / "plans"

_FIGURES: dict[str, dict[str, Any]] = {}
_TARGET = os.environ.get("RELIABILITY_FIGURES")  # read at import, before _clean_env runs


class Figures:
    """Counters per test area (``add``) and free-form facts (``note``)."""

    def __init__(self, store: dict[str, dict[str, Any]]) -> None:
        self._store = store

    def add(self, area: str, key: str, amount: int = 1) -> None:
        bucket = self._store.setdefault(area, {})
        bucket[key] = int(bucket.get(key, 0)) + amount

    def note(self, area: str, key: str, value: Any) -> None:
        self._store.setdefault(area, {})[key] = value


@pytest.fixture(scope="session")
def figures() -> Iterator[Figures]:
    yield Figures(_FIGURES)
    if _TARGET and _FIGURES:
        Path(_TARGET).write_text(json.dumps(_FIGURES, indent=2, sort_keys=True) + "\n")


def full_run(request: pytest.FixtureRequest) -> bool:
    """Whether ``--reliability-full`` was given (``make test-reliability``)."""
    return bool(request.config.getoption("--reliability-full"))
