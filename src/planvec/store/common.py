"""Backend-independent helpers: the instrumented call wrapper, batching, ids, RRF fusion.

Kept free of ``qdrant_edge``/``qdrant_client`` imports so each backend module stays small and
only imports its own client.
"""

from __future__ import annotations

import contextlib
import functools
import json
import math
import re
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any, Concatenate, ParamSpec, TypeVar

from planvec.errors import IndexMismatch, StoreError
from planvec.store.base import (
    CollectionInfo,
    CollectionSpec,
    PointId,
    PointRecord,
    ScoredPoint,
)
from planvec.store.observe import Observer, OperationEvent, span
from planvec.store.retry import RetryPolicy

T = TypeVar("T")
P = ParamSpec("P")
S = TypeVar("S", bound="Instrumented")

#: Qdrant rejects requests above 32 MiB; stay far below it.
MAX_REQUEST_BYTES = 8 * 1024 * 1024


_CANONICAL_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def normalize_id(value: Any) -> PointId:
    """A point id as planvec exposes it: canonical UUID string, or ``int`` for legacy ids.

    Args:
        value: an id from a caller or from a backend (``str``, ``uuid.UUID``, ``int``).

    Returns:
        The normalized id.

    Raises:
        StoreError: when the value is neither an unsigned int nor a UUID.
    """
    if type(value) is uuid.UUID:
        return str(value)  # what the Edge bindings return: checked already
    if type(value) is str and _CANONICAL_UUID.fullmatch(value):
        return value  # the common case (ids planvec made), without a UUID round trip
    if isinstance(value, bool):
        raise StoreError(f"invalid point id {value!r}: use a UUID string or an unsigned int")
    if isinstance(value, int):
        if value < 0:
            raise StoreError(f"invalid point id {value}: integer ids must be >= 0")
        return value
    if isinstance(value, uuid.UUID):
        return str(value)
    try:
        return str(uuid.UUID(str(value)))
    except ValueError as exc:
        raise StoreError(
            f"invalid point id {value!r}: use a UUID string (planvec.records.point_id)"
            " or an unsigned int"
        ) from exc


def point_size(point: PointRecord) -> int:
    """A generous estimate of a point's size in a JSON request (bytes)."""
    size = 120 + 20 * len(point.vector or ())
    if point.sparse is not None:
        size += 30 * len(point.sparse.indices)
    if point.payload:
        size += len(json.dumps(point.payload, ensure_ascii=False, default=str).encode())
    return size


def batched(
    points: Iterable[PointRecord], max_points: int, max_bytes: int | None = MAX_REQUEST_BYTES
) -> Iterator[list[PointRecord]]:
    """Split points into batches bounded by count and by estimated request size.

    Args:
        points: any iterable (consumed lazily).
        max_points: most points per batch.
        max_bytes: most estimated bytes per batch (a single bigger point goes alone);
            ``None``: no size bound (an in-process store has no request to keep small).

    Yields:
        Non-empty lists of points.
    """
    batch: list[PointRecord] = []
    size = 0
    limit = max_bytes if max_bytes is not None else math.inf
    for point in points:
        psize = point_size(point) if max_bytes is not None else 0
        if batch and (len(batch) >= max_points or size + psize > limit):
            yield batch
            batch, size = [], 0
        batch.append(point)
        size += psize
    if batch:
        yield batch


def payload_selector(fields: Sequence[str] | None) -> bool | list[str]:
    """``with_payload`` for ``fields``: ``None`` the whole payload, empty none at all (an
    empty key list would still read every payload, the costly part)."""
    return True if fields is None else (list(fields) or False)


