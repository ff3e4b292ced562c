"""Anomalies from embeddings, for any collection: items far from everything else.

The rule (docs/managers-security.md), per collection, on its stored dense vectors:

1. Copies count once: points with identical vectors (the same text) form one item, so a
   duplicated text is neither its own neighbour nor a pull on the statistics.
2. Each item's **score** is its mean cosine distance (1 − cosine similarity) to its
   ``neighbours`` (5) nearest *other* items: the k-NN outlier score, steadier than the
   single nearest neighbour on small collections (exact, by chunked matrix products).
3. **Outliers**: items whose score is above Tukey's upper fence of the collection's scores,
   ``Q3 + 1.5 · IQR`` (textbook constants, not fitted: robust, so the outliers themselves
   barely move the fence). The IQR has a floor (``scale_floor``) so a collection of
   near-identical items does not flag tiny gaps.
4. **New and far**: items whose ids this sync added (``new_ids``) are scored against the
   items that were there before only, and reported when above the fence of the older
   items' own scores. Without enough older items (a first sync) only rule 3 applies.
5. Collections with fewer than ``min_items`` distinct items have no meaningful
   distribution: nothing is reported.

Every finding says why: the item's score and nearest-neighbour distance, the collection's
quartiles, median and fence, and its nearest neighbour (id, text, file:line).
Cost: O(n²·d) multiply-adds and O(chunk·n) memory. Measured (``bench/anomalies.py``, 384
dimensions, 2 cores shared with other jobs, load average 13-16): 1,000 items 0.3 s, 5,000
items 3.9 s, 20,000 items 73 s: for much larger collections an approximate (HNSW) k-NN
through the store would be the next step.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from planvec.managers.base import Finding

if TYPE_CHECKING:
    from planvec.index import Index

log = logging.getLogger(__name__)

Matrix = npt.NDArray[np.float32]
Floats = npt.NDArray[np.float64]
_PAYLOAD = ("plan", "line", "text", "key")


@dataclass(frozen=True)
class AnomalyRule:
    """The rule's knobs (defaults documented in the module docstring)."""

    neighbours: int = 5
    fence: float = 1.5
    min_items: int = 8
    scale_floor: float = 0.02
    chunk: int = 1024


@dataclass(frozen=True)
class Fence:
    """The distribution an item was judged against."""

    q1: float
    median: float
    q3: float
    threshold: float
    items: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "q1": round(self.q1, 4),
            "median": round(self.median, 4),
            "q3": round(self.q3, 4),
            "threshold": round(self.threshold, 4),
            "items": self.items,
        }


def fence_of(scores: Floats, rule: AnomalyRule) -> Fence:
    """Tukey's upper fence ``Q3 + fence · max(IQR, scale_floor)`` of ``scores``."""
    q1, median, q3 = (float(v) for v in np.percentile(scores, [25, 50, 75]))
    threshold = q3 + rule.fence * max(q3 - q1, rule.scale_floor)
    return Fence(q1, median, q3, threshold, int(scores.size))


@dataclass(frozen=True)
class Neighbours:
    """Per query row: its k-NN score, nearest distance and nearest row of the corpus."""

    scores: Floats
    nearest_distance: Floats
    nearest: npt.NDArray[np.int64]


def nearest_neighbours(
    queries: Matrix, corpus: Matrix, *, same: bool, k: int, chunk: int = 1024
) -> Neighbours:
    """Mean cosine distance from each unit row of ``queries`` to its ``k`` nearest rows of
    ``corpus`` (``same``: ``queries`` is ``corpus``, a row is not its own neighbour)."""
    n = queries.shape[0]
    k = max(1, min(k, corpus.shape[0] - (1 if same else 0)))
    scores, nearest_distance = np.empty(n), np.empty(n)
    nearest = np.empty(n, dtype=np.int64)
    for start in range(0, n, chunk):
        sims = queries[start : start + chunk] @ corpus.T
        rows = np.arange(sims.shape[0])
        if same:
            sims[rows, rows + start] = -np.inf
        top = np.argpartition(-sims, k - 1, axis=1)[:, :k]
        top_sims = np.take_along_axis(sims, top, axis=1)
        best = np.argmax(top_sims, axis=1)
        scores[start : start + chunk] = 1.0 - top_sims.mean(axis=1)
        nearest_distance[start : start + chunk] = 1.0 - top_sims[rows, best]
        nearest[start : start + chunk] = top[rows, best]
    return Neighbours(np.clip(scores, 0.0, 2.0), np.clip(nearest_distance, 0.0, 2.0), nearest)


@dataclass
class _Items:
    """A collection's distinct vectors, each with the points (id, payload) that hold it."""

    vectors: Matrix
    points: list[list[tuple[str, dict[str, Any]]]]


def _distinct(records: Iterable[tuple[str, list[float], dict[str, Any]]]) -> _Items:
    by_vector: dict[bytes, int] = {}
    rows: list[npt.NDArray[np.float32]] = []
    points: list[list[tuple[str, dict[str, Any]]]] = []
    for point_id, vector, payload in records:
        row = np.asarray(vector, dtype=np.float32)
        norm = float(np.linalg.norm(row))
        if norm == 0.0:
            continue
        row = row / norm
        at = by_vector.setdefault(row.tobytes(), len(rows))
        if at == len(rows):
            rows.append(row)
            points.append([])
        points[at].append((point_id, payload))
    matrix = np.vstack(rows) if rows else np.zeros((0, 1), dtype=np.float32)
    return _Items(matrix, points)


