"""``planvec migrate-legacy``: the legacy ``roadmap_tasks`` collection into a planvec index.

Order, each step only after the previous one succeeded:

1. snapshot the source (a planvec archive of the legacy collection; from ``--from-archive``
   the archive itself is the snapshot, its sha256 is recorded);
2. integrity report (counts, duplicates, colliding keys, missing texts/files, field types);
3. map payloads to plans/tasks (``planvec.backup.legacy``) and sync them into the index with
   the real model (cache, lexical vectors, hashes: the ordinary sync, existing plans kept);
4. verify: every mapped task is in the index, ``planvec check`` against the mapped plans
   passes, and a search test finds each sampled task by its own text (the legacy random
   vectors are measured the same way, as the baseline);
5. write ``migration-report.md`` (+ ``.json``); only then, and only with ``delete_source``,
   drop the legacy collection.

``dry_run`` stops after step 3's mapping: it writes the integrity report and changes nothing.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from planvec.backup.legacy import (
    IntegrityReport,
    LegacyPoints,
    LegacySource,
    integrity_report,
    legacy_plans,
)
from planvec.backup.transfer import export_collection
from planvec.index import Index
from planvec.records import Plan, Task
from planvec.store.base import PointRecord


@dataclass
class LegacyMigrationReport:
    """Everything ``migrate_legacy`` did and measured."""

    source: str
    target: str
    dry_run: bool
    snapshot: dict[str, Any] = field(default_factory=dict)
    integrity: IntegrityReport = field(default_factory=IntegrityReport)
    plans: int = 0
    tasks: int = 0
    sync: dict[str, Any] = field(default_factory=dict)
    present: int = 0
    check: dict[str, Any] = field(default_factory=dict)
    search: dict[str, Any] = field(default_factory=dict)
    verified: bool = False
    problems: list[str] = field(default_factory=list)
    source_deleted: bool = False
    report_path: str = ""
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        out = {k: v for k, v in self.__dict__.items() if k != "integrity"}
        out["integrity"] = self.integrity.to_dict()
        out["seconds"] = round(self.seconds, 3)
        return out

    def to_markdown(self) -> str:
        """The human migration report."""
        i, snap = self.integrity, self.snapshot
        verdict = "DRY RUN (nothing written)" if self.dry_run else (
            "PASSED" if self.verified else "FAILED")  # fmt: skip
        lines = [
            "# Legacy migration report",
            "",
            f"- Source: `{self.source}`",
            f"- Target: `{self.target}`",
            f"- Result: **{verdict}**",
            f"- Snapshot: `{snap.get('path', '-')}` "
            f"(sha256 `{snap.get('sha256', '-')}`, {snap.get('points', '-')} points)",
            f"- Source deleted: {'yes' if self.source_deleted else 'no'}",
            "",
            "## Integrity of the legacy collection",
            "",
            "| measure | value |",
            "|---|---|",
            f"| points | {i.points} |",
            f"| vector dimension | {i.dimension} |",
            f"| id types | {', '.join(f'{k}: {v}' for k, v in sorted(i.id_types.items()))} |",
            f"| distinct tasks | {i.distinct_tasks} |",
            f"| files | {i.files} |",
            f"| duplicate tasks (same file, task_id, text) | {len(i.duplicates)} |",
            f"| colliding keys (same file and task_id, other text) | {len(i.colliding)} |",
            f"| tasks without description | {len(i.missing_text)} |",
            f"| tasks without file | {len(i.missing_file)} |",
            f"| tasks without task_id | {len(i.missing_task_id)} |",
            f"| statuses | {', '.join(f'{k}: {v}' for k, v in sorted(i.statuses.items()))} |",
            "",
        ]
        lines += _listing("Duplicates (one copy migrated)", i.duplicates)
        lines += _listing("Colliding keys (all kept, numbered)", i.colliding)
        lines += _listing("Without description (task id used as text)", i.missing_text)
        lines += _listing(f"Without file (plan `{'legacy/no-file.md'}`)", i.missing_file)
        lines += ["## Fields per type", "", "| field | types |", "|---|---|"]
        for name, types in sorted(i.fields.items()):
            lines.append(f"| {name} | {', '.join(f'{k}: {v}' for k, v in sorted(types.items()))} |")
        lines += ["", "## Migration", ""]
        lines.append(f"- Plans: {self.plans}; tasks mapped: {self.tasks}; present in the index: "
                     f"{self.present}")  # fmt: skip
        if self.sync:
            s = self.sync
            lines.append(
                f"- Sync: {s.get('added')} added, {s.get('updated')} updated, "
                f"{s.get('unchanged')} unchanged, {s.get('embedded')} embedded"
            )
        if self.check:
            lines.append(f"- `planvec check`: **{self.check.get('status')}** "
                         f"{self.check.get('summary') or ''}")  # fmt: skip
        if self.search:
            q = self.search
            lines += [
                "",
                "## Search test",
                "",
                f"Each of {q.get('sample')} sampled tasks is searched by its own text; found "
                "means the task is among the first hits.",
                "",
                "| index | found@1 | found@5 |",
                "|---|---|---|",
                f"| planvec, dense ({q.get('model')}) | {q.get('dense_at1'):.3f} | "
                f"{q.get('dense_at5'):.3f} |",
                f"| planvec, hybrid | {q.get('hybrid_at1'):.3f} | {q.get('hybrid_at5'):.3f} |",
                f"| legacy random vectors | {q.get('legacy_at1'):.3f} | "
                f"{q.get('legacy_at5'):.3f} |",
            ]
        if self.problems:
            lines += ["", "## Problems", ""] + [f"- {p}" for p in self.problems]
        return "\n".join(lines) + "\n"


def _listing(title: str, rows: list[dict[str, Any]], limit: int = 50) -> list[str]:
    if not rows:
        return []
    out = [f"### {title}", ""]
    out += [f"- `{json.dumps(r, ensure_ascii=False, default=str)}`" for r in rows[:limit]]
    if len(rows) > limit:
        out.append(f"- ... and {len(rows) - limit} more")
    return [*out, ""]


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
    search_sample: int = 200,
    min_found_at5: float = 0.8,
    seed: int = 0,
) -> LegacyMigrationReport:
    """Migrate a legacy collection into ``index``; see the module docstring for the steps.

    Args:
        legacy: the legacy points (from a store or an archive).
        index: the target planvec index (opened for writing).
        out_dir: where the snapshot and the reports go (created, mode 0700).
        dry_run: write the integrity report only.
        delete_source: drop the legacy collection after a passing verification.
        plans_root: check that each ``file_path`` exists under this directory.
        search_sample: tasks searched by their own text in the search test.
        min_found_at5: the dense found@5 rate the search test must reach.
        seed: seed of the search sample.

    Returns:
        The report (also written to ``out_dir/migration-report.md`` and ``.json``).
    """
    started = time.perf_counter()
    out_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    report = LegacyMigrationReport(source=legacy.location, target=index.location, dry_run=dry_run)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    if legacy.archive is not None:
        report.snapshot = {"path": str(legacy.archive.path), "points": legacy.archive.points,
                           "sha256": _sha256(legacy.archive.path)}  # fmt: skip
        dimension: int | None = legacy.archive.dimension
    else:
        assert legacy.store is not None
        info = legacy.store.collection_info(legacy.collection)
        dimension = info.dimension if info else None
        if not dry_run:
            snap = export_collection(
                legacy.store, legacy.collection,
                out_dir / f"{legacy.collection}-snapshot-{stamp}.planvec.tar",
            )  # fmt: skip
            report.snapshot = {"path": snap.archive, "points": snap.points, "sha256": snap.sha256}
    points = [p for chunk in legacy.chunks() for p in chunk]
    report.integrity = integrity_report(
        points, source=legacy.location, plans_root=plans_root, dimension=dimension
    )
    plans = legacy_plans(points)
    report.plans = len(plans)
    report.tasks = sum(len(p.tasks) for p in plans)
    if not dry_run:
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
    report.search = _search_test(legacy, index, tasks, search_sample, seed)
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


def _search_test(
    legacy: LegacyPoints, index: Index, tasks: list[Task], sample: int, seed: int
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
    legacy_at1, legacy_at5 = _legacy_baseline(legacy, chosen, rng)
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
    legacy: LegacyPoints, chosen: list[Task], rng: np.random.Generator
) -> tuple[float, float]:
    """Found@1/@5 of the legacy pipeline: its query vectors were random like its points."""
    if not chosen:
        return 0.0, 0.0
    wanted = [t.metadata.get("legacy_id") for t in chosen]
    queries: np.ndarray[Any, Any] | None = None
    best_ids: list[list[tuple[float, Any]]] = [[] for _ in chosen]
    for chunk in legacy.chunks(with_vectors=True):
        rows: list[PointRecord] = [p for p in chunk if p.vector is not None]
        if not rows:
            continue
        matrix = np.asarray([p.vector for p in rows], dtype=np.float32)
        matrix /= np.maximum(np.linalg.norm(matrix, axis=1, keepdims=True), 1e-12)
        if queries is None:
            queries = rng.standard_normal((len(chosen), matrix.shape[1])).astype(np.float32)
        scores = queries @ matrix.T
        for row, best in enumerate(best_ids):
            best.extend((float(s), p.id) for s, p in zip(scores[row], rows, strict=True))
            best.sort(key=lambda item: -item[0])
            del best[5:]
    at1 = sum(1 for w, best in zip(wanted, best_ids, strict=True) if best[:1] and best[0][1] == w)
    at5 = sum(1 for w, best in zip(wanted, best_ids, strict=True) if w in [i for _, i in best])
    return at1 / len(chosen), at5 / len(chosen)
