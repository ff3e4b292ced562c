"""One orchestrator: run the registered managers in order, each into its own collection.

``run_managers`` opens, for each manager, the same index as plans with the collection
replaced by the manager's (so the write lock, the deletion guard, the manifest and crash
recovery apply per collection), syncs the manager's source with ``Index.sync``, announces
the items added since the last run (managers with ``announces_additions``), then calls the
manager's ``analyse``. One manager raising never stops the others: its failure is recorded
in the combined report (``ManagersReport``: JSON and Markdown), whose exit code is 1.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from planvec.errors import ManagerNotApplicable
from planvec.guard import DeleteGuard
from planvec.managers.base import Finding, Manager, ManagerInputs
from planvec.managers.registry import select_managers
from planvec.records import Plan, SourceFailure
from planvec.settings import Settings
from planvec.wiring import open_index

if TYPE_CHECKING:
    from planvec.index import Index
    from planvec.sync_report import SyncReport

log = logging.getLogger(__name__)
events_log = logging.getLogger("planvec.events")

OpenIndex = Callable[..., "Index"]


@dataclass
class ManagerRun:
    """What one manager did in a run."""

    name: str
    kind: str
    collection: str
    status: str = "ok"  # ok | failed | skipped (nothing to read: see ManagerNotApplicable)
    error: str | None = None
    sync: dict[str, Any] | None = None
    findings: list[Finding] = field(default_factory=list)
    items: int | None = None
    seconds: float = 0.0

    @property
    def events(self) -> list[Finding]:
        return [f for f in self.findings if f.kind == "event"]

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "kind": self.kind,
            "collection": self.collection,
            "status": self.status,
            "error": self.error,
            "items": self.items,
            "seconds": round(self.seconds, 3),
            "sync": self.sync,
            "findings": [f.to_dict() for f in self.findings],
        }


@dataclass
class ManagersReport:
    """The combined report of one ``planvec managers run``."""

    runs: list[ManagerRun] = field(default_factory=list)

    @property
    def failed(self) -> list[str]:
        return [r.name for r in self.runs if r.status == "failed"]

    @property
    def files_failed(self) -> int:
        return sum(int((r.sync or {}).get("failed", 0)) for r in self.runs)

    @property
    def exit_code(self) -> int:
        """0: every manager ran and read every file; 1: a manager or a file failed."""
        return 1 if self.failed or self.files_failed else 0

    def findings(self, kind: str | None = None) -> list[Finding]:
        return [f for r in self.runs for f in r.findings if kind is None or f.kind == kind]

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.exit_code == 0,
            "failed": self.failed,
            "managers": [r.to_dict() for r in self.runs],
        }

    def to_markdown(self) -> str:
        """The report as Markdown (``planvec managers run --report FILE.md``)."""
        icon = "✅" if self.exit_code == 0 else "❌"
        lines = [f"# planvec managers: {icon} {'ok' if self.exit_code == 0 else 'problems'}", ""]
        if self.failed:
            lines += [f"Failed: {', '.join(self.failed)}.", ""]
        lines += [
            "| manager | kind | collection | status | items | added | updated | deleted "
            "| findings |",
            "|---|---|---|---|---:|---:|---:|---:|---:|",
        ]
        for run in self.runs:
            sync = run.sync or {}
            lines.append(
                f"| {run.name} | {run.kind} | `{run.collection}` | {run.status} | "
                f"{_cell(run.items)} | {_cell(sync.get('added'))} | {_cell(sync.get('updated'))} "
                f"| {_cell(sync.get('deleted'))} | {len(run.findings)} |"
            )
        for run in self.runs:
            lines += ["", f"## {run.name}", ""]
            if run.error:
                lines.append(f"- **{run.status}**: {_md(run.error)}")
            for failure in (run.sync or {}).get("failures", []):
                lines.append(f"- file not read: `{failure['path']}`: {_md(failure['error'])}")
            for finding in run.findings:
                lines.append(f"- **{finding.kind}**: {_md(finding.message)}")
            if lines[-1] == "":
                lines.append("Nothing to report.")
        return "\n".join(lines) + "\n"


def _cell(value: Any) -> str:
    return "–" if value is None else str(value)


def _md(text: str) -> str:
    return " ".join(str(text).split()).replace("|", "\\|")


class MaterializedSource:
    """A manager's source read once (its items are known before sync writes anything)."""

    def __init__(self, items: Sequence[Plan | SourceFailure]) -> None:
        self.items = list(items)

    def iter_plans(self) -> Iterator[Plan | SourceFailure]:
        return iter(self.items)


