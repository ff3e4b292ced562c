"""``planvec check``: does the index hold exactly the plans, with sound vectors?

The expected state is computed with the very functions sync writes with
(``planvec.embedding_recipe.task_payload`` / ``payload_hash`` / ``embed_hash``), so "check passes"
means "a sync would write nothing". The check is read-only and runs in two passes:

1. one scroll of the whole collection, page by page, *with* vectors: vector sanity
   (``planvec.checks.vectors``), required payload fields, points per plan. Only counters
   and a bounded sample of vectors are kept.
2. for each plan given (parsed in order), one filtered scroll of that plan's points,
   *without* vectors: missing tasks, stale text/payload, orphans and duplicates. Memory is
   bounded by the largest plan.

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

from planvec.checks.findings import CheckReport, Finding
from planvec.checks.vectors import VectorChecker
from planvec.embedding_recipe import REQUIRED_FIELDS, VOLATILE_FIELDS, payload_hash, task_payload
from planvec.errors import PlanvecError
from planvec.index import Index
from planvec.manifest import SCHEMA_VERSION
from planvec.records import Plan, SourceFailure
from planvec.sources.base import Source
from planvec.store.base import Filter, MatchValue

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


@dataclass(frozen=True)
class Expected:
    """What sync would write for one task (held for one plan at a time)."""

    id: str
    line: int
    key: str | None
    embed_hash: str
    payload: dict[str, Any]
    payload_hash: str


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
                _compare_plans(index, source, report, on_plan)
    except PlanvecError as exc:
        report.error = str(exc)
    report.seconds = time.perf_counter() - started
    return report


def _check_store(index: Index, report: CheckReport) -> bool:
    """Store health, collection and manifest; ``False`` when points cannot be read."""
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
    manifest = index.stored_manifest()
    report.manifest = manifest
    expected = report.config
    if manifest is None:
        report.add(
            Finding(
                "manifest_missing",
                "the collection has no planvec manifest: it was not written by planvec "
                "(rebuild it with `planvec repair PATH --apply`)",
            )
        )
    else:
        for key in ("model", "dimension", "distance", "lexical"):
            if manifest.get(key) != expected[key]:
                report.add(
                    Finding(
                        "manifest_mismatch",
                        f"manifest {key} is {manifest.get(key)!r}, this configuration uses "
                        f"{expected[key]!r}",
                        detail={
                            "field": key,
                            "manifest": manifest.get(key),
                            "config": expected[key],
                        },
                    )
                )
        version = int(manifest.get("schema_version", 0) or 0)
        if version > SCHEMA_VERSION:
            report.add(
                Finding(
                    "manifest_mismatch",
                    f"manifest schema {version} is newer than this planvec ({SCHEMA_VERSION}): "
                    "upgrade planvec",
                    detail={
                        "field": "schema_version",
                        "manifest": version,
                        "config": SCHEMA_VERSION,
                    },
                )
            )
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
                    line=_int(payload.get("line")),
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


def _compare_plans(
    index: Index,
    source: Source,
    report: CheckReport,
    on_plan: Callable[[Plan], None] | None,
) -> None:
    """Pass 2: each parsed plan against the points stored for it."""
    family = index.embedder.family
    lexical_version = index.lexical.version if index.lexical else None
    seen_plans: set[str] = set()
    for item in source.iter_plans():
        if isinstance(item, SourceFailure):
            seen_plans.add(item.path)
            report.add(Finding("unparsed_plan", f"cannot parse: {item.message}", plan=item.path))
            continue
        seen_plans.add(item.path)
        report.plans_checked += 1
        if on_plan is not None:
            on_plan(item)
        counts = report.plan(item.path)
        counts.tasks = len(item.tasks)
        report.tasks += len(item.tasks)
        expected: dict[str, Expected] = {}
        for task in item.tasks:
            if task.id in expected:
                continue  # sync skips it too (with a parse warning)
            payload = task_payload(task, model_family=family, lexical_version=lexical_version)
            expected[task.id] = Expected(
                task.id,
                task.line,
                task.key,
                payload["embed_hash"],
                payload,
                payload_hash(payload),
            )
        _compare_one(index, item.path, expected, lexical_version, report)
    for plan, counts in sorted(report.plans.items()):
        if plan not in seen_plans and counts.points:
            report.add(
                Finding(
                    "orphan_plan",
                    f"{counts.points} point(s) of a plan that is not among the plans given",
                    plan=plan,
                    detail={"points": counts.points},
                )
            )


def _compare_one(
    index: Index,
    plan: str,
    expected: dict[str, Expected],
    lexical_version: str | None,
    report: CheckReport,
) -> None:
    by_line = {e.line: e.id for e in expected.values()}
    by_key = {e.key: e.id for e in expected.values() if e.key}
    stored: set[str] = set()
    flt = Filter(must=(MatchValue("plan", plan),))
    for point in index.points.scroll(filter=flt, with_payload=True):
        pid = str(point.id)
        payload = point.payload
        line = _int(payload.get("line"))
        want = expected.get(pid)
        if want is None:
            key = payload.get("key")
            twin = by_line.get(line) if line is not None else None
            if twin is None and isinstance(key, str) and key:
                twin = by_key.get(key)
            if twin is not None:
                report.add(
                    Finding(
                        "duplicate",
                        f"second point for the task at line {expected[twin].line} (kept id {twin})",
                        plan=plan,
                        line=line,
                        id=pid,
                        detail={"duplicate_of": twin},
                    )
                )
            else:
                report.add(
                    Finding(
                        "orphan_task",
                        f"no task of the plan matches this point ({_short(payload.get('text'))})",
                        plan=plan,
                        line=line,
                        id=pid,
                    )
                )
            continue
        stored.add(pid)
        if (
            payload.get("embed_hash") != want.embed_hash
            or payload.get("lexical_version") != lexical_version
        ):
            report.add(
                Finding(
                    "stale_text",
                    f"indexed text or recipe differs from the plan ({_short(payload.get('text'))})",
                    plan=plan,
                    line=want.line,
                    id=pid,
                )
            )
        elif payload.get("payload_hash") != want.payload_hash or not _same_payload(
            payload, want.payload
        ):
            report.add(
                Finding(
                    "stale_payload",
                    "payload differs from the plan (status, section, metadata...)",
                    plan=plan,
                    line=want.line,
                    id=pid,
                )
            )
    for pid in sorted(expected.keys() - stored, key=lambda i: expected[i].line):
        want = expected[pid]
        report.add(
            Finding("missing", "task is not in the index", plan=plan, line=want.line, id=pid)
        )


def _same_payload(stored: dict[str, Any], expected: dict[str, Any]) -> bool:
    """Stored payload equals the expected one, volatile fields aside.

    Same answer as comparing the ``payload_hash`` of both (equal stable JSON), at a fraction
    of the cost of hashing every stored payload.
    """
    if len(stored.keys() - VOLATILE_FIELDS) != len(expected):
        return False
    return all(k in stored and _json_equal(stored[k], v) for k, v in expected.items())


def _json_equal(a: Any, b: Any) -> bool:
    """Equal as JSON: ``True`` is not ``1``, ``1`` is not ``1.0``, a tuple is a list."""
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(_json_equal(x, y) for x, y in zip(a, b, strict=True))
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_json_equal(a[k], b[k]) for k in a)
    return bool(a == b)


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _short(text: Any, size: int = 60) -> str:
    s = str(text or "")
    return s if len(s) <= size else s[: size - 1] + "…"
