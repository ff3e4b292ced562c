"""Sync Markdown plans into the PostgreSQL catalogue, both ways for task statuses.

Incremental from the same facts as the vector index: the same parser, task ids and content
hashes (``planvec.sources``, ``planvec.records``). A plan whose parsed rows hash to the
``rows_hash`` last synced, and that has no database-side status edit, is skipped without
reading its rows; any other plan is diffed task by task on a ``row_hash`` (every column but
the status) and a two-way status rule (``planvec.catalogue.status``).

Crash safety: each plan is written in one transaction (plan row, task upserts, deletes), so
a SIGKILL at any moment leaves every plan in its old or its new state, and the next run's
diff converges to what a clean run gives. A write-back replaces the Markdown file before its
transaction commits; if the process dies between the two, the next run sees both sides
agreeing on the new status and settles it. One sync runs per database at a time (a session
advisory lock, released by the server when a killed process's connection drops).
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from planvec.catalogue import db
from planvec.catalogue.report import (
    CatalogueReport,
    Refusal,
    WriteBack,
    note_discarded,
    note_status,
)
from planvec.catalogue.runs import ensure_schema, finish_run, start_run, sync_lock
from planvec.catalogue.status import (
    FROM_DB,
    FROM_PLAN,
    WRITTEN_BACK,
    Prefer,
    Reconciled,
    StoredTask,
    reconcile,
)
from planvec.catalogue.writeback import (
    CheckboxEdit,
    WriteBackRefused,
    edit_checkboxes,
    replace_file,
    unified_diff,
)
from planvec.records import ParseWarning, Plan, SourceFailure, Task, content_hash, stable_json
from planvec.redact import redact_dsn
from planvec.roots import RootedPlanSource
from planvec.sources.files import discover, read_plan

log = logging.getLogger(__name__)

#: Bump when the catalogue's task columns change meaning: every row is rewritten once.
ROW_RECIPE = "catalogue-row-1"

_UPSERT_TASK = """
INSERT INTO planvec.tasks (id, plan, key, text, status, synced_status, section, section_path,
    parent_id, depth, metadata, content_hash, row_hash, line)
VALUES (%s::uuid, %s, %s, %s, %s, %s, %s, %s, %s::uuid, %s, %s, %s, %s, %s)
ON CONFLICT (id) DO UPDATE SET plan = EXCLUDED.plan, key = EXCLUDED.key, text = EXCLUDED.text,
    status = EXCLUDED.status, synced_status = EXCLUDED.synced_status,
    section = EXCLUDED.section, section_path = EXCLUDED.section_path,
    parent_id = EXCLUDED.parent_id, depth = EXCLUDED.depth, metadata = EXCLUDED.metadata,
    content_hash = EXCLUDED.content_hash, row_hash = EXCLUDED.row_hash, line = EXCLUDED.line,
    updated_at = now()
"""
_UPSERT_PLAN = """
INSERT INTO planvec.plans (path, title, version, file_hash, rows_hash, tasks, done, warnings)
VALUES (%s, %s, %s, %s, %s, %s, %s, %s)
ON CONFLICT (path) DO UPDATE SET title = EXCLUDED.title, version = EXCLUDED.version,
    file_hash = EXCLUDED.file_hash, rows_hash = EXCLUDED.rows_hash, tasks = EXCLUDED.tasks,
    done = EXCLUDED.done, warnings = EXCLUDED.warnings, synced_at = now()