def run_managers(
    settings: Settings,
    inputs: ManagerInputs,
    names: Sequence[str] = (),
    *,
    allow_delete: bool = False,
    wait: bool = False,
    opener: OpenIndex = open_index,
    on_event: Callable[[Finding], None] | None = None,
) -> ManagersReport:
    """Run the managers called ``names`` (all when empty) over ``inputs``, in order.

    Args:
        settings: the index; each manager writes into ``settings`` with its own collection.
        inputs: the project paths (and DSN) the managers read.
        names: which managers; unknown names raise ``ConfigError`` before anything runs.
        allow_delete: confirm syncs over the deletion guard (``settings.max_delete``).
        wait: queue behind another writer of a collection instead of failing.
        opener: ``open_index`` (tests and the service inject their own).
        on_event: called with every event finding (the service's webhook and counter).
    """
    report = ManagersReport()
    for manager in select_managers(names):
        run = ManagerRun(manager.name, manager.kind, manager.collection)
        started = time.perf_counter()
        try:
            _run_one(manager, settings, inputs, run, opener, allow_delete=allow_delete, wait=wait)
        except ManagerNotApplicable as exc:  # named explicitly: a failure; else skipped
            run.status = "failed" if manager.name in names else "skipped"
            run.error = str(exc)
            log.info("manager %r %s: %s", manager.name, run.status, exc)
        except Exception as exc:  # one manager failing never stops the others
            run.status, run.error = "failed", f"{type(exc).__name__}: {exc}"
            refused = getattr(exc, "report", None)
            if run.sync is None and refused is not None and hasattr(refused, "to_dict"):
                run.sync = refused.to_dict()  # the deletion guard refused after writing
            log.error("manager %r failed: %s", manager.name, run.error)
        run.seconds = time.perf_counter() - started
        for event in run.events:
            events_log.info("event: %s", event.message)
            if on_event is not None:
                on_event(event)
        report.runs.append(run)
    return report


def _run_one(
    manager: Manager,
    settings: Settings,
    inputs: ManagerInputs,
    run: ManagerRun,
    opener: OpenIndex,
    *,
    allow_delete: bool,
    wait: bool,
) -> None:
    own = replace(settings, collection=manager.collection)
    with opener(own, write=True, wait=wait) as index:
        first_run = not index.exists() or index.count() == 0  # the baseline: no events
        source = MaterializedSource(list(manager.source(inputs).iter_plans()))
        guard = DeleteGuard(max_delete=settings.max_delete, allow=allow_delete)
        sync_report: SyncReport = index.sync(source, guard=guard)
        run.sync = sync_report.to_dict()
        if getattr(manager, "announces_additions", False) and not first_run:
            run.findings.extend(additions(manager, source, frozenset(sync_report.added_ids)))
        run.findings.extend(manager.analyse(index, sync_report, inputs))
        if inputs.options.get("anomalies", True):  # every collection, whatever its manager
            from planvec.managers.anomalies import find_anomalies  # numpy: only when run

            run.findings.extend(
                find_anomalies(index, new_ids=sync_report.added_ids, manager=manager.name)
            )
        run.items = index.count()


def additions(manager: Manager, source: MaterializedSource, added: frozenset[str]) -> list[Finding]:
    """An event per item of ``source`` this run's sync added (``SyncReport.added_ids``, which
    keeps the first ``ADDED_IDS_LIMIT`` ids of a sync), in source order."""
    found = []
    for plan in source.items:
        if not isinstance(plan, Plan):
            continue
        for task in plan.tasks:
            if task.id in added:
                found.append(
                    Finding(
                        manager=manager.name,
                        kind="event",
                        message=f"{manager.kind} added at {task.plan}:{task.line}: {task.text}",
                        items=(task.id,),
                        details={"event": "added", "plan": task.plan, "line": task.line,
                                 "key": task.key, "metadata": dict(task.metadata)},
                    )
                )  # fmt: skip
    return found
