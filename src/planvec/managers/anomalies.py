"""Anomalies from embeddings, for any collection: items far from everything else.

The rule (docs/managers-security.md), per collection, on its stored dense vectors:

1. Copies count once: points with identical vectors (the same text) form one item, so a
   duplicated text is neither its own neighbour nor a pull on the statistics.
2. Each item's **1-NN distance** is the cosine distance (1 − cosine similarity) to its
   nearest *other* item (exact, by chunked matrix products in numpy).
3. **Outliers**: items whose 1-NN distance is above ``median + k · 1.4826 · MAD`` of the
   collection's 1-NN distances (the modified z-score of Iglewicz and Hoaglin, ``k = 3.5``:
   robust, so the outliers themselves do not widen the threshold). The scale has a floor
   (``scale_floor``) so a collection of near-identical items does not flag tiny gaps.
4. **New and far**: items whose ids this sync added (``new_ids``) are measured against the
   items that were there before only; one is reported when that distance is above the
   same threshold computed on the older items alone. Without older items (a first sync),
   only rule 3 applies.
5. Collections with fewer than ``min_items`` distinct items have no meaningful
   distribution: nothing is reported (the finding-free result says so in the log).

Every finding says why: the item's distance, the collection's median, MAD and threshold,
its modified z-score and its nearest neighbour (id, text, file:line, distance).
Cost: O(n²·d) multiply-adds and O(chunk·n) memory; 20,000 items of 384 dimensions take a
few seconds here.
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
_MAD_TO_SIGMA = 1.4826  # MAD of a normal distribution times this is its standard deviation
_PAYLOAD = ("plan", "line", "text", "key")


@dataclass(frozen=True)
class AnomalyRule:
    """The outlier rule's knobs (defaults documented in the module docstring)."""

    k: float = 3.5
    min_items: int = 8
    scale_floor: float = 0.02
    chunk: int = 1024


@dataclass(frozen=True)
class Threshold:
    """The distribution an item was judged against."""

    median: float
    mad: float
    threshold: float
    items: int

    def z(self, distance: float, rule: AnomalyRule) -> float:
        scale = max(_MAD_TO_SIGMA * self.mad, rule.scale_floor)
        return (distance - self.median) / scale

    def to_dict(self) -> dict[str, Any]:
        return {
            "median": round(self.median, 4),
            "mad": round(self.mad, 4),
            "threshold": round(self.threshold, 4),
            "items": self.items,
        }


def threshold_of(distances: npt.NDArray[np.float64], rule: AnomalyRule) -> Threshold:
    """``median + k · max(1.4826 · MAD, scale_floor)`` of ``distances``."""
    median = float(np.median(distances))
    mad = float(np.median(np.abs(distances - median)))
    scale = max(_MAD_TO_SIGMA * mad, rule.scale_floor)
    return Threshold(median, mad, median + rule.k * scale, int(distances.size))


def nearest_neighbours(
    queries: Matrix, corpus: Matrix, *, same: bool, chunk: int = 1024
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.int64]]:
    """Cosine distance from each unit row of ``queries`` to its nearest row of ``corpus``.

    ``same``: ``queries`` is ``corpus`` (a row is not its own neighbour).
    Returns (distances, indices into ``corpus``).
    """
    n = queries.shape[0]
    distances = np.empty(n, dtype=np.float64)
    indices = np.empty(n, dtype=np.int64)
    for start in range(0, n, chunk):
        sims = queries[start : start + chunk] @ corpus.T
        if same:
            rows = np.arange(sims.shape[0])
            sims[rows, rows + start] = -np.inf
        best = np.argmax(sims, axis=1)
        indices[start : start + chunk] = best
        distances[start : start + chunk] = 1.0 - sims[np.arange(sims.shape[0]), best]
    return np.clip(distances, 0.0, 2.0), indices


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
        key = row.tobytes()
        at = by_vector.get(key)
        if at is None:
            at = by_vector[key] = len(rows)
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
        One ``Finding`` (kind ``"anomaly"``) per distinct far text, most anomalous first;
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
        log.info("%s: %d distinct items, fewer than %d: no anomaly check", collection, n, rule.min_items)
        return []
    distances, nearest = nearest_neighbours(items.vectors, items.vectors, same=True, chunk=rule.chunk)
    overall = threshold_of(distances, rule)
    findings: dict[int, Finding] = {}
    for i in np.flatnonzero(distances > overall.threshold):
        findings[int(i)] = _finding(items, int(i), int(nearest[i]), float(distances[i]), overall,
                                    "outlier", collection, manager, rule)  # fmt: skip
    new = set(new_ids or ())
    if new:
        findings.update(_new_far(items, new, collection, manager, rule, skip=set(findings)))
    return sorted(findings.values(), key=lambda f: -float(f.details["z"]))


def _new_far(
    items: _Items, new: set[str], collection: str, manager: str, rule: AnomalyRule, skip: set[int]
) -> dict[int, Finding]:
    is_old = np.array([any(pid not in new for pid, _ in pts) for pts in items.points])
    old_rows = np.flatnonzero(is_old)
    new_rows = np.array([i for i in np.flatnonzero(~is_old) if int(i) not in skip], dtype=np.int64)
    if old_rows.size < rule.min_items or new_rows.size == 0:
        return {}
    old = items.vectors[old_rows]
    old_distances, _ = nearest_neighbours(old, old, same=True, chunk=rule.chunk)
    before = threshold_of(old_distances, rule)
    distances, nearest = nearest_neighbours(items.vectors[new_rows], old, same=False, chunk=rule.chunk)
    out = {}
    for row, distance, near in zip(new_rows, distances, nearest, strict=True):
        if distance > before.threshold:
            out[int(row)] = _finding(items, int(row), int(old_rows[near]), float(distance), before,
                                     "new_far", collection, manager, rule)  # fmt: skip
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
    near: int,
    distance: float,
    basis: Threshold,
    reason: str,
    collection: str,
    manager: str,
    rule: AnomalyRule,
) -> Finding:
    item, neighbour = _describe(items.points[row][0]), _describe(items.points[near][0])
    where = f"{item['plan']}:{item['line']}"
    what = "new item far from every older item" if reason == "new_far" else "outlier"
    message = (
        f"{collection}: {what}: {item['text']!r} ({where}) is at cosine distance "
        f"{distance:.3f} from its nearest neighbour, above the threshold {basis.threshold:.3f} "
        f"(median {basis.median:.3f} of {basis.items} items); nearest: {neighbour['text']!r} "
        f"({neighbour['plan']}:{neighbour['line']})"
    )
    details = {
        "reason": reason,
        "collection": collection,
        "distance": round(distance, 4),
        "z": round(basis.z(distance, rule), 2),
        **basis.to_dict(),
        "rule": f"distance > median + {rule.k} * max(1.4826 * MAD, {rule.scale_floor})",
        "item": item,
        "copies": len(items.points[row]),
        "nearest": {**neighbour, "distance": round(distance, 4)},
    }
    ids = tuple(pid for pid, _ in items.points[row])
    return Finding(manager=manager, kind="anomaly", message=message, items=ids, details=details)