def rrf_fuse(
    ranked: Sequence[Sequence[ScoredPoint]], k: int, weights: Sequence[float], limit: int
) -> list[ScoredPoint]:
    """Weighted reciprocal rank fusion, same formula as Qdrant (``w / (k + rank)``, rank 1-based).

    Qdrant computes ``1 / ((rank0 + 1) / w + k - 1)``; with ``w = 1`` both are ``1/(k+rank)``.
    This helper uses Qdrant's exact formula so scores match across backends.

    Args:
        ranked: one best-first list per source.
        k: the RRF constant.
        weights: one weight per source.
        limit: most hits returned.

    Returns:
        Fused hits, best first; ties keep the order of first appearance.
    """
    scores: dict[PointId, float] = {}
    first: dict[PointId, ScoredPoint] = {}
    for hits, weight in zip(ranked, weights, strict=True):
        if weight <= 0:
            continue
        for rank0, hit in enumerate(hits):
            scores[hit.id] = scores.get(hit.id, 0.0) + 1.0 / ((rank0 + 1.0) / weight + k - 1.0)
            first.setdefault(hit.id, hit)
    order = sorted(scores, key=lambda pid: -scores[pid])[:limit]
    return [
        ScoredPoint(id=pid, score=scores[pid], payload=first[pid].payload, vector=first[pid].vector)
        for pid in order
    ]


def _rrf_bounds(
    ranked: Sequence[Sequence[ScoredPoint]], k: int, weights: Sequence[float], limit: int
) -> tuple[dict[PointId, float], list[list[PointId]], float]:
    """Each candidate's best possible fused score, the groups of tied candidates, and the
    bar: the ``limit``-th best lowest possible score (see ``rrf_ties_that_matter``)."""
    best: dict[PointId, float] = {}
    worst: dict[PointId, float] = {}
    groups: list[list[PointId]] = []
    for hits, weight in zip(ranked, weights, strict=True):
        if weight <= 0:
            continue
        by_score: dict[float, list[PointId]] = {}
        for hit in hits:
            by_score.setdefault(round(hit.score, 6), []).append(hit.id)
        start = 0
        for score in sorted(by_score, reverse=True):
            ids = by_score[score]
            high = 1.0 / ((start + 1.0) / weight + k - 1.0)
            low = 1.0 / ((start + len(ids)) / weight + k - 1.0)
            for pid in ids:
                best[pid] = best.get(pid, 0.0) + high
                worst[pid] = worst.get(pid, 0.0) + low
            if len(ids) > 1:
                groups.append(ids)
            start += len(ids)
    lows = sorted(worst.values(), reverse=True)
    # a margin far above float rounding, far below the gap between two RRF ranks
    bar = lows[limit - 1] - 1e-9 if 0 < limit <= len(lows) else -math.inf
    return best, groups, bar


def _ties_reaching(
    best: dict[PointId, float], groups: list[list[PointId]], bar: float
) -> dict[PointId, None]:
    """Every member of every tied group one of whose members can reach ``bar`` (ordered,
    each id once)."""
    wanted: dict[PointId, None] = {}
    for ids in groups:
        if max(best[pid] for pid in ids) >= bar:
            wanted.update(dict.fromkeys(ids))
    return wanted


def rrf_ties_that_matter(
    ranked: Sequence[Sequence[ScoredPoint]], k: int, weights: Sequence[float], limit: int
) -> list[PointId]:
    """The candidates of ``ranked`` whose order among equal scores can change ``rrf_fuse``'s
    top ``limit`` (which hits, their scores or their order).

    Each list holds groups of candidates with the same score (rounded to 6 places, the
    ranking key); a group occupies a fixed block of ranks, and only the order inside the
    block is open. A candidate's fused score therefore lies between its scores with its
    groups' best and worst ranks. A group matters when one of its members could reach
    the ``limit``-th best lowest score: the others can never be among the top ``limit``,
    whatever their order, and no other candidate's rank depends on it. Callers break ties
    by payload values (plan, line), which cost a payload read each: this keeps the reads
    to the groups that count (a third of the tied candidates at 100k tasks).

    Args:
        ranked: one best-first list per source (as given to ``rrf_fuse``).
        k: the RRF constant.
        weights: one weight per source.
        limit: how many fused hits the caller keeps.

    Returns:
        The ids of every member of every group that matters (each id once).
    """
    return list(_ties_reaching(*_rrf_bounds(ranked, k, weights, limit)))


