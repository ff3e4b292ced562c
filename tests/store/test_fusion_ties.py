"""``rrf_ties_that_matter``: breaking only the ties it names gives exactly the fused top
that breaking every tie gives (hybrid search reads a payload per named candidate); and
``rrf_reads``, the one read before fusion, holds those ties and every fused hit."""

from __future__ import annotations

import random
from typing import Any

import pytest

from planvec.store.base import ScoredPoint
from planvec.store.common import rrf_fuse, rrf_reads, rrf_ties_that_matter


def _side(rng: random.Random, pool: list[str], size: int) -> list[ScoredPoint]:
    """Best-first candidates whose scores repeat (few distinct values: many ties)."""
    values = sorted({round(rng.uniform(0.1, 0.9), 2) for _ in range(size // 3 + 1)})
    scores = sorted((rng.choice(values) for _ in range(size)), reverse=True)
    return [ScoredPoint(pid, s, {}) for pid, s in zip(rng.sample(pool, size), scores, strict=True)]


def _fused(
    sides: list[list[ScoredPoint]],
    places: dict[Any, tuple[str, int]],
    known: set[Any],
    k: int,
    weights: tuple[float, float],
    limit: int,
) -> list[tuple[Any, float]]:
    def key(p: ScoredPoint) -> tuple[float, str, int, str]:
        plan, line = places[p.id] if p.id in known else ("", 0)
        return (-round(p.score, 6), plan, line, str(p.id))

    ordered = [sorted(side, key=key) for side in sides]
    return [(p.id, p.score) for p in rrf_fuse(ordered, k, weights, limit)]


@pytest.mark.parametrize("weights", [(1.0, 2.0), (3.0, 2.0), (1.0, 0.0)])
def test_breaking_the_named_ties_only_gives_the_same_top(weights: tuple[float, float]) -> None:
    rng = random.Random(20)
    pruned = fewer = 0
    for _ in range(300):
        pool = [f"p{i:03d}" for i in range(rng.randint(8, 60))]
        places = {pid: (rng.choice("abc") + ".md", rng.randint(1, 9)) for pid in pool}
        sides = [_side(rng, pool, rng.randint(1, len(pool))) for _ in weights]
        k, limit = rng.choice((1, 5, 60)), rng.randint(1, 25)
        named = set(rrf_ties_that_matter(sides, k, weights, limit))
        every = _fused(sides, places, set(pool), k, weights, limit)
        assert _fused(sides, places, named, k, weights, limit) == every
        reads = rrf_reads(sides, k, weights, limit)
        assert len(reads) == len(set(reads)) and named | {pid for pid, _ in every} <= set(reads)
        candidates = {p.id for side in sides for p in side}
        fewer += len(reads) < len(candidates)
        tied = {p.id for side in sides for p in side if sum(q.score == p.score for q in side) > 1}
        assert named <= tied  # only tied candidates are ever named
        pruned += len(tied - named) > 0
    assert pruned > 50  # most draws leave ties unread: the pruning is exercised
    assert fewer > 50  # and most reads leave candidates out


def test_nothing_is_named_without_ties() -> None:
    side = [ScoredPoint(f"p{i}", 1.0 - i / 10, {}) for i in range(5)]
    assert rrf_ties_that_matter([side, side[::-1]], 5, (1.0, 2.0), 3) == []