"""


@dataclass(frozen=True)
class _Options:
    write_back: bool
    dry_run: bool
    prefer: Prefer | None


def row_hash(task: Task) -> str:
    """Hash of every catalogue column of ``task`` but its status (which is reconciled)."""
    fields: list[Any] = [task.plan, task.key, task.text, list(task.section), task.parent_id]
    fields += [task.depth, dict(task.metadata), task.content_hash, task.line, ROW_RECIPE]
    return content_hash(stable_json(fields))


def rows_hash(plan: Plan, hashes: Sequence[str] | None = None) -> str:
    """Hash of every row of ``plan`` as parsed, statuses included (the skip test).

    ``hashes`` are the tasks' ``row_hash`` values when the caller has them already.
    """
    hashes = [row_hash(t) for t in plan.tasks] if hashes is None else hashes
    parts = [f"{h}:{t.status}" for h, t in zip(hashes, plan.tasks, strict=True)]
    return content_hash(ROW_RECIPE, plan.title or "", plan.version or "", *parts)


def sync_catalogue(
    dsn: str,
    paths: Sequence[str | Path],
    *,
    write_back: bool = False,
    dry_run: bool = False,
    prefer: Prefer | None = None,
    delete_missing: bool = True,
    root: Path | None = None,
) -> CatalogueReport:
    """Bring the catalogue at ``dsn`` in step with the plans under ``paths``.

    Args:
        dsn: a libpq DSN or URL; its password never appears in errors or the report.
        paths: plan files or directories (as for ``planvec index``).
        write_back: write database-side status edits into the Markdown files.
        dry_run: compute everything, write nothing (the database transactions roll back);
            the report then holds the write-back diffs that would be applied.
        prefer: settle conflicts for the plan (``"plan"``) or the database (``"db"``);
            ``None`` leaves them open and reported.
        delete_missing: remove plans that are no longer found (unless they failed to read).
        root: name plans relative to this directory (the index's root: same names and ids);
            only vanished plans under ``paths`` are removed. ``None``: relative to each path.

    Returns:
        What was (or would be) done; see ``CatalogueReport``.

    Raises:
        CatalogueError: the database cannot be reached or is at a newer schema.
        CatalogueLocked: another catalogue sync runs on this database.
        SourceError: a path does not exist.
    """
    started = time.perf_counter()
    report = CatalogueReport(dsn=redact_dsn(dsn), dry_run=dry_run)
    opts = _Options(write_back, dry_run, prefer)
    files, failures, in_scope = _plan_files(paths, root)
    report.failures.extend(failures)
    with db.connect(dsn) as conn:
        # The catalogue is derived from the plans and every run converges, so a commit lost
        # to a server crash is redone by the next run: no need to wait for the WAL flush of
        # each plan's commit (the dominant cost on a busy disk). Consistency is unaffected.
        conn.execute("SET synchronous_commit TO off")
        ensure_schema(conn, dry_run, report)
        with sync_lock(conn):
            report.run_id = None if dry_run else start_run(conn)
            try:
                _sync_files(conn, files, opts, report)
                keep = {rel for _, rel in files} | {f.path for f in report.failures}
                if delete_missing:
                    _delete_vanished(conn, keep, dry_run, report, in_scope)
            except BaseException:
                report.seconds = time.perf_counter() - started
                if report.run_id is not None:
                    with contextlib.suppress(Exception):  # keep the original error
                        finish_run(conn, report, "failed")
                raise
            report.seconds = time.perf_counter() - started
            if report.run_id is not None:
                finish_run(conn, report, "ok")
    return report


def _plan_files(
    paths: Sequence[str | Path], root: Path | None
) -> tuple[list[tuple[Path, str]], list[SourceFailure], Callable[[str], bool]]:
    """The plan files with their names, the unreadable ones, and which names are in scope."""
    files, failures = discover([Path(p) for p in paths])
    if root is None:
        return files, failures, lambda _: True
    rooted = RootedPlanSource([Path(p) for p in paths], root)
    named = [(full, rooted.name_of(full)) for full, _ in files]
    return named, [rooted.rename_failure(f) for f in failures], rooted.in_scope


def _sync_files(
    conn: Any, files: list[tuple[Path, str]], opts: _Options, report: CatalogueReport
) -> None:
    """Read, parse and sync each plan; one bad file does not stop the others."""
    known = {
        path: (hashed, bool(edited))
        for path, hashed, edited in conn.execute(
            "SELECT p.path, p.rows_hash, EXISTS (SELECT 1 FROM planvec.tasks t"
            " WHERE t.plan = p.path AND t.status <> t.synced_status) FROM planvec.plans p"
        )
    }
    for full, rel in files:
        item = read_plan(full, rel)
        if not isinstance(item, Plan):
            report.failures.append(item)
            continue
        report.plans += 1
        report.tasks += len(item.tasks)
        report.warnings.extend(item.warnings)
        hashes = [row_hash(t) for t in item.tasks]
        if known.get(rel) == (rows_hash(item, hashes), False):
            report.plans_unchanged += 1
            report.unchanged += len({t.id for t in item.tasks})
            continue
        _sync_plan(conn, full, item, hashes, opts, report)


def _sync_plan(
    conn: Any,
    full: Path,
    plan: Plan,
    hashes: list[str],
    opts: _Options,
    report: CatalogueReport,
) -> None:
    """One plan, one transaction: lock its rows, reconcile, write back, write the diff."""
    import psycopg

    with conn.transaction():
        stored = _lock_rows(conn, plan.path)
        decisions = _reconcile_all(plan, stored, opts.prefer)
        if opts.write_back:
            # same rows as before but the statuses (verified), so the same row hashes
            plan = _write_back(full, plan, stored, decisions, opts.dry_run, report)
        upserts, gone = _diff(plan, hashes, stored, decisions, report)
        conn.execute(
            _UPSERT_PLAN,
            (
                plan.path,
                plan.title,
                plan.version,
                plan.file_hash,
                rows_hash(plan, hashes),
                len(plan.tasks),
                plan.done,
                len(plan.warnings),
            ),
        )
        if upserts:
            conn.cursor().executemany(_UPSERT_TASK, upserts)
        if gone:
            conn.execute("DELETE FROM planvec.tasks WHERE id = ANY(%s::uuid[])", (gone,))
        if opts.dry_run:
            raise psycopg.Rollback()


def _lock_rows(conn: Any, plan: str) -> dict[str, StoredTask]:
    rows = conn.execute(
        "SELECT id::text, status, synced_status, row_hash, line, key, text"
        " FROM planvec.tasks WHERE plan = %s FOR UPDATE",
        (plan,),
    )
    return {row[0]: StoredTask(*row[1:]) for row in rows}


def _reconcile_all(
    plan: Plan, stored: dict[str, StoredTask], prefer: Prefer | None
) -> dict[str, Reconciled]:
    decisions: dict[str, Reconciled] = {}
    for task in plan.tasks:
        old = stored.get(task.id)
        if old is not None and task.id not in decisions:
            decisions[task.id] = reconcile(task.status, old.status, old.synced_status, prefer)
    return decisions


def _write_back(
    full: Path,
    plan: Plan,
    stored: dict[str, StoredTask],
    decisions: dict[str, Reconciled],
    dry_run: bool,
    report: CatalogueReport,
) -> Plan:
    """Write the database-side statuses into the file; the plan as it now reads."""
    lines: dict[str, int] = {}
    for task in plan.tasks:  # a duplicated id: its first occurrence is the one synced
        lines.setdefault(task.id, task.line)
    edits = [
        CheckboxEdit(task_id, lines[task_id], stored[task_id].status)
        for task_id, rec in decisions.items()
        if rec.outcome == FROM_DB
    ]
    if not edits:
        return plan
    try:
        raw = full.read_bytes()
        if hashlib.sha256(raw).hexdigest() != plan.file_hash:
            raise WriteBackRefused("the file changed since it was read; re-run the sync")
        new, edited = edit_checkboxes(raw, plan, edits)
        if not dry_run:
            replace_file(full, new, plan.file_hash)
    except (WriteBackRefused, OSError) as exc:
        reason = str(exc) if isinstance(exc, WriteBackRefused) else f"cannot write: {exc}"
        report.refused.append(Refusal(plan.path, reason))
        return plan
    report.write_backs.append(
        WriteBack(plan.path, len(edits), unified_diff(raw, new, plan.path), not dry_run)
    )
    for edit in edits:
        status = stored[edit.task_id].status
        old = decisions[edit.task_id]
        decisions[edit.task_id] = Reconciled(status, status, WRITTEN_BACK, old.resolved_by)
    return edited


def _diff(
    plan: Plan,
    hashes: list[str],
    stored: dict[str, StoredTask],
    decisions: dict[str, Reconciled],
    report: CatalogueReport,
) -> tuple[list[tuple[Any, ...]], list[str]]:
    """The task rows to upsert and the ids to delete; counts and status changes reported."""
    from psycopg.types.json import Jsonb

    upserts: list[tuple[Any, ...]] = []
    seen: set[str] = set()
    for task, new_hash in zip(plan.tasks, hashes, strict=True):
        if task.id in seen:
            report.warnings.append(
                ParseWarning(plan.path, task.line, f"duplicate task id {task.id}; skipped")
            )
            continue
        seen.add(task.id)
        old = stored.get(task.id)
        rec = decisions.get(task.id) or Reconciled(task.status, task.status, FROM_PLAN)
        if old is not None:
            note_status(report, task, old, rec)
            if (new_hash, rec.status, rec.synced_status) == (
                old.row_hash,
                old.status,
                old.synced_status,
            ):
                report.unchanged += 1
                continue
        report.updated += old is not None
        report.added += old is None
        upserts.append(_task_row(task, rec, new_hash, Jsonb(dict(task.metadata))))
    gone = [task_id for task_id in stored if task_id not in seen]
    for task_id in gone:
        note_discarded(report, plan.path, task_id, stored[task_id])
    report.deleted += len(gone)
    return upserts, gone


def _task_row(task: Task, rec: Reconciled, hashed: str, metadata: Any) -> tuple[Any, ...]:
    """Parameters of ``_UPSERT_TASK``, in its column order."""
    return (
        *(task.id, task.plan, task.key, task.text, rec.status, rec.synced_status),
        *(list(task.section), " > ".join(task.section), task.parent_id, task.depth),
        *(metadata, task.content_hash, hashed, task.line),
    )


def _delete_vanished(
    conn: Any,
    keep: set[str],
    dry_run: bool,
    report: CatalogueReport,
    in_scope: Callable[[str], bool],
) -> None:
    """Remove the plans no longer found under the paths (each batch in one transaction)."""
    import psycopg

    known = [row[0] for row in conn.execute("SELECT path FROM planvec.plans ORDER BY path")]
    vanished = [path for path in known if path not in keep and in_scope(path)]
    report.plans_deleted = vanished
    for start in range(0, len(vanished), 64):
        batch = vanished[start : start + 64]
        with conn.transaction():
            rows = conn.execute(
                "SELECT plan, id::text, status, synced_status, row_hash, line, key, text"
                " FROM planvec.tasks WHERE plan = ANY(%s) FOR UPDATE",
                (batch,),
            ).fetchall()
            for row in rows:
                note_discarded(report, row[0], row[1], StoredTask(*row[2:]))
            report.deleted += len(rows)
            conn.execute("DELETE FROM planvec.plans WHERE path = ANY(%s)", (batch,))
            if dry_run:
                raise psycopg.Rollback()
    if vanished:
        log.info("catalogue: removed %d vanished plan(s)", len(vanished))
