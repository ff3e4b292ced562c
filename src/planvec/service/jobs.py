"""Background jobs of the owner: the search warm-up, the startup sync, ``--watch``, periodic
quality.

Each job is a daemon thread with a stop event; ``stop()`` returns at once and the thread
ends at its next check (a running sync is stopped by ``ServiceState.request_stop``). A job
never raises out of its thread: failures are logged, counted and retried with backoff.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from planvec.errors import PlanvecError
from planvec.service.state import ServiceState, SyncBusy, SyncCancelled

log = logging.getLogger("planvec.service")


class Job:
    """A named daemon thread running ``body(stop_event)``."""

    def __init__(self, name: str, body: Callable[[threading.Event], None]) -> None:
        self.stop_event = threading.Event()
        self.thread = threading.Thread(
            target=self._run, args=(body,), name=f"planvec-{name}", daemon=True
        )

    def _run(self, body: Callable[[threading.Event], None]) -> None:
        try:
            body(self.stop_event)
        except Exception:  # a job must never take the service down
            log.exception("background job %s failed", self.thread.name)

    def start(self) -> Job:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.stop_event.set()

    def join(self, timeout: float | None = None) -> None:
        self.thread.join(timeout)


def sync_with_backoff(
    state: ServiceState, stop: threading.Event, trigger: str, attempt: int = 0
) -> bool:
    """One sync of the served paths; on failure wait (exponential, capped) and say so.

    Returns:
        True when the sync succeeded (or there was nothing to do), False to retry later.
    """
    try:
        report = state.sync(trigger=trigger)
    except SyncCancelled:
        return True
    except SyncBusy:
        stop.wait(0.5)  # another sync (an API call) runs: ours follows it
        return False
    except PlanvecError as exc:
        delay = min(state.config.sync_backoff_max, 0.5 * 2**attempt)
        log.warning("%s sync failed (retrying in %.1fs): %s", trigger, delay, exc)
        stop.wait(delay)
        return False
    if report.failures:
        log.warning(
            "%s sync: %d file(s) failed and kept their indexed tasks: %s",
            trigger,
            report.failed,
            "; ".join(f"{f.path}: {f.message}" for f in report.failures[:5]),
        )
    log.info(
        "%s sync: %d added, %d updated, %d payload-only, %d deleted in %.2fs",
        trigger,
        report.added,
        report.updated,
        report.payload_only,
        report.deleted,
        report.seconds,
    )
    return True


def _startup_sync(state: ServiceState) -> Callable[[threading.Event], None]:
    def body(stop: threading.Event) -> None:
        attempt = 0
        while not stop.is_set() and not state.stopping.is_set():
            if sync_with_backoff(state, stop, "startup", attempt):
                return
            attempt += 1

    return body


def _warm_up(state: ServiceState) -> Callable[[threading.Event], None]:
    def body(stop: threading.Event) -> None:
        try:
            state.warm_up(stop)
        except PlanvecError as exc:  # searches still work, only their first reads are slower
            log.warning("search warm-up stopped: %s", exc)

    return body


def start_jobs(state: ServiceState) -> list[Job]:
    """Start the jobs the settings ask for; returns them (to stop at shutdown)."""
    config = state.config
    jobs: list[Job] = [Job("warm-up", _warm_up(state)).start()]
    if config.watch:
        from planvec.service.watch import watch_body

        jobs.append(Job("watch", watch_body(state)).start())
    elif config.paths and config.sync_on_start and not config.read_only:
        jobs.append(Job("startup-sync", _startup_sync(state)).start())
    if config.watch and config.manager_paths and not config.read_only:
        from planvec.service.managers import manifest_watch_body

        jobs.append(Job("managers-watch", manifest_watch_body(state)).start())
    if config.quality_interval > 0:
        from planvec.service.quality import quality_body

        jobs.append(Job("quality", quality_body(state)).start())
    return jobs
