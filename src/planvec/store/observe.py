"""Observability of store calls: an observer hook, in-memory metrics, optional OTel spans.

Every public store operation reports one ``OperationEvent`` to the store's observer when it
ends (successfully or not). ``MetricsObserver`` keeps per-operation counters (calls, points,
errors, retries) and latency histograms with Prometheus-style cumulative buckets, so an
exporter can publish ``snapshot()`` as is. When ``opentelemetry-api`` is installed (extra
``otel``) each operation also runs inside a span named ``planvec.store.<operation>``; without
it spans cost nothing.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

log = logging.getLogger("planvec.store")

#: Upper bounds (seconds) of the latency histogram buckets; the last one is +Inf.
DEFAULT_BUCKETS: tuple[float, ...] = (
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
)  # fmt: skip


@dataclass(frozen=True)
class OperationEvent:
    """One finished store operation.

    Attributes:
        backend: ``edge``, ``server``, ``memory`` or ``local``.
        operation: the store method (``upsert``, ``search``...).
        seconds: wall time including retries.
        points: points written/read/returned by the call.
        retries: how many attempts were retried (0 when the first one succeeded).
        error: class name of the ``StoreError`` raised, or ``None`` on success.
    """

    backend: str
    operation: str
    seconds: float
    points: int = 0
    retries: int = 0
    error: str | None = None


@runtime_checkable
class Observer(Protocol):
    """Receives every store operation; must be cheap and must not raise."""

    def on_operation(self, event: OperationEvent) -> None:
        """Called once per finished operation."""


@dataclass
class _Histogram:
    bounds: tuple[float, ...]
    counts: list[int] = field(default_factory=list)
    total: float = 0.0
    n: int = 0

    def __post_init__(self) -> None:
        self.counts = [0] * (len(self.bounds) + 1)

    def add(self, value: float) -> None:
        self.n += 1
        self.total += value
        for i, bound in enumerate(self.bounds):
            if value <= bound:
                self.counts[i] += 1
                return
        self.counts[-1] += 1

    def quantile(self, q: float) -> float:
        """Upper bound of the bucket holding quantile ``q`` (Prometheus-style estimate)."""
        if not self.n:
            return 0.0
        rank = q * self.n
        seen = 0
        for i, count in enumerate(self.counts):
            seen += count
            if seen >= rank:
                return self.bounds[i] if i < len(self.bounds) else float("inf")
        return float("inf")


@dataclass
class _OpStats:
    calls: int = 0
    points: int = 0
    errors: int = 0
    retries: int = 0


class MetricsObserver:
    """Thread-safe in-memory counters and latency histograms, keyed by (backend, operation)."""

    def __init__(self, buckets: Sequence[float] = DEFAULT_BUCKETS) -> None:
        """Create empty metrics.

        Args:
            buckets: increasing upper bounds (seconds) of the latency histogram.
        """
        self._buckets = tuple(buckets)
        self._lock = threading.Lock()
        self._stats: dict[tuple[str, str], _OpStats] = {}
        self._latency: dict[tuple[str, str], _Histogram] = {}

    def on_operation(self, event: OperationEvent) -> None:
        """Count one operation."""
        key = (event.backend, event.operation)
        with self._lock:
            stats = self._stats.setdefault(key, _OpStats())
            stats.calls += 1
            stats.points += event.points
            stats.retries += event.retries
            if event.error:
                stats.errors += 1
            self._latency.setdefault(key, _Histogram(self._buckets)).add(event.seconds)

    def counter(self, operation: str, name: str, backend: str | None = None) -> int:
        """One counter (``calls``, ``points``, ``errors``, ``retries``) summed over backends.

        Args:
            operation: the store method name.
            name: which counter.
            backend: restrict to one backend.

        Returns:
            The counter value (0 when never seen).
        """
        with self._lock:
            return sum(
                getattr(stats, name)
                for (b, op), stats in self._stats.items()
                if op == operation and (backend is None or b == backend)
            )

    def snapshot(self) -> dict[str, Any]:
        """Everything as plain data: ``{"operations": [{backend, operation, calls, ...}]}``.

        Each entry holds ``latency`` with ``buckets`` (``[[le, cumulative count], ...]``, last
        ``le`` is ``"+Inf"``), ``sum``, ``count``, and ``p50``/``p95`` bucket estimates.
        """
        with self._lock:
            rows = []
            for (backend, op), stats in sorted(self._stats.items()):
                hist = self._latency[(backend, op)]
                cumulative, running = [], 0
                for bound, count in zip((*hist.bounds, "+Inf"), hist.counts, strict=True):
                    running += count
                    cumulative.append([bound, running])
                rows.append(
                    {
                        "backend": backend,
                        "operation": op,
                        "calls": stats.calls,
                        "points": stats.points,
                        "errors": stats.errors,
                        "retries": stats.retries,
                        "latency": {
                            "buckets": cumulative,
                            "sum": hist.total,
                            "count": hist.n,
                            "p50": hist.quantile(0.5),
                            "p95": hist.quantile(0.95),
                        },
                    }
                )
            return {"operations": rows}


class LoggingObserver:
    """Writes one structured DEBUG log line per operation (``planvec.store`` logger)."""

    def on_operation(self, event: OperationEvent) -> None:
        """Log the event with its fields in ``extra`` and in the message."""
        log.debug(
            "store op=%s backend=%s seconds=%.4f points=%d retries=%d error=%s",
            event.operation,
            event.backend,
            event.seconds,
            event.points,
            event.retries,
            event.error or "-",
            extra={"store_event": event},
        )


class FanoutObserver:
    """Sends each event to several observers; one failing observer never breaks a store call."""

    def __init__(self, *observers: Observer) -> None:
        """Args:
        observers: the observers to call in order.
        """
        self.observers = observers

    def on_operation(self, event: OperationEvent) -> None:
        """Forward the event, swallowing observer bugs (logged)."""
        for observer in self.observers:
            try:
                observer.on_operation(event)
            except Exception:  # an observer must never fail a store call
                log.exception("store observer %r failed", observer)


_tracer: Any = None
_tracer_checked = False


def _get_tracer() -> Any:
    global _tracer, _tracer_checked
    if not _tracer_checked:
        _tracer_checked = True
        try:
            from opentelemetry import trace
        except ImportError:
            _tracer = None
        else:
            _tracer = trace.get_tracer("planvec.store")  # type: ignore[attr-defined,unused-ignore]
    return _tracer


@contextlib.contextmanager
def span(operation: str, backend: str) -> Iterator[Any]:
    """An OpenTelemetry span ``planvec.store.<operation>`` when OTel is installed, else nothing.

    Args:
        operation: the store method name.
        backend: the backend name (span attribute ``planvec.store.backend``).

    Yields:
        The span (``None`` without OpenTelemetry).
    """
    tracer = _get_tracer()
    if tracer is None:
        yield None
        return
    with tracer.start_as_current_span(
        f"planvec.store.{operation}",
        attributes={"planvec.store.backend": backend, "db.system": "qdrant"},
    ) as current:
        yield current
