"""``IndexPoints``: the points of an index's collection, as operations see them.

Checks, repair, export and the migrations read and fix points; they go through this small
collaborator of ``Index`` (``index.points``) rather than through the store, so they never
name a collection or hold a store, and a change of the store seam stays in the core.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any

from planvec.store.base import (
    DataStore,
    Filter,
    MatchAny,
    PointId,
    PointRecord,
    ScoredPoint,
    SearchRequest,
)

#: Most ids per delete request, most plan names per delete-by-filter.
_DELETE_IDS, _DELETE_PLANS = 1024, 64


class IndexPoints:
    """Read and write the points of one collection (see ``planvec.store.base.DataStore``)."""

    def __init__(
        self,
        store: DataStore,
        collection: str,
        *,
        before_write: Callable[[], None] | None = None,
    ) -> None:
        self._store = store
        self.collection = collection
        # called before every write: the index forgets its file fingerprints, whose promise
        # "these files' points are up to date" only sync may keep
        self._before_write = before_write or (lambda: None)

    def scroll(
        self,
        *,
        filter: Filter | None = None,
        with_vectors: bool = False,
        with_payload: bool | Sequence[str] = True,
        batch_size: int = 1024,
    ) -> Iterator[PointRecord]:
        """Every point (matching ``filter``), page by page; memory stays bounded."""
        return self._store.scroll(
            self.collection,
            filter=filter,
            with_vectors=with_vectors,
            with_payload=with_payload,
            batch_size=batch_size,
        )

    def retrieve(self, ids: Sequence[PointId], *, with_vectors: bool = False) -> list[PointRecord]:
        """The points among ``ids`` that exist (any order)."""
        return self._store.retrieve(self.collection, ids, with_vectors=with_vectors)

    def count(self, filter: Filter | None = None) -> int:
        """Exact number of points (matching ``filter``)."""
        return self._store.count(self.collection, filter)

    def upsert(self, points: Iterable[PointRecord]) -> int:
        """Insert or replace points; returns how many."""
        self._before_write()
        return self._store.upsert(self.collection, points)

    def set_payloads(
        self, payloads: Mapping[PointId, dict[str, Any]], *, merge: bool = False
    ) -> None:
        """Rewrite payloads, vectors untouched (see ``DataStore.set_payload``)."""
        self._before_write()
        self._store.set_payload(self.collection, payloads, merge=merge)

    def delete(self, ids: Sequence[PointId]) -> int:
        """Delete the points ``ids`` (in requests of 1024); returns how many were asked."""
        self._before_write()
        for start in range(0, len(ids), _DELETE_IDS):
            self._store.delete(self.collection, ids=ids[start : start + _DELETE_IDS])
        return len(ids)

    def delete_plans(self, plans: Sequence[str]) -> int:
        """Delete every point of the plans ``plans``; returns how many there were."""
        self._before_write()
        deleted = 0
        for start in range(0, len(plans), _DELETE_PLANS):
            flt = Filter(must=(MatchAny("plan", tuple(plans[start : start + _DELETE_PLANS])),))
            deleted += self._store.count(self.collection, flt)
            self._store.delete(self.collection, filter=flt)
        return deleted

    def search(self, request: SearchRequest) -> list[ScoredPoint]:
        """A raw vector search (quality checks); ``Index.search`` is the user-facing one."""
        return self._store.search(self.collection, request)
