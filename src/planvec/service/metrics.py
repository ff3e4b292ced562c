"""Prometheus metrics of ``planvec serve`` (one registry per app: tests stay independent).

Store calls arrive through the store's observer hook (``StoreMetricsObserver``); the rest is
recorded by ``ServiceState`` and the periodic jobs. Names follow Prometheus conventions
(``_total`` counters, ``_seconds`` units); ``deploy/prometheus/alerts.yml`` uses them.
"""

from __future__ import annotations

from collections.abc import Callable

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)

from planvec.store.observe import OperationEvent

LATENCY_BUCKETS = (
    0.001, 0.0025, 0.005, 0.01, 0.015, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
)  # fmt: skip
SYNC_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800)


class ServiceMetrics:
    """Every metric the service exports, in its own registry."""

    content_type = CONTENT_TYPE_LATEST

    def __init__(self) -> None:
        r = self.registry = CollectorRegistry()
        self.points = Gauge("planvec_index_points", "Points in the collection.", registry=r)
        self.plans = Gauge("planvec_index_plans", "Plans in the index.", registry=r)
        self.tasks = Gauge(
            "planvec_index_tasks", "Indexed tasks by status.", ["status"], registry=r
        )
        self.sync_runs = Counter(
            "planvec_sync_runs_total",
            "Sync runs by trigger and outcome (ok, failed, cancelled, busy).",
            ["trigger", "outcome"],
            registry=r,
        )
        self.sync_seconds = Histogram(
            "planvec_sync_duration_seconds", "Sync duration.", buckets=SYNC_BUCKETS, registry=r
        )
        self.sync_running = Gauge("planvec_sync_running", "1 while a sync runs.", registry=r)
        self.catalogue_failures = Counter(
            "planvec_catalogue_sync_failures_total",
            "Catalogue syncs (PostgreSQL, after an index sync) that failed.",
            registry=r,
        )
        self.embedded = Counter(
            "planvec_tasks_embedded_total", "Tasks embedded by syncs (cache misses).", registry=r
        )
        self.written = Counter(
            "planvec_sync_changes_total", "Changes written by syncs.", ["action"], registry=r
        )
        self.last_sync = Gauge(
            "planvec_last_sync_success_timestamp_seconds",
            "Unix time of the last successful sync (0: none yet).",
            registry=r,
        )
        self.index_lag = Gauge(
            "planvec_index_lag_seconds",
            "Seconds since the last successful sync when plan files changed since, else 0.",
            registry=r,
        )
        self.plans_changed = Gauge(
            "planvec_plans_changed_since_sync",
            "Plan files modified on disk after the last successful sync.",
            registry=r,
        )
        self._store_metrics(r)
        self._request_metrics(r)
        self._quality_metrics(r)
        self._manager_metrics(r)

    def _store_metrics(self, r: CollectorRegistry) -> None:
        self.store_seconds = Histogram(
            "planvec_store_request_duration_seconds",
            "Store operation latency (retries included).",
            ["backend", "operation"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.store_retries = Counter(
            "planvec_store_retries_total", "Retried store attempts.", ["operation"], registry=r
        )
        self.store_errors = Counter(
            "planvec_store_errors_total", "Failed store operations.", ["operation"], registry=r
        )

    def _request_metrics(self, r: CollectorRegistry) -> None:
        self.search_seconds = Histogram(
            "planvec_search_duration_seconds",
            "Search latency, query embedding included.",
            ["mode"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.http_requests = Counter(
            "planvec_http_requests_total",
            "HTTP requests by route and status code.",
            ["method", "route", "status"],
            registry=r,
        )
        self.watch_events = Counter(
            "planvec_watch_events_total", "File events seen by --watch.", ["change"], registry=r
        )

    def _quality_metrics(self, r: CollectorRegistry) -> None:
        self.quality_score = Gauge(
            "planvec_quality_score", "Latest quality metric values.", ["metric"], registry=r
        )
        self.quality_drift = Gauge(
            "planvec_quality_drift",
            "Drop of each quality metric versus the baseline (positive: worse).",
            ["metric"],
            registry=r,
        )
        self.quality_alert = Gauge(
            "planvec_quality_alert", "1 when the last quality run raised an alert.", registry=r
        )
        self.quality_runs = Counter(
            "planvec_quality_runs_total", "Quality runs by outcome.", ["outcome"], registry=r
        )
        self.webhook_posts = Counter(
            "planvec_webhook_posts_total", "Drift webhook deliveries.", ["outcome"], registry=r
        )

    def _manager_metrics(self, r: CollectorRegistry) -> None:
        """The managers (docs/managers.md): items, health, runs and events per manager."""
        self.manager_items = Gauge(
            "planvec_manager_items", "Items in each manager's collection.", ["manager"], registry=r
        )
        self.manager_up = Gauge(
            "planvec_manager_up",
            "1 unless the manager's last run in this service failed.",
            ["manager"],
            registry=r,
        )
        self.manager_runs = Counter(
            "planvec_manager_runs_total", "Manager runs by outcome.", ["manager", "outcome"],
            registry=r,
        )  # fmt: skip
        self.manager_events = Counter(
            "planvec_manager_events_total",
            "Manager events (a dependency added...).",
            ["manager", "event"],
            registry=r,
        )

    def on_scrape(self, refresh: Callable[[], None]) -> bytes:
        """Refresh the computed gauges, then render the exposition format."""
        refresh()
        return generate_latest(self.registry)


class StoreMetricsObserver:
    """A store ``Observer`` that feeds the store metrics (cheap, never raises)."""

    def __init__(self, metrics: ServiceMetrics) -> None:
        self.metrics = metrics

    def on_operation(self, event: OperationEvent) -> None:
        """Record one finished store operation."""
        m = self.metrics
        m.store_seconds.labels(event.backend, event.operation).observe(event.seconds)
        if event.retries:
            m.store_retries.labels(event.operation).inc(event.retries)
        if event.error:
            m.store_errors.labels(event.operation).inc()
