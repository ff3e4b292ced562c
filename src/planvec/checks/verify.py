"""``planvec check``: does the index hold exactly the plans, with sound vectors?

The expected state is computed with the very functions sync writes with
(``planvec.embedding_recipe.task_payload`` / ``payload_hash`` / ``embed_hash``), so "check passes"
means "a sync would write nothing". The check is read-only and runs in two passes:

1. one scroll of the whole collection, page by page, *with* vectors: vector sanity
   (``planvec.checks.vectors``), required payload fields, points per plan. Only counters
   and a bounded sample of vectors are kept.
2. for each plan given (parsed in order), one filtered scroll of that plan's points,
   *without* vectors (``planvec.checks.compare``): missing tasks, stale text/payload,
   orphans and duplicates. Memory is bounded by the largest plan.

Plans present in the index but not among the plans given are orphans (the index mirrors
its PATHS, as ``planvec index`` does); plans that fail to parse keep their points (as in
sync) and are reported as a warning.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from planvec.checks.compare import compare_plans, to_int
from planvec.checks.findings import CheckReport, Finding
from planvec.checks.vectors import VectorChecker
from planvec.embedding_recipe import REQUIRED_FIELDS
from planvec.errors import REBUILD_HINT, PlanvecError
from planvec.index import Index
from planvec.manifest import SCHEMA_VERSION
from planvec.records import Plan
from planvec.sources.base import Source

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CheckOptions:
    """Knobs of ``check_index``.

    Attributes:
        vector_sample: vectors not found in the embedding cache that are re-embedded to
            verify they match their text (a bounded, deterministic sample).
        norm_tolerance: allowed distance of a vector's norm from 1.
        min_cosine: a stored vector whose cosine to the embedding of its text is lower is
            stale (lowered automatically when another variant of the model checks).
        page_size: points per scroll page.
        seed: seed of the sample.
        cache: an embedding cache to compare stored vectors with (any object with
            ``get_many(model_id, hashes)``, e.g. ``planvec.embed.cache.EmbeddingCache``);
            by default the cache of the index's embedder, when it has one.
    """

    vector_sample: int = 256
    norm_tolerance: float = 1e-3
    min_cosine: float = 0.999
    page_size: int = 1024
    seed: int = 0
    cache: Any = None


def check_index(
    index: Index,
    source: Source | None = None,
    options: CheckOptions | None = None,
    *,
    on_plan: Callable[[Plan], None] | None = None,
) -> CheckReport:
    """Compare ``index`` with the plans of ``source`` and check every stored vector.

    Args:
        index: the index to check (only read).
        source: the plans the index should mirror; ``None`` checks only the store, the
            manifest, the vectors and the payloads.
        options: thresholds and sample sizes.
        on_plan: called with every parsed plan (``repair`` uses it to avoid a second parse).

    Returns:
        The report; ``report.exit_code`` is 0 (consistent), 1 (problems) or 2 (could not run).
    """
    opts = options or CheckOptions()
    started = time.perf_counter()
    report = CheckReport(location=index.location, collection=index.collection)
    report.config = {
        "model": index.embedder.family,
        "model_id": index.embedder.model_id,
        "dimension": index.embedder.dimension,
        "distance": "cosine",
        "lexical": index.lexical.version if index.lexical else None,
        "schema_version": SCHEMA_VERSION,
    }
    try:
        if _check_store(index, report):
            _scan_points(index, report, opts)
            if source is not None:
                compare_plans(index, source, report, on_plan)
    except PlanvecError as exc:
        report.error = str(exc)
    report.seconds = time.perf_counter() - started
    return report


def _check_store(index: Index, report: CheckReport) -> bool:
    """Store health, collection and manifest; ``False`` when points cannot be read."""
    if not _check_health(index, report):
        return False
    info = index.collection_info()
    if info is None:
        report.add(
            Finding(
                "collection_missing",
                f"collection {index.collection!r} does not exist in {index.location}: "
                "run `planvec index PATH`",
            )
        )
        return False
    report.points = info.points
    report.manifest = index.stored_manifest()
    _check_manifest(report.manifest, report)
    if info.dimension != index.embedder.dimension or info.distance != "cosine":
        report.add(
            Finding(
                "collection_mismatch",
                f"collection holds {info.dimension}-d {info.distance} vectors, the embedder "
                f"gives {index.embedder.dimension}-d cosine ones: rebuild the collection",
                detail={
                    "dimension": info.dimension,
                    "distance": info.distance,
                    "points": info.points,
                },
            )
        )
    return True


def _check_health(index: Index, report: CheckReport) -> bool:
    """Whether the store answers (recorded in ``report.store``)."""
    health = index.store_health()
    report.store = {
        "backend": health.backend,
        "location": health.location,
        "ok": health.ok,
        "detail": health.detail,
    }
    if not health.ok:
        report.error = f"the store does not answer: {health.detail}"
        report.add(Finding("store_unreachable", report.error))
    return health.ok


def _check_manifest(manifest: dict[str, Any] | None, report: CheckReport) -> None:
    """The manifest against this configuration (``report.config``) and this planvec."""
    if manifest is None:
        report.add(
            Finding(
                "manifest_missing",
                "the collection has no planvec manifest (lost, or written by another tool); "
                f"{REBUILD_HINT}",
            )
        )
        return
    expected = report.config
    for key in ("model", "dimension", "distance", "lexical"):
        if manifest.get(key) != expected[key]:
            report.add(
                Finding(
                    "manifest_mismatch",
                    f"manifest {key} is {manifest.get(key)!r}, this configuration uses "
                    f"{expected[key]!r}",
                    detail={"field": key, "manifest": manifest.get(key), "config": expected[key]},
                )
            )
    version = int(manifest.get("schema_version", 0) or 0)
    if version > SCHEMA_VERSION:
        report.add(
            Finding(
                "manifest_mismatch",
                f"manifest schema {version} is newer than this planvec ({SCHEMA_VERSION}): "
                "upgrade planvec",
                detail={"field": "schema_version", "manifest": version, "config": SCHEMA_VERSION},
            )
        )


def _scan_points(index: Index, report: CheckReport, opts: CheckOptions) -> None:
    """Pass 1: every point once, with its vector, page by page."""
    manifest = report.manifest or {}
    family = str(manifest.get("model") or index.embedder.family)
    checker = VectorChecker(
        index.embedder,
        family=family,
        model_id=str(manifest.get("model_id") or index.embedder.model_id),
        norm_tolerance=opts.norm_tolerance,
        min_cosine=opts.min_cosine,
        sample=opts.vector_sample,
        seed=opts.seed,
        cache=opts.cache,
        # a collection of the wrong size is one finding, not one per point
        check_dimension=not any(f.kind == "collection_mismatch" for f in report.findings),
    )
    total = 0
    page: list[Any] = []
    for point in index.points.scroll(
        with_vectors=True,
        with_payload=REQUIRED_FIELDS,  # presence is all pass 1 needs (and text for vectors)
        batch_size=opts.page_size,
    ):
        total += 1
        payload = point.payload
        plan = payload.get("plan")
        if isinstance(plan, str):
            report.plan(plan).points += 1
        else:
            report.add(Finding("orphan_task", "point has no plan in its payload", id=str(point.id)))
            continue
        absent = [f for f in REQUIRED_FIELDS if f not in payload]
        if absent:
            report.add(
                Finding(
                    "missing_fields",
                    f"payload lacks {', '.join(absent)}",
                    plan=plan,
                    line=to_int(payload.get("line")),
                    id=str(point.id),
                    detail={"fields": absent},
                )
            )
        page.append(point)
        if len(page) >= opts.page_size:
            checker.check_page(page, report)
            page = []
    if page:
        checker.check_page(page, report)
    checker.finish(report)
    report.points = total
