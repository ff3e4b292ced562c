"""Comparing a point read back from a store with the point that was written (imports).

Payloads must be equal; vectors equal within ``VECTOR_TOLERANCE``, or, in a cosine
collection, equal in direction (stores may normalise on write).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from planvec.store.base import PointRecord

VECTOR_TOLERANCE = 1e-5


def same_vector(a: np.ndarray, b: np.ndarray, cosine: bool) -> bool:
    """Equal within tolerance; in a cosine collection, equal directions (stores may normalise
    on write: the server, Edge, and qdrant-client's local engine (1.20 here))."""
    if a.shape != b.shape:
        return False
    if float(np.max(np.abs(a - b))) <= VECTOR_TOLERANCE:
        return True
    if not cosine:
        return False
    na, nb = float(np.linalg.norm(a)), float(np.linalg.norm(b))
    return na > 0 and nb > 0 and float(np.max(np.abs(a / na - b / nb))) <= VECTOR_TOLERANCE


def compare_points(
    expected: PointRecord, got: PointRecord | None, cosine: bool = False
) -> str | None:
    """What differs between a point written and the point read back (``None``: the same)."""
    if got is None:
        return "missing"
    if got.payload != expected.payload:  # exact canonical JSON is checked by the digest
        return "payload differs"
    if (expected.vector is None) != (got.vector is None):
        return "vector presence differs"
    if expected.vector is not None and got.vector is not None:
        a = np.asarray(expected.vector, dtype=np.float64)
        b = np.asarray(got.vector, dtype=np.float64)
        if not same_vector(a, b, cosine):
            return "vector differs"
    ex, gs = expected.sparse, got.sparse
    if ex is not None and ex.indices:
        if gs is None or _sparse_map(gs).keys() != _sparse_map(ex).keys():
            return "sparse vector differs"
        a_map, b_map = _sparse_map(ex), _sparse_map(gs)
        if any(abs(a_map[k] - b_map[k]) > VECTOR_TOLERANCE for k in a_map):
            return "sparse vector differs"
    return None


def _sparse_map(sparse: Any) -> dict[int, float]:
    return dict(zip(sparse.indices, sparse.values, strict=True))
