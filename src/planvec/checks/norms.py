"""Norm and dimension statistics over every stored vector, page by page (``quality``)."""

from __future__ import annotations

import math
from collections import Counter
from typing import Any

import numpy as np


class NormStats:
    """Running statistics of vector norms; vectors of the wrong size are only counted.

    Args:
        dimension: the size the embedder gives; other sizes count as ``wrong_dimension``.
        page_size: vectors held before their norms are computed (vectorized).
    """

    def __init__(self, dimension: int, page_size: int) -> None:
        self.dimension = dimension
        self.page_size = page_size
        self.count = 0
        self.dims: Counter[int] = Counter()
        self.zero = self.nan = self.not_norm = 0
        self.total, self.min, self.max = 0.0, math.inf, 0.0
        self._page: list[list[float]] = []

    def add(self, vector: list[float]) -> None:
        """Count one stored vector (``[]`` when the point has none)."""
        self.count += 1
        self.dims[len(vector)] += 1
        if len(vector) == self.dimension:
            self._page.append(vector)
            if len(self._page) >= self.page_size:
                self.flush()

    def flush(self) -> None:
        """Norm statistics of the held page of same-sized vectors, vectorized."""
        if not self._page:
            return
        with np.errstate(invalid="ignore", over="ignore"):
            norms = np.linalg.norm(np.asarray(self._page, dtype=np.float32), axis=1)
        finite = norms[np.isfinite(norms)]
        self.nan += int(norms.size - finite.size)
        if finite.size:
            self.zero += int(np.sum(finite == 0.0))
            self.not_norm += int(np.sum((finite != 0.0) & (np.abs(finite - 1.0) > 1e-3)))
            self.total += float(finite.sum())
            self.min = min(self.min, float(finite.min()))
            self.max = max(self.max, float(finite.max()))
        self._page.clear()

    def summary(self) -> dict[str, Any]:
        """The ``vectors`` section of a quality report (call ``flush`` first)."""
        finite = sum(c for d, c in self.dims.items() if d == self.dimension) - self.nan
        return {
            "count": self.count,
            "dimensions": {str(d): c for d, c in sorted(self.dims.items())},
            "norm_min": round(self.min, 6) if finite else None,
            "norm_mean": round(self.total / finite, 6) if finite else None,
            "norm_max": round(self.max, 6) if finite else None,
            "not_normalized": int(self.not_norm),
            "zero": int(self.zero),
            "nan": self.nan,
            "wrong_dimension": self.count - self.dims.get(self.dimension, 0),
        }
