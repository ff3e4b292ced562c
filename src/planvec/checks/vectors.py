"""Vector sanity and vector staleness, one page of points at a time.

Sanity: dimension, NaN/inf, all-zero, norm far from 1 (every planvec embedder returns unit
vectors, so any other norm means a damaged or foreign point).

Staleness: a stored vector must be the embedding of its stored text. The exact vector is
usually in the embedding cache under ``(model_id, embed_hash)``: those are compared for
every point, for free. Points the cache does not know go into a bounded, deterministic
reservoir sample that is re-embedded at the end (``sample`` texts at most), so the cost
does not grow with the index.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import Any

import numpy as np

from planvec.checks.findings import CheckReport, Finding
from planvec.embed.base import Embedder
from planvec.embedding_recipe import embedding_text_of, text_embed_hash
from planvec.store.base import PointRecord


class VectorChecker:
    """Checks pages of points; keeps only a bounded sample between pages."""

    def __init__(
        self,
        embedder: Embedder,
        *,
        family: str,
        model_id: str,
        norm_tolerance: float = 1e-3,
        min_cosine: float = 0.999,
        sample: int = 256,
        seed: int = 0,
        check_dimension: bool = True,
        cache: Any = None,
    ) -> None:
        """Set up the checker.

        Args:
            embedder: the index's embedder (its cache, when it has one, is read).
            family: model family that built the index (manifest ``model``).
            model_id: model variant that built the index (manifest ``model_id``).
            norm_tolerance: allowed ``|norm - 1|``.
            min_cosine: below this cosine to the embedding of its text a vector is stale.
            sample: how many uncached vectors to re-embed at most.
            seed: seed of the reservoir sample.
            check_dimension: report per-point dimension errors (off when the whole
                collection has the wrong size: that is one finding already).
            cache: embedding cache to read (default: the embedder's own, if any).
        """
        self.embedder = embedder
        self.family = family
        self.model_id = model_id
        self.dimension = embedder.dimension
        self.norm_tolerance = norm_tolerance
        self.check_dimension = check_dimension
        same_variant = embedder.model_id == model_id
        # another variant of the same family (e.g. int8 vs fp32) is close, not identical
        self.min_cosine = min_cosine if same_variant else min(min_cosine, 0.95)
        self.comparable = embedder.family == family
        self.cache = cache if cache is not None else getattr(embedder, "cache", None)
        self.inner: Embedder = getattr(embedder, "inner", embedder)
        self.sample_size = max(0, sample)
        self._rng = random.Random(seed)
        self._seen_uncached = 0
        self._sample: list[tuple[PointRecord, np.ndarray[Any, Any]]] = []

    def check_page(self, points: Sequence[PointRecord], report: CheckReport) -> None:
        """Sanity-check every vector of the page and compare with the cache."""
        sized: list[PointRecord] = []
        for point in points:
            if point.vector is not None and len(point.vector) == self.dimension:
                sized.append(point)
            else:
                self._sanity(point, None, report)  # reports the dimension problem
        if not sized:
            return
        matrix = np.asarray([p.vector for p in sized], dtype=np.float32)
        with np.errstate(invalid="ignore", over="ignore"):
            norms = np.linalg.norm(matrix, axis=1)
        suspicious = ~np.isfinite(norms) | (np.abs(norms - 1.0) > self.norm_tolerance)
        sound: list[tuple[PointRecord, np.ndarray[Any, Any]]] = []
        for i, point in enumerate(sized):
            if suspicious[i]:
                self._sanity(point, matrix[i], report)
            else:
                sound.append((point, matrix[i]))  # a view: copied if sampled
        if not sound or not self.comparable:
            return
        hashes = [text_embed_hash(str(p.payload.get("text", "")), self.family) for p, _ in sound]
        cached: dict[str, Any] = {}
        if self.cache is not None and hasattr(self.cache, "get_many"):
            cached = self.cache.get_many(self.model_id, hashes)
        for (point, vec), key in zip(sound, hashes, strict=True):
            ref = cached.get(key)
            if ref is not None and ref.shape == vec.shape:
                report.vectors_checked_against_cache += 1
                self._compare(point, vec, ref, report)
            else:
                self._offer(point, vec)

    def finish(self, report: CheckReport) -> None:
        """Re-embed the sampled uncached texts and compare."""
        if not self._sample:
            return
        texts = [embedding_text_of(str(p.payload.get("text", ""))) for p, _ in self._sample]
        refs = self.inner.embed(texts)
        report.vectors_reembedded += len(texts)
        for (point, vec), ref in zip(self._sample, refs, strict=True):
            self._compare(point, vec, np.asarray(ref, dtype=np.float32), report)
        self._sample = []

    def _offer(self, point: PointRecord, vec: np.ndarray[Any, Any]) -> None:
        """Reservoir sampling (algorithm R): each uncached point kept with equal chance."""
        self._seen_uncached += 1
        if len(self._sample) < self.sample_size:
            j = len(self._sample)
            self._sample.append((point, vec))
        else:
            j = self._rng.randrange(self._seen_uncached)
            if j >= self.sample_size:
                return
        # a copy, not a view that would keep the whole page matrix alive
        self._sample[j] = (point, np.array(vec, dtype=np.float32, copy=True))

    def _compare(
        self,
        point: PointRecord,
        vec: np.ndarray[Any, Any],
        ref: np.ndarray[Any, Any],
        report: CheckReport,
    ) -> None:
        denom = float(np.linalg.norm(vec) * np.linalg.norm(ref))
        cosine = float(np.dot(vec, ref) / denom) if denom > 0 else 0.0
        if cosine < self.min_cosine:
            report.add(
                Finding(
                    "stale_vector",
                    f"vector is not the embedding of its text (cosine {cosine:.4f})",
                    plan=_plan(point),
                    line=_line(point),
                    id=str(point.id),
                    detail={"cosine": round(cosine, 6)},
                )
            )

    def _sanity(
        self, point: PointRecord, vec: np.ndarray[Any, Any] | None, report: CheckReport
    ) -> None:
        """Report what is wrong with one vector (called only for suspicious ones)."""
        where: dict[str, Any] = {"plan": _plan(point), "line": _line(point), "id": str(point.id)}
        if point.vector is None:
            report.add(
                Finding(
                    "wrong_dimension", "point has no dense vector", detail={"dimension": 0}, **where
                )
            )
            return
        if vec is None or vec.shape[0] != self.dimension:
            if self.check_dimension:
                report.add(
                    Finding(
                        "wrong_dimension",
                        f"vector has {len(point.vector)} dimensions, expected {self.dimension}",
                        detail={"dimension": len(point.vector)},
                        **where,
                    )
                )
            return
        if not bool(np.isfinite(vec).all()):
            report.add(Finding("vector_nan", "vector holds NaN or infinite values", **where))
            return
        norm = float(np.linalg.norm(vec))
        if norm == 0.0:
            report.add(Finding("vector_zero", "vector is all zeros", **where))
        else:
            report.add(
                Finding(
                    "vector_not_normalized",
                    f"vector norm is {norm:.4f}, not 1",
                    detail={"norm": round(norm, 6)},
                    **where,
                )
            )


def _plan(point: PointRecord) -> str | None:
    plan = point.payload.get("plan")
    return plan if isinstance(plan, str) else None


def _line(point: PointRecord) -> int | None:
    line = point.payload.get("line")
    return line if isinstance(line, int) and not isinstance(line, bool) else None