def read_vectors(index: Index) -> list[tuple[str, list[float], dict[str, Any]]]:
    """(id, dense vector, payload) of every point of ``index`` (scrolled, with vectors)."""
    out = []
    for point in index.points.scroll(with_vectors=True, with_payload=_PAYLOAD):
        if point.vector is not None:
            out.append((str(point.id), point.vector, point.payload))
    return out


def find_anomalies(
    index: Index,
    *,
    new_ids: Collection[str] | None = None,
    manager: str = "anomalies",
    rule: AnomalyRule | None = None,
) -> list[Finding]:
    """Outliers of ``index``'s collection, and new items far from the older ones.

    Args:
        index: an open index (its collection's vectors are read through ``index.points``).
        new_ids: ids this sync added (``SyncReport.added_ids``); ``None``: no new-item check.
        manager: the name findings are reported under.
        rule: the thresholds (``AnomalyRule()`` by default).

    Returns:
        One ``Finding`` (kind ``"anomaly"``) per distinct far text, farthest first;
        ``details["reason"]`` is ``"outlier"`` or ``"new_far"``.
    """
    return anomalies_of(read_vectors(index), index.collection, new_ids, manager, rule)


def anomalies_of(
    records: list[tuple[str, list[float], dict[str, Any]]],
    collection: str,
    new_ids: Collection[str] | None = None,
    manager: str = "anomalies",
    rule: AnomalyRule | None = None,
) -> list[Finding]:
    """``find_anomalies`` over already-read ``(id, vector, payload)`` records."""
    rule = rule or AnomalyRule()
    items = _distinct(records)
    n = len(items.points)
    if n < rule.min_items:
        log.info("%s: %d distinct items (< %d): no anomaly check", collection, n, rule.min_items)
        return []
    found = nearest_neighbours(
        items.vectors, items.vectors, same=True, k=rule.neighbours, chunk=rule.chunk
    )
    basis = fence_of(found.scores, rule)
    findings: dict[int, Finding] = {}
    for i in np.flatnonzero(found.scores > basis.threshold):
        findings[int(i)] = _finding(
            items, int(i), found, int(i), basis, "outlier", collection, manager
        )
    if new_ids:
        findings.update(_new_far(items, set(new_ids), collection, manager, rule, set(findings)))
    return sorted(findings.values(), key=lambda f: -float(f.details["score"]))


def _new_far(
    items: _Items, new: set[str], collection: str, manager: str, rule: AnomalyRule, skip: set[int]
) -> dict[int, Finding]:
    is_old = np.array([any(pid not in new for pid, _ in pts) for pts in items.points])
    old_rows = np.flatnonzero(is_old)
    new_rows = np.array([i for i in np.flatnonzero(~is_old) if int(i) not in skip], dtype=np.int64)
    if old_rows.size < rule.min_items or new_rows.size == 0:
        return {}
    old = items.vectors[old_rows]
    k, chunk = rule.neighbours, rule.chunk
    before = fence_of(nearest_neighbours(old, old, same=True, k=k, chunk=chunk).scores, rule)
    found = nearest_neighbours(items.vectors[new_rows], old, same=False, k=k, chunk=chunk)
    found = Neighbours(found.scores, found.nearest_distance, old_rows[found.nearest])
    out = {}
    for at, row in enumerate(new_rows):
        if found.scores[at] > before.threshold:
            out[int(row)] = _finding(
                items, int(row), found, at, before, "new_far", collection, manager
            )
    return out


def _describe(point: tuple[str, dict[str, Any]]) -> dict[str, Any]:
    pid, payload = point
    return {
        "id": pid,
        "text": payload.get("text"),
        "plan": payload.get("plan"),
        "line": payload.get("line"),
        "key": payload.get("key"),
    }


def _finding(
    items: _Items,
    row: int,
    found: Neighbours,
    at: int,
    basis: Fence,
    reason: str,
    collection: str,
    manager: str,
) -> Finding:
    """The finding for item ``row`` whose neighbour facts are ``found``'s entry ``at``."""
    score, distance = float(found.scores[at]), float(found.nearest_distance[at])
    item = _describe(items.points[row][0])
    neighbour = _describe(items.points[int(found.nearest[at])][0])
    what = "new item far from every older item" if reason == "new_far" else "outlier"
    message = (
        f"{collection}: {what}: {item['text']!r} ({item['plan']}:{item['line']}): mean "
        f"distance to its nearest items {score:.3f} > fence {basis.threshold:.3f} (median "
        f"{basis.median:.3f} of {basis.items} items); nearest: {neighbour['text']!r} "
        f"({neighbour['plan']}:{neighbour['line']}) at {distance:.3f}"
    )
    details = {
        "reason": reason,
        "collection": collection,
        "score": round(score, 4),
        **basis.to_dict(),
        "rule": "mean cosine distance to the k nearest items > Q3 + 1.5 * IQR",
        "item": item,
        "copies": len(items.points[row]),
        "nearest": {**neighbour, "distance": round(distance, 4)},
    }
    ids = tuple(pid for pid, _ in items.points[row])
    return Finding(manager=manager, kind="anomaly", message=message, items=ids, details=details)