def rrf_reads(
    ranked: Sequence[Sequence[ScoredPoint]], k: int, weights: Sequence[float], limit: int
) -> list[PointId]:
    """Every candidate a caller of ``rrf_fuse`` must read to rank and return its top
    ``limit`` when ties are broken by payload values: the ties that matter
    (``rrf_ties_that_matter``) and every candidate that could be in the top ``limit``
    (its best possible fused score reaches the bar), known before fusing, so one read
    serves both (each id once, ties first).
    """
    best, groups, bar = _rrf_bounds(ranked, k, weights, limit)
    wanted = _ties_reaching(best, groups, bar)
    wanted.update(dict.fromkeys(pid for pid, score in best.items() if score >= bar))
    return list(wanted)


def check_vector(vector: Sequence[float] | None, dimension: int, what: str) -> None:
    """Reject vectors of the wrong size or with NaN/inf before they reach the backend."""
    if vector is None:
        return
    if len(vector) != dimension:
        raise StoreError(
            f"{what}: vector has {len(vector)} dimensions, the collection expects {dimension};"
            " the embedder changed? rebuild the index (planvec index --rebuild)"
        )
    # sum() runs in C and propagates NaN/inf: far cheaper than a per-element check
    if not math.isfinite(sum(vector)) and not all(math.isfinite(x) for x in vector):
        raise StoreError(f"{what}: vector contains NaN or infinity; check the embedder output")


def check_spec(name: str, info: CollectionInfo, spec: CollectionSpec) -> None:
    """Raise ``IndexMismatch`` when an existing collection does not fit ``spec``."""
    if info.dimension != spec.dimension or info.distance != spec.distance:
        raise IndexMismatch(
            f"collection {name!r} holds {info.dimension}-d {info.distance} vectors but"
            f" {spec.dimension}-d {spec.distance} were asked: the embedding model changed;"
            " rebuild with `planvec index --rebuild` or use another --collection"
        )
    if spec.sparse and not info.sparse:
        raise IndexMismatch(
            f"collection {name!r} has no sparse (lexical) vectors: rebuild it with"
            " `planvec index --rebuild` to enable hybrid search"
        )


class Instrumented:
    """Mixin: runs backend calls through the retry policy, the observer and OTel spans."""

    backend: str
    location: str
    policy: RetryPolicy
    observer: Observer | None

    def _call(self, operation: str, func: Callable[[], T]) -> T:
        """One retried backend request (no observer event; see ``_observe``)."""
        return self.policy.run(
            operation,
            func,
            backend=self.backend,
            location=self.location,
            on_retry=self._count_retry,
        )

    def _count_retry(self) -> None:
        self._retries += 1

    _retries: int = 0

    def _observe(self, operation: str, func: Callable[[], T], points: Callable[[T], int]) -> T:
        """Run a whole public operation: span, timing, one observer event (even on error)."""
        start = time.perf_counter()
        before = self._retries
        error: str | None = None
        count = 0
        try:
            with span(operation, self.backend):
                result = func()
            count = points(result)
            return result
        except BaseException as exc:
            error = type(exc).__name__
            raise
        finally:
            if self.observer is not None:
                event = OperationEvent(
                    backend=self.backend,
                    operation=operation,
                    seconds=time.perf_counter() - start,
                    points=count,
                    retries=self._retries - before,
                    error=error,
                )
                with contextlib.suppress(Exception):  # observers never break a store call
                    self.observer.on_operation(event)


def _no_points(result: Any, *args: Any, **kwargs: Any) -> int:
    return 0


def observed(
    operation: str, points: Callable[..., int] = _no_points
) -> Callable[[Callable[Concatenate[S, P], T]], Callable[Concatenate[S, P], T]]:
    """Decorator: run a public store method as one observed operation (``_observe``).

    Args:
        operation: the operation name in events, logs and spans.
        points: ``points(result, *args, **kwargs)``: how many points the call touched.
    """

    def decorate(method: Callable[Concatenate[S, P], T]) -> Callable[Concatenate[S, P], T]:
        @functools.wraps(method)
        def run(self: S, /, *args: P.args, **kwargs: P.kwargs) -> T:
            return self._observe(
                operation,
                lambda: method(self, *args, **kwargs),
                lambda result: points(result, *args, **kwargs),
            )

        return run

    return decorate
