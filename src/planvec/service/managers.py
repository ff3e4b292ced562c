"""The managers inside ``planvec serve``: runs on the open store, health, events.

The service owns the store, so managers run on it rather than reopening it: each manager
collection gets an ``Index`` over the shared store and takes its own write lock for the run
(``planvec managers run`` on the same index waits or fails, as for plans). Every event (a
dependency added) is logged, counted (``planvec_manager_events_total``) and POSTed to the
webhook when one is configured. ``/readyz`` and ``/metrics`` report each manager's health
and item count; a manager never makes the service unready (plans are its first duty).
"""

from __future__ import annotations

import contextlib
import json
import logging
import threading
import time
from collections.abc import Iterator, Sequence
from typing import Any

from planvec.errors import ConfigError, PlanvecError
from planvec.index import Index
from planvec.managers.base import Finding, ManagerInputs
from planvec.managers.orchestrator import ManagersReport, run_managers
from planvec.managers.registry import all_managers
from planvec.service.state import ReadOnlyService
from planvec.settings import Settings
from planvec.wiring import write_lock

log = logging.getLogger("planvec.service")

#: ``ServiceState`` attribute holding the last run of each manager (name -> dict).
_RUNS = "_manager_runs"


def _shared_index(state: Any, collection: str) -> Index:
    """An ``Index`` on the service's open store for ``collection`` (never closed: shared)."""
    main = state.index
    return Index(
        main.admin,
        main.embedder,
        collection=collection,
        lexical=main.lexical,
        location=f"{main.location} [{collection}]",
    )


def shared_opener(state: Any) -> Any:
    """An ``open_index``-like opener for ``run_managers`` over the service's store."""

    @contextlib.contextmanager
    def opener(settings: Settings, *, write: bool = False, wait: bool = False) -> Iterator[Index]:
        lock = write_lock(settings, wait=wait) if write else None
        if lock is not None:
            lock.acquire()
        try:
            yield _shared_index(state, settings.collection)
        finally:
            if lock is not None:
                lock.release()

    return opener


def run_service_managers(
    state: Any, names: Sequence[str] = (), trigger: str = "api"
) -> ManagersReport:
    """Run managers over the service's ``manager_paths`` on its open store.

    Raises:
        ReadOnlyService: the service is read-only.
        ConfigError: the service has no project paths to scan.
    """
    config = state.config
    if config.read_only:
        raise ReadOnlyService("this service is read-only: it never runs managers")
    if not config.manager_paths:
        raise ConfigError("no project paths to scan: start the service with --managers PATH")
    inputs = ManagerInputs(paths=tuple(config.manager_paths))
    report = run_managers(
        config.index,
        inputs,
        names,
        opener=shared_opener(state),
        on_event=lambda event: announce_event(state, event),
    )
    runs = getattr(state, _RUNS, None)
    if runs is None:
        runs = {}
        setattr(state, _RUNS, runs)
    for run in report.runs:
        runs[run.name] = {"status": run.status, "error": run.error, "at": time.time()}
        state.metrics.manager_runs.labels(run.name, run.status).inc()
        log.info("manager %s (%s): %s", run.name, trigger, run.status)
    return report


def announce_event(state: Any, event: Finding) -> None:
    """Log, count and (with a webhook) POST one manager event."""
    m = state.metrics
    m.manager_events.labels(event.manager, str(event.details.get("event", event.kind))).inc()
    body = {
        "event": f"manager_{event.details.get('event', event.kind)}",
        "manager": event.manager,
        "message": event.message,
        "items": list(event.items),
        "details": dict(event.details),
        "at": time.time(),
    }
    log.warning("managers event: %s", json.dumps(body, ensure_ascii=False, default=str))
    url = state.config.webhook_url
    if url:
        from planvec.service.quality import post_webhook

        threading.Thread(
            target=post_webhook,
            args=(url, body, state.config.webhook_timeout, state.config.webhook_retries),
            kwargs={"on_result": lambda ok: m.webhook_posts.labels(ok).inc()},
            name="planvec-manager-webhook",
            daemon=True,
        ).start()


def manager_health(state: Any) -> list[dict[str, Any]]:
    """Each registered manager: its collection, item count and health (never raises).

    ``status``: ``ok`` (collection present, last run fine), ``absent`` (never run on this
    index), ``failed`` (its last run in this service failed), ``error`` (unreadable).
    """
    runs: dict[str, dict[str, Any]] = getattr(state, _RUNS, None) or {}
    out = []
    for manager in all_managers():
        entry: dict[str, Any] = {
            "name": manager.name,
            "kind": manager.kind,
            "collection": manager.collection,
            "items": 0,
            "last_run": runs.get(manager.name),
        }
        try:
            index = _shared_index(state, manager.collection)
            exists = index.exists()
            entry["items"] = index.count() if exists else 0
            status = "ok" if exists else "absent"
        except (PlanvecError, OSError) as exc:
            status, entry["error"] = "error", str(exc)
        if (runs.get(manager.name) or {}).get("status") == "failed":
            status = "failed"
        entry["status"] = status
        out.append(entry)
    return out


def refresh_manager_gauges(state: Any) -> list[dict[str, Any]]:
    """Set ``planvec_manager_items`` and ``planvec_manager_up`` from ``manager_health``."""
    health = manager_health(state)
    for entry in health:
        state.metrics.manager_items.labels(entry["name"]).set(entry["items"])
        state.metrics.manager_up.labels(entry["name"]).set(
            1 if entry["status"] in ("ok", "absent") else 0
        )
    return health


def _is_watched_manifest(path: str) -> bool:
    from pathlib import Path

    from planvec.managers.dependencies.manifests import is_manifest

    p = Path(path)
    return is_manifest(p) or p.name in ("package-lock.json", "Cargo.lock")


def manifest_watch_body(state: Any) -> Any:
    """``serve --watch --managers PATH``: run every manager once, then re-run the dependency
    manager after each burst of manifest changes (its events go to the log, the counter
    and the webhook). Failures are logged and never stop the watch."""
    from planvec.service.watch import watch_changes

    def body(stop: threading.Event) -> None:
        roots = [p for p in state.config.manager_paths if p.is_dir()]
        if not roots:
            _run_logged(state, (), "startup")
            return
        started = False
        for changes in watch_changes(
            roots, lambda _change, path: _is_watched_manifest(path), stop, state.config.debounce
        ):
            if stop.is_set() or state.stopping.is_set():
                return
            if not started:  # every manager once the watcher is in place: a manifest
                started = True  # edited during this run comes in the next batch
                _run_logged(state, (), "startup")
            elif changes:
                _run_logged(state, ("dependencies",), "watch")

    return body


def _run_logged(state: Any, names: Sequence[str], trigger: str) -> None:
    try:
        report = run_service_managers(state, names, trigger)
    except PlanvecError as exc:
        log.warning("%s managers run failed: %s", trigger, exc)
        return
    if report.failed:
        log.warning("%s managers run: %s failed", trigger, ", ".join(report.failed))
