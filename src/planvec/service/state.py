"""What the owner process holds: the open index, the single-writer sync slot, freshness.

Readers (search, tasks, plans, check, quality) run concurrently on the one open index: every
write is an idempotent point upsert/delete, so a reader sees each task before or after its
change. Syncs are serialized by a non-blocking lock: a second one is refused (``SyncBusy``,
HTTP 409) rather than queued. ``request_stop`` makes a running sync stop at its next safe
point (between plans: what was written is complete, the next sync converges).
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from planvec.errors import ConfigError, PlanvecError
from planvec.guard import DeleteGuard
from planvec.index import Index, open_index
from planvec.operations import list_plans
from planvec.records import SearchHit
from planvec.service.config import ServiceSettings
from planvec.service.metrics import ServiceMetrics, StoreMetricsObserver
from planvec.sync import SyncProgress, SyncReport

if TYPE_CHECKING:
    from planvec.checks.findings import CheckReport
    from planvec.checks.quality import QualityOptions, QualityReport
    from planvec.store.health import HealthReport

log = logging.getLogger("planvec.service")


class SyncBusy(PlanvecError):
    """A sync is already running in this service (HTTP 409)."""

    exit_code = 2


class SyncCancelled(PlanvecError):
    """The service is stopping: the sync stopped at a safe point (rerun to finish)."""


class ReadOnlyService(PlanvecError):
    """This service was started with ``--read-only``: it never writes (HTTP 403)."""

    exit_code = 2


class ServiceState:
    """The open index and the bookkeeping around it; one per ``planvec serve`` process."""

    def __init__(self, config: ServiceSettings, *, metrics: ServiceMetrics | None = None):
        self.config = config
        self.metrics = metrics or ServiceMetrics()
        self.stopping = threading.Event()
        self._index: Index | None = None
        self._sync_lock = threading.Lock()
        self.last_sync_ok: float | None = None
        self.last_sync_error: str | None = None
        self.last_catalogue_error: str | None = None
        self.last_request = time.monotonic()

    # -- lifecycle ---------------------------------------------------------------------------

    def open(self) -> None:
        """Open the store (holding the shard and, unless read-only, the write lock)."""
        from planvec.wiring import open_store

        s = self.config.index
        store = open_store(s, observer=StoreMetricsObserver(self.metrics))
        try:
            self._index = open_index(s, write=not self.config.read_only, store=store)
        except BaseException:
            store.close()
            raise
        manifest = self._index.manifest or {}
        # only a finished sync records "last_sync" (a cancelled one leaves just the creation)
        synced = "last_sync" in manifest
        self.last_sync_ok = _timestamp(manifest.get("updated_at")) if synced else None
        self.metrics.last_sync.set(self.last_sync_ok or 0)
        with contextlib.suppress(PlanvecError):
            self.refresh_index_gauges()

    def request_stop(self) -> None:
        """Ask a running sync to stop at its next safe point; refuse new ones."""
        self.stopping.set()

    def close(self, wait: float = 30.0) -> None:
        """Stop, wait (bounded) for a running sync to reach its safe point, flush, release."""
        self.request_stop()
        acquired = self._sync_lock.acquire(timeout=wait)
        try:
            if self._index is not None:
                self._index.close()
                self._index = None
        finally:
            if acquired:
                self._sync_lock.release()

    @property
    def index(self) -> Index:
        if self._index is None:
            raise PlanvecError("the service is not open (starting or stopping): retry")
        return self._index

    def warm_up(self, stop: threading.Event) -> int:
        """Read every payload of the index once (``Index.warm``), so that the first
        searches of each task do not pay for it; nothing for a store without it."""
        started = time.perf_counter()
        points = self.index.warm(lambda: stop.is_set() or self.stopping.is_set())
        log.info("search warm-up: %d points read in %.1fs", points, time.perf_counter() - started)
        return points

    # -- reads -------------------------------------------------------------------------------

    def search(self, query: str, *, limit: int, mode: str, **filters: Any) -> list[SearchHit]:
        """Ranked tasks (``Index.search``), timed into the search histogram."""
        started = time.perf_counter()
        try:
            return self.index.search(query, limit=limit, mode=mode, **filters)
        finally:
            self.metrics.search_seconds.labels(mode).observe(time.perf_counter() - started)

    def check(self, paths: Sequence[Path], sample: int) -> CheckReport:
        """``planvec check`` on the owner's index."""
        from planvec.checks.verify import CheckOptions, check_index

        s = self.config.index
        source = self.index.source(paths, root=s.root, config_file=s.config_file) if paths else None
        return check_index(self.index, source, CheckOptions(vector_sample=sample))

    def quality(self, options: QualityOptions) -> QualityReport:
        """``planvec quality`` (measurement only) on the owner's index."""
        from planvec.checks.quality import measure_quality

        return measure_quality(self.index, options)

    def health(self) -> HealthReport:
        """``planvec health`` on the owner's open store."""
        from planvec.store.health import store_health_report

        s = self.config.index
        return store_health_report(
            self.index.admin,
            index_dir=s.index_dir,
            collection=s.collection,
            qdrant_url=s.qdrant_url,
        )

    # -- the single writer -------------------------------------------------------------------

    @property
    def sync_running(self) -> bool:
        return self._sync_lock.locked()

    def sync(
        self,
        paths: Sequence[Path] | None = None,
        *,
        dry_run: bool = False,
        delete_missing: bool = True,
        batch_size: int | None = None,
        trigger: str = "api",
        allow_delete: bool = False,
    ) -> SyncReport:
        """Sync ``paths`` (default: the served PATHs); refuses while another sync runs."""
        if self.config.read_only and not dry_run:
            raise ReadOnlyService("this service is --read-only: send syncs to the writer")
        chosen = list(paths) if paths else list(self.config.paths)
        if not chosen:
            raise ConfigError("no plan paths: pass 'paths' or start `planvec serve PATH...`")
        if self.stopping.is_set():
            raise SyncCancelled("the service is stopping: no new sync")
        if not self._sync_lock.acquire(blocking=False):
            self.metrics.sync_runs.labels(trigger, "busy").inc()
            raise SyncBusy("a sync is already running: retry when it ends (see GET /readyz)")
        try:
            guard = DeleteGuard(max_delete=self.config.index.max_delete, allow=allow_delete)
            return self._run_sync(chosen, dry_run, delete_missing, batch_size, trigger, guard)
        finally:
            self._sync_lock.release()

    def _run_sync(
        self,
        paths: list[Path],
        dry_run: bool,
        delete_missing: bool,
        batch_size: int | None,
        trigger: str,
        guard: DeleteGuard,
    ) -> SyncReport:
        m = self.metrics
        m.sync_running.set(1)
        started, wall = time.perf_counter(), time.time()
        outcome = "failed"
        try:
            s = self.config.index
            report = self.index.sync(
                self.index.source(paths, root=s.root, config_file=s.config_file),
                dry_run=dry_run,
                delete_missing=delete_missing,
                batch_size=batch_size or self.config.index.batch_size,
                progress=self._progress,
                guard=guard,
            )
            outcome = "ok"
        except SyncCancelled:
            outcome = "cancelled"
            raise
        except Exception as exc:
            self.last_sync_error = str(exc)
            raise
        finally:
            m.sync_running.set(0)
            m.sync_runs.labels(trigger, outcome).inc()
            m.sync_seconds.observe(time.perf_counter() - started)
        if not dry_run:
            self._record(report, wall)
            self._sync_catalogue(paths, delete_missing)
        return report

    def _sync_catalogue(self, paths: list[Path], delete_missing: bool) -> None:
        """The PostgreSQL catalogue follows each sync when a DSN is configured; its failure
        is logged and counted, never a failed sync (the index is already written)."""
        dsn = self.config.index.catalogue_dsn
        if not dsn:
            return
        from planvec.catalogue import sync_catalogue

        root = (self.index.manifest or {}).get("root")
        try:
            result = sync_catalogue(
                dsn, paths, delete_missing=delete_missing, root=Path(root) if root else None
            )
            self.last_catalogue_error = None
            log.info("catalogue: %d plan(s), %d task(s) in step", result.plans, result.tasks)
        except PlanvecError as exc:
            self.last_catalogue_error = str(exc)
            self.metrics.catalogue_failures.inc()
            log.warning("catalogue sync failed (the index is up to date): %s", exc)

    def _progress(self, _: SyncProgress) -> None:
        if self.stopping.is_set():
            raise SyncCancelled("the service is stopping: sync stopped between two plans")

    def _record(self, report: SyncReport, started_at: float) -> None:
        """Bookkeeping of a finished sync; the index reflects the disk as of its start."""
        m = self.metrics
        if report.failed:
            self.last_sync_error = "; ".join(f"{f.path}: {f.message}" for f in report.failures)
        else:
            self.last_sync_error = None
        self.last_sync_ok = started_at
        m.last_sync.set(self.last_sync_ok)
        m.embedded.inc(report.embedded)
        for action in ("added", "updated", "payload_only", "deleted"):
            m.written.labels(action).inc(getattr(report, action))
        if report.written or report.plans_deleted:
            with contextlib.suppress(PlanvecError):
                self.refresh_index_gauges()

    # -- freshness ---------------------------------------------------------------------------

    def refresh_index_gauges(self) -> None:
        """Points, plans and tasks per status (one payload scroll)."""
        listed = list_plans(self.index)
        self.metrics.points.set(self.index.count())
        self.metrics.plans.set(listed["total"]["plans"])
        statuses: dict[str, int] = {}
        for plan in listed["plans"]:
            for status, n in plan["statuses"].items():
                statuses[status] = statuses.get(status, 0) + n
        for status in ("todo", "done", "in_progress", "cancelled", *statuses):
            self.metrics.tasks.labels(status).set(statuses.get(status, 0))

    def plans_changed_since_sync(self) -> int:
        """Plan files modified after the last successful sync, or indexed but now gone."""
        if not self.config.paths:
            return 0
        from planvec.sources.files import discover

        found = discover(list(self.config.paths))[0]
        since = self.last_sync_ok or 0.0
        changed = 0
        for full, _ in found:
            with contextlib.suppress(OSError):
                changed += Path(full).stat().st_mtime > since
        indexed = set(self.index.known_plans()) if self._index is not None else set()
        return changed + len(indexed - {rel for _, rel in found})

    def freshness(self) -> dict[str, Any]:
        """Last sync time, age, and what changed on disk since; also sets the lag gauges."""
        changed = self.plans_changed_since_sync()
        age = time.time() - self.last_sync_ok if self.last_sync_ok else None
        self.metrics.plans_changed.set(changed)
        self.metrics.index_lag.set(age if (changed and age is not None) else 0)
        return {
            "last_sync_at": _iso(self.last_sync_ok),
            "seconds_since_sync": round(age, 3) if age is not None else None,
            "plans_changed_since_sync": changed,
            "sync_running": self.sync_running,
            "last_sync_error": self.last_sync_error,
            "fresh": changed == 0 and not self.last_sync_error,
        }


def _timestamp(value: Any) -> float | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value).timestamp()
    except ValueError:
        return None


def _iso(ts: float | None) -> str | None:
    if ts is None:
        return None
    return datetime.fromtimestamp(ts).astimezone().isoformat(timespec="seconds")
