"""``planvec migrate-legacy``: the legacy ``roadmap_tasks`` collection into a planvec index.

Order, each step only after the previous one succeeded:

1. snapshot the source (a planvec archive of the legacy collection; from ``--from-archive``
   the archive itself is the snapshot, its sha256 is recorded);
2. integrity report (payload shapes of the three legacy writers, points that are no task,
   duplicates, colliding keys, known overwrites, missing texts/files/parents, field types);
3. place the tasks (``planvec.backup.legacy_plans``): with ``plans_root``, in the plan files,
   with the ids ``planvec index`` gives them; else under their legacy key and file name;
   then sync them into the index with the real model (the ordinary sync, other plans kept);
4. verify: every mapped task is in the index, ``planvec check`` against the mapped plans
   passes, and a search test finds each sampled task by its own text (the legacy random
   vectors are measured the same way, as the baseline);
5. write ``migration-report.md`` (+ ``.json`` and ``legacy-id-map.json``); only then, and
   only with ``delete_source``, drop the legacy collection.

``dry_run`` stops after step 3's placement: it writes the reports and changes nothing.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from planvec.backup.legacy import LegacyPoints, integrity_report, read_points
from planvec.backup.legacy_payloads import LegacyTask
from planvec.backup.legacy_plans import Placement, legacy_plans
from planvec.backup.legacy_report import LegacyMigrationReport
from planvec.backup.legacy_stored import LegacySource, copies
from planvec.backup.transfer import export_collection
from planvec.index import Index
from planvec.records import Plan, Task
from planvec.store.base import Filter, MatchValue, PointRecord

__all__ = ["LegacyMigrationReport", "migrate_legacy"]


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def migrate_legacy(
    legacy: LegacyPoints,
    index: Index,
    out_dir: Path,
    *,
    dry_run: bool = False,
    delete_source: bool = False,
    plans_root: Path | None = None,
    plan_for: Mapping[str, str] | None = None,
    search_sample: int = 200,
    min_found_at5: float = 0.8,
    seed: int = 0,
) -> LegacyMigrationReport:
    """Migrate a legacy collection into ``index``; see the module docstring for the steps.

    Args:
        legacy: the legacy points (from a store or an archive).
        index: the target planvec index (opened for writing).
        out_dir: where the snapshot and the reports go (created, mode 0700).
        dry_run: write the reports only.
        delete_source: drop the legacy collection after a passing verification.
        plans_root: the directory of the plan files the legacy collection was made from
            (searched recursively); the tasks are placed in them (see ``legacy_plans``).
        plan_for: stored file name -> plan path under ``plans_root``, for names found
            several times.
        search_sample: tasks searched by their own text in the search test.
        min_found_at5: the dense found@5 rate the search test must reach.
        seed: seed of the search sample.

    Returns:
        The report (also written to ``out_dir/migration-report.md`` and ``.json``).
    """
    started = time.perf_counter()
    out_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    report = LegacyMigrationReport(source=legacy.location, target=index.location, dry_run=dry_run)
    dimension = _snapshot(report, legacy, out_dir, dry_run)
    points = [p for chunk in legacy.chunks() for p in chunk]
    report.integrity = integrity_report(points, source=legacy.location, dimension=dimension)
    tasks = [t for t in read_points(points) if isinstance(t, LegacyTask)]
    plans, report.placement = legacy_plans(tasks, plans_root, plan_for)
    report.plans = len(plans)
    report.tasks = sum(len(p.tasks) for p in plans)
    report.id_map_path = _write_id_map(out_dir, plans, report.placement, copies(tasks))
    if not _refused(report, index, plans) and not dry_run:
        _migrate(report, legacy, index, plans, search_sample, min_found_at5, seed)
        if report.verified and delete_source and legacy.store is not None:
            legacy.store.drop_collection(legacy.collection)
            report.source_deleted = True
        elif delete_source and not report.verified:
            report.problems.append("the legacy collection was kept: verification did not pass")
    report.seconds = time.perf_counter() - started
    md = out_dir / "migration-report.md"
    md.write_text(report.to_markdown(), encoding="utf-8")
    (out_dir / "migration-report.json").write_text(
        json.dumps(report.to_dict(), ensure_ascii=False, indent=1, default=str), encoding="utf-8"
    )
    report.report_path = str(md)
    return report


def _snapshot(
    report: LegacyMigrationReport, legacy: LegacyPoints, out_dir: Path, dry_run: bool
) -> int | None:
    """Record (archive) or write (store) the snapshot; returns the legacy dimension."""
    if legacy.archive is not None:
        report.snapshot = {"path": str(legacy.archive.path), "points": legacy.archive.points,
                           "sha256": _sha256(legacy.archive.path)}  # fmt: skip
        return legacy.archive.dimension
    assert legacy.store is not None
    info = legacy.store.collection_info(legacy.collection)
    if not dry_run:
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
        snap = export_collection(
            legacy.store, legacy.collection,
            out_dir / f"{legacy.collection}-snapshot-{stamp}.planvec.tar",
        )  # fmt: skip
        report.snapshot = {"path": snap.archive, "points": snap.points, "sha256": snap.sha256}
    return info.dimension if info else None


def legacy_id_of(task: Task, placement: Placement) -> Any:
    """The legacy point id a migrated task came from (``None`` for a recovered task)."""
    return task.metadata.get("legacy_id", placement.legacy_ids.get(task.id))


def _write_id_map(
    out_dir: Path, plans: list[Plan], placement: Placement, all_copies: dict[Any, list[Any]]
) -> str:
    """``legacy-id-map.json``: every legacy point id (duplicates too) -> planvec id, plan, key."""
    rows: dict[str, dict[str, Any]] = {}
    for plan in plans:
        for t in plan.tasks:
            kept = legacy_id_of(t, placement)
            for legacy_id in all_copies.get(kept, []):
                rows[str(legacy_id)] = {"id": t.id, "plan": t.plan, "key": t.key, "line": t.line}
    path = out_dir / "legacy-id-map.json"
    path.write_text(json.dumps(rows, ensure_ascii=False, indent=1), encoding="utf-8")
    return str(path)


def _migrate(
    report: LegacyMigrationReport,
    legacy: LegacyPoints,
    index: Index,
    plans: list[Plan],
    search_sample: int,
    min_found_at5: float,
    seed: int,
) -> None:
    from planvec.checks.verify import check_index

    source = LegacySource(plans)
    synced = index.sync(source, delete_missing=False)
    report.sync = {k: v for k, v in synced.to_dict().items() if k not in ("warnings", "changes")}
    tasks = [t for plan in plans for t in plan.tasks]
    ids = [t.id for t in tasks]
    report.present = sum(
        len(index.points.retrieve(ids[i : i + 512])) for i in range(0, len(ids), 512)
    )
    check = check_index(index, source)
    report.check = {"status": check.status, "exit_code": check.exit_code,
                    "summary": check.summary(), "error": check.error}  # fmt: skip
    legacy_ids = {t.id: legacy_id_of(t, report.placement) for t in tasks}
    report.search = _search_test(legacy, index, tasks, legacy_ids, search_sample, seed)
    if synced.failed:
        report.problems.append(f"{synced.failed} plan(s) failed to sync")
    if report.present != len(tasks):
        report.problems.append(f"only {report.present} of {len(tasks)} tasks are in the index")
    if check.exit_code != 0:
        report.problems.append(
            f"planvec check: {check.status} {check.summary()} {check.error or ''}"
        )
    if report.search["dense_at5"] < min_found_at5:
        report.problems.append(
            f"search test: dense found@5 {report.search['dense_at5']:.3f} < {min_found_at5}"
        )
    report.verified = not report.problems


def _refused(report: LegacyMigrationReport, index: Index, plans: list[Plan]) -> bool:
    """Never drop what the target already indexed for the placed plans: refuse instead."""
    clashes = _would_delete(index, plans)
    if clashes:
        listing = ", ".join(f"{plan} ({n})" for plan, n in sorted(clashes.items())[:5])
        report.problems.append(
            f"nothing migrated: the target index already holds points of these plans that the "
            f"migration does not hold and would delete: {listing}. Migrate into a new index "
            "(--index DIR or --collection NAME), then run `planvec index` on the plans"
        )
    return bool(clashes)


def _would_delete(index: Index, plans: list[Plan]) -> dict[str, int]:
    """Points the target holds for the migrated plans that the migration does not hold."""
    if not index.exists():
        return {}
    out: dict[str, int] = {}
    for plan in plans:
        ids = {t.id for t in plan.tasks}
        flt = Filter(must=(MatchValue("plan", plan.path),))
        stored = index.points.scroll(filter=flt, with_payload=("plan",))
        extra = sum(1 for p in stored if str(p.id) not in ids)
        if extra:
            out[plan.path] = extra
    return out


def _search_test(
    legacy: LegacyPoints,
    index: Index,
    tasks: list[Task],
    legacy_ids: dict[str, Any],
    sample: int,
    seed: int,
) -> dict[str, Any]:
    """Each sampled task searched by its own text, in planvec and with legacy random vectors."""
    usable = [t for t in tasks if "legacy_issues" not in t.metadata]
    rng = np.random.default_rng(seed)
    chosen = [usable[i] for i in sorted(rng.permutation(len(usable))[:sample])] if usable else []
    found = {"dense": [0, 0], "hybrid": [0, 0]}
    for task in chosen:
        for mode in found:
            hits = [h.id for h in index.search(task.text, limit=5, mode=mode)]
            found[mode][0] += int(hits[:1] == [task.id])
            found[mode][1] += int(task.id in hits)
    wanted = [legacy_ids.get(t.id) for t in chosen]
    legacy_at1, legacy_at5 = _legacy_baseline(legacy, wanted, rng)
    n = max(1, len(chosen))
    return {
        "sample": len(chosen),
        "model": index.embedder.model_id,
        "dense_at1": found["dense"][0] / n,
        "dense_at5": found["dense"][1] / n,
        "hybrid_at1": found["hybrid"][0] / n,
        "hybrid_at5": found["hybrid"][1] / n,
        "legacy_at1": legacy_at1,
        "legacy_at5": legacy_at5,
    }


def _legacy_baseline(
    legacy: LegacyPoints, wanted: list[Any], rng: np.random.Generator
) -> tuple[float, float]:
    """Found@1/@5 of the legacy pipeline: its query vectors were random like its points."""
    if not wanted:
        return 0.0, 0.0
    queries: np.ndarray[Any, Any] | None = None
    best_ids: list[list[tuple[float, Any]]] = [[] for _ in wanted]
    for chunk in legacy.chunks(with_vectors=True):
        rows: list[PointRecord] = [p for p in chunk if p.vector is not None]
        if not rows:
            continue
        matrix = np.asarray([p.vector for p in rows], dtype=np.float32)
        matrix /= np.maximum(np.linalg.norm(matrix, axis=1, keepdims=True), 1e-12)
        if queries is None:
            queries = rng.standard_normal((len(wanted), matrix.shape[1])).astype(np.float32)
        scores = queries @ matrix.T
        for row, best in enumerate(best_ids):
            best.extend((float(s), p.id) for s, p in zip(scores[row], rows, strict=True))
            best.sort(key=lambda item: -item[0])
            del best[5:]
    at1 = sum(1 for w, best in zip(wanted, best_ids, strict=True) if best[:1] and best[0][1] == w)
    at5 = sum(1 for w, best in zip(wanted, best_ids, strict=True) if w in [i for _, i in best])
    return at1 / len(wanted), at5 / len(wanted)
