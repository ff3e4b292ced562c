"""When a sync builds the HNSW search index itself (no manual ``optimize`` step).

Qdrant Edge has no background optimizer: its searches stay exact (brute force) until the
segments are optimized, which builds HNSW graphs. Exact search is fine for small indexes
(20k tasks: ~5 ms) but grows linearly (100k: ~30 ms p95). So after every sync that wrote
something, ``Index.sync`` asks ``after_sync``:

* below ``AUTO_HNSW_POINTS`` points nothing is built (exact search is fast and exact);
* at or above it, the index is built when it never was, or when the points written since
  the last build reach ``REBUILD_FRACTION`` of the collection (new points land in an
  unindexed segment that is searched exactly; a small one costs little).

The state lives in the manifest under ``MANIFEST_KEY``; a server store (which optimizes in
the background) is left alone.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from planvec.manifest import now_iso

MANIFEST_KEY = "search_index"
#: collection size from which a sync builds the HNSW index
AUTO_HNSW_POINTS = 50_000
#: points written since the last build, as a fraction of the collection, that trigger a new one
REBUILD_FRACTION = 0.1


@dataclass(frozen=True)
class HnswState:
    """What a sync decided about the search index."""

    points: int
    pending: int
    build: bool
    built_at: str | None = None
    seconds: float | None = None

    def built(self, seconds: float) -> HnswState:
        return replace(self, pending=0, build=False, built_at=now_iso(), seconds=seconds)

    @property
    def record(self) -> dict[str, Any]:
        return {
            "points": self.points,
            "written_since_build": self.pending,
            "built_at": self.built_at,
            "build_seconds": None if self.seconds is None else round(self.seconds, 2),
        }


def after_sync(record: Any, points: int, written: int) -> HnswState:
    """Whether to build the index now, from the manifest ``record`` and this sync's writes."""
    old = record if isinstance(record, dict) else {}
    built_at = old.get("built_at") if isinstance(old.get("built_at"), str) else None
    pending = int(old.get("written_since_build") or 0) + written
    seconds = old.get("build_seconds")
    state = HnswState(points, pending, False, built_at, seconds)
    if points < AUTO_HNSW_POINTS or written == 0:
        return state
    due = built_at is None or pending >= REBUILD_FRACTION * points
    return replace(state, build=due)
