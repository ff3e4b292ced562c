"""Periodic embedding quality with drift alerts.

Every ``quality_interval`` seconds the owner runs the quality probes of ``planvec quality``
(``planvec.checks.quality``) and compares them with the baseline stored with the index
(written by the first run when there is none; replace it with ``planvec quality
--save-baseline`` at that path). A metric dropping by more than ``quality_threshold`` is
drift: the ``planvec_quality_alert`` gauge goes to 1, one structured WARNING is logged
(``event=quality_drift``), and when a webhook is configured a JSON body is POSTed to it from
a separate thread (timeout per attempt, retries with backoff): serving never waits for it.
"""

from __future__ import annotations

import json
import logging
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

from planvec.checks.baseline import compare_baseline, load_baseline, save_baseline
from planvec.checks.quality import QualityOptions, QualityReport
from planvec.errors import PlanvecError
from planvec.service.discovery import discovery_path
from planvec.service.state import ServiceState

log = logging.getLogger("planvec.service")


def baseline_path(state: ServiceState) -> Path:
    """Where the quality baseline of the served index lives (next to its discovery file)."""
    s = state.config.index
    owner_file = discovery_path(s.index_dir, s.qdrant_url, s.collection, s.cache_dir)
    return owner_file.with_name(f".{s.collection}.quality-baseline.json")


def measure_against_baseline(
    state: ServiceState, sample: int, dup_threshold: float, *, compare: bool = True
) -> QualityReport:
    """Measure quality; compare with the stored baseline when asked and one exists."""
    options = QualityOptions(
        sample=sample,
        near_duplicate_threshold=dup_threshold,
        alert_drop=state.config.quality_threshold,
    )
    report = state.quality(options)
    path = baseline_path(state)
    if compare and path.is_file():
        compare_baseline(report, load_baseline(path), state.config.quality_threshold)
    return report


def run_quality_once(state: ServiceState) -> QualityReport:
    """One periodic run: measure, compare (or store the first baseline), export, alert."""
    config, m = state.config, state.metrics
    path = baseline_path(state)
    try:
        report = measure_against_baseline(state, config.quality_sample, 0.95)
        if not path.is_file():
            save_baseline(report, path)
            log.info("quality baseline stored at %s", path)
    except PlanvecError:
        m.quality_runs.labels("failed").inc()
        raise
    m.quality_runs.labels("alert" if report.alerts else "ok").inc()
    for name, value in report.metrics.items():
        m.quality_score.labels(name).set(value)
    for name, cmp in report.comparison.items():
        m.quality_drift.labels(name).set(cmp["drop"])
    m.quality_alert.set(1 if report.alerts else 0)
    if report.alerts:
        event = drift_event(state, report)
        log.warning("quality drift: %s", json.dumps(event, ensure_ascii=False))
        if config.webhook_url:
            threading.Thread(
                target=post_webhook,
                args=(config.webhook_url, event, config.webhook_timeout, config.webhook_retries),
                kwargs={"on_result": lambda ok: m.webhook_posts.labels(ok).inc()},
                name="planvec-webhook",
                daemon=True,
            ).start()
    return report


def drift_event(state: ServiceState, report: QualityReport) -> dict[str, Any]:
    """The JSON body of a drift alert (logged and POSTed)."""
    s = state.config.index
    return {
        "event": "quality_drift",
        "index": s.qdrant_url or str(s.index_dir),
        "collection": s.collection,
        "model_id": report.model_id,
        "threshold": state.config.quality_threshold,
        "alerts": report.alerts,
        "comparison": report.comparison,
        "metrics": report.metrics,
        "at": time.time(),
    }


def post_webhook(
    url: str,
    body: dict[str, Any],
    timeout: float,
    retries: int,
    *,
    on_result: Callable[[str], None] | None = None,
) -> bool:
    """POST ``body`` as JSON; retry on failure with backoff. Never raises."""
    data = json.dumps(body, ensure_ascii=False).encode("utf-8")
    for attempt in range(retries + 1):
        request = urllib.request.Request(
            url, data=data, method="POST", headers={"Content-Type": "application/json"}
        )
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                if 200 <= response.status < 300:
                    if on_result:
                        on_result("ok")
                    return True
        except (urllib.error.URLError, OSError, ValueError) as exc:
            log.warning("drift webhook attempt %d failed: %s", attempt + 1, exc)
        time.sleep(min(10.0, 0.5 * 2**attempt))
    if on_result:
        on_result("failed")
    return False


def quality_body(state: ServiceState) -> Callable[[threading.Event], None]:
    """The periodic job: one run every ``quality_interval`` seconds (first after one)."""

    def body(stop: threading.Event) -> None:
        while not stop.wait(state.config.quality_interval):
            if state.stopping.is_set():
                return
            try:
                run_quality_once(state)
            except PlanvecError as exc:
                log.warning("periodic quality failed: %s", exc)

    return body
