"""Retries with exponential backoff and full jitter, error classification and translation.

Only *transient* failures are retried: connection errors, timeouts, HTTP 408/425/429/5xx and
gRPC UNAVAILABLE/DEADLINE_EXCEEDED/RESOURCE_EXHAUSTED/ABORTED. Everything else (bad request,
wrong API key, missing collection, invalid vector) fails fast. Whatever escapes is a
``planvec.errors.StoreError`` whose message says what to do.

Every store write is idempotent (upsert by id, delete by id/filter, overwrite payload), so a
call that failed *after* the server applied it can be retried safely. ``FaultInjector`` plugs
into ``RetryPolicy.fault_hook`` to prove it: it raises transient errors before or after the
real call on a deterministic share of attempts.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal, TypeVar

from planvec.errors import (
    DAMAGE_MARKERS,
    REBUILD_HINT,
    CollectionNotFound,
    IndexDamaged,
    IndexLocked,
    PlanvecError,
    StoreError,
    StoreTimeout,
    StoreUnavailable,
)
from planvec.redact import redact_text

log = logging.getLogger("planvec.store")

T = TypeVar("T")

TRANSIENT_HTTP = frozenset({408, 425, 429, 500, 502, 503, 504})
_TRANSIENT_GRPC = frozenset({"UNAVAILABLE", "DEADLINE_EXCEEDED", "RESOURCE_EXHAUSTED", "ABORTED"})

Phase = Literal["before", "after"]
Kind = Literal["unavailable", "timeout", "permanent"]


class InjectedFault(ConnectionError):
    """A transient failure raised on purpose by ``FaultInjector`` (tests, chaos runs)."""


@dataclass
class FaultInjector:
    """Makes a share of store attempts fail transiently, deterministically (seeded).

    Attributes:
        rate: share of attempts that fail (0..1).
        after_share: among failing attempts, the share that fails *after* the real call ran
            (the write is applied but the caller sees an error: retries must be idempotent).
        seed: random seed, so a run is reproducible.
        always: fail every attempt (to test the retry budget).
        operations: restrict faults to these operations (empty = all).
    """

    rate: float = 0.3
    after_share: float = 0.5
    seed: int = 0
    always: bool = False
    operations: frozenset[str] = frozenset()
    injected: int = 0
    _rng: random.Random = field(init=False, repr=False)
    _pending_after: bool = field(default=False, init=False, repr=False)

    def __post_init__(self) -> None:
        self._rng = random.Random(self.seed)

    def __call__(self, operation: str, phase: Phase) -> None:
        """Raise ``InjectedFault`` when this attempt was drawn to fail at this phase."""
        if self.operations and operation not in self.operations:
            return
        if phase == "before":
            self._pending_after = False
            if self.always or self._rng.random() < self.rate:
                if not self.always and self._rng.random() < self.after_share:
                    self._pending_after = True
                    return
                self.injected += 1
                raise InjectedFault(f"injected transient failure before {operation}")
        elif self._pending_after:
            self._pending_after = False
            self.injected += 1
            raise InjectedFault(f"injected transient failure after {operation} was applied")


def classify(exc: BaseException) -> Kind:
    """Whether ``exc`` is worth retrying, and as what.

    Args:
        exc: an exception raised by a backend call.

    Returns:
        ``unavailable`` or ``timeout`` for transient failures, else ``permanent``.
    """
    if isinstance(exc, StoreTimeout):
        return "timeout"
    if isinstance(exc, StoreUnavailable):
        return "unavailable"
    if isinstance(exc, PlanvecError):
        return "permanent"
    source = getattr(exc, "source", None)  # qdrant_client ResponseHandlingException
    if isinstance(source, BaseException) and source is not exc:
        return classify(source)
    name = type(exc).__name__
    if name == "ResourceExhaustedResponse":  # qdrant-client: HTTP 429 with Retry-After
        return "unavailable"
    if isinstance(exc, TimeoutError) or "Timeout" in name:
        return "timeout"
    if isinstance(exc, ConnectionError) or name in {"ConnectError", "RemoteProtocolError"}:
        return "unavailable"
    if name in {"NetworkError", "ReadError", "WriteError", "ProxyError", "TransportError"}:
        return "unavailable"
    status = getattr(exc, "status_code", None)
    if isinstance(status, int):
        return "unavailable" if status in TRANSIENT_HTTP else "permanent"
    code = getattr(exc, "code", None)
    if callable(code) and "Rpc" in "".join(c.__name__ for c in type(exc).__mro__):
        try:
            code_name = getattr(code(), "name", "")
        except Exception:
            code_name = ""
        if code_name == "DEADLINE_EXCEEDED":
            return "timeout"
        return "unavailable" if code_name in _TRANSIENT_GRPC else "permanent"
    return "permanent"


def _detail(exc: BaseException) -> str:
    return redact_text(_raw_detail(exc))


def _raw_detail(exc: BaseException) -> str:
    code, details = getattr(exc, "code", None), getattr(exc, "details", None)
    if callable(code) and callable(details):  # grpc.RpcError: its str() is a multi-line dump
        try:
            return f"gRPC {getattr(code(), 'name', code())}: {details()}"[:300]
        except Exception:
            pass
    text = str(exc).strip().splitlines()
    first = text[0] if text else type(exc).__name__
    status = getattr(exc, "status_code", None)
    content = getattr(exc, "content", None)
    if isinstance(status, int) and isinstance(content, bytes):
        return f"HTTP {status}: {content[:300].decode('utf-8', 'replace')}"
    return first[:300]


def translate(exc: BaseException, *, backend: str, location: str, operation: str) -> StoreError:
    """The planvec error for a backend failure, with a message that says what to do.

    Args:
        exc: the backend exception (its message never holds the API key: qdrant-client and
            httpx do not echo headers).
        backend: backend name.
        location: URL or directory (never credentials).
        operation: the store method that failed.

    Returns:
        A ``StoreError`` subclass to raise ``from exc``.
    """
    if isinstance(exc, StoreError):
        return exc
    kind = classify(exc)
    detail = _detail(exc)
    remote = backend == "server"
    if kind == "unavailable":
        if remote:
            return StoreUnavailable(
                f"Qdrant at {location} is not reachable ({detail}): start it, check the URL,"
                " or use the embedded default (drop --qdrant-url)"
            )
        return StoreUnavailable(f"{backend} store at {location} failed transiently: {detail}")
    if kind == "timeout":
        return StoreTimeout(
            f"Qdrant at {location} did not answer {operation} in time ({detail}): raise --timeout"
            " (PLANVEC_TIMEOUT) or check the server load"
        )
    status = getattr(exc, "status_code", None)
    if status in (401, 403):
        return StoreError(
            f"Qdrant at {location} refused the credentials (HTTP {status}): set PLANVEC_API_KEY"
            " or QDRANT_API_KEY to a valid key"
        )
    if status == 404 or "not found" in detail.lower():
        return CollectionNotFound(
            f"{operation}: not found on {backend} store at {location} ({detail}):"
            " run `planvec index` first or check --collection"
        )
    if backend == "edge" and any(m in detail.lower() for m in DAMAGE_MARKERS):
        return IndexDamaged(
            f"{operation} failed: the index at {location} is damaged ({detail}); {REBUILD_HINT}"
        )
    return StoreError(f"{operation} failed on the {backend} store at {location}: {detail}")


@dataclass
class RetryPolicy:
    """How transient failures are retried.

    Attributes:
        attempts: total attempts per call (1 = no retry).
        base_delay: first backoff (seconds); doubles each retry.
        ceiling: largest backoff (seconds).
        jitter: full jitter (sleep uniform in [0, backoff]) to spread retry storms.
        fault_hook: called as ``hook(operation, "before"|"after")`` around each attempt;
            may raise to simulate failures (see ``FaultInjector``).
        sleep: the sleep function (tests pass a no-op).
        seed: seed of the jitter generator (``None`` = random).
        deadline: most seconds one call may take, every attempt and backoff included
            (``None`` = no bound): no retry starts, nor backoff sleeps, past it, so a server
            that accepts connections but never answers fails a call in about ``deadline``
            seconds, not ``attempts`` times the request timeout.
        clock: monotonic clock (tests).
    """

    attempts: int = 5
    base_delay: float = 0.2
    ceiling: float = 10.0
    jitter: bool = True
    fault_hook: Callable[[str, Phase], None] | None = None
    sleep: Callable[[float], None] = time.sleep
    seed: int | None = None
    deadline: float | None = None
    clock: Callable[[], float] = time.monotonic
    _rng: random.Random = field(init=False, repr=False)

    def __post_init__(self) -> None:
        if self.deadline is not None and not self.deadline > 0:
            raise ValueError("the retry deadline must be a positive number of seconds")
        if self.attempts < 1:
            raise ValueError("retry attempts must be >= 1")
        self._rng = random.Random(self.seed)

    def backoff(self, retry: int) -> float:
        """Seconds to wait before retry number ``retry`` (0-based)."""
        cap = min(self.ceiling, self.base_delay * (2**retry))
        return self._rng.uniform(0, cap) if self.jitter else cap

    def budget(self) -> float:
        """Largest total sleep a call can spend retrying (without jitter)."""
        return float(
            sum(min(self.ceiling, self.base_delay * 2.0**i) for i in range(self.attempts - 1))
        )

    def run(
        self,
        operation: str,
        func: Callable[[], T],
        *,
        backend: str,
        location: str,
        on_retry: Callable[[], None] | None = None,
    ) -> T:
        """Call ``func`` until it succeeds (returning its result), retrying transient failures.

        Args:
            operation: name used in logs, fault hooks and messages.
            func: the backend call (must be idempotent).
            backend: backend name for messages.
            location: URL/directory for messages.
            on_retry: called once per retry (metrics).

        Raises:
            StoreError: translated; ``StoreUnavailable``/``StoreTimeout`` after the last
                attempt of a transient failure, other subclasses at once.
        """
        started = self.clock()
        for attempt in range(self.attempts):
            try:
                if self.fault_hook is not None:
                    self.fault_hook(operation, "before")
                result = func()
                if self.fault_hook is not None:
                    self.fault_hook(operation, "after")
                return result
            except (IndexLocked, KeyboardInterrupt):
                raise
            except Exception as exc:
                kind = classify(exc)
                error = translate(exc, backend=backend, location=location, operation=operation)
                if kind == "permanent":
                    if error is exc:
                        raise
                    raise error from exc
                if attempt + 1 >= self.attempts:
                    message = f"{error} (gave up after {self.attempts} attempts)"
                    raise type(error)(message) from exc
                delay = self._delay(attempt, exc)
                self._check_deadline(started, delay, attempt, error, exc)
                log.warning(
                    "store %s on %s failed transiently (%s); retry %d/%d in %.2fs",
                    operation,
                    backend,
                    _detail(exc),
                    attempt + 1,
                    self.attempts - 1,
                    delay,
                )
                if on_retry is not None:
                    on_retry()
                self.sleep(delay)
        raise AssertionError("unreachable")  # pragma: no cover

    def _delay(self, attempt: int, exc: BaseException) -> float:
        """The backoff before retry ``attempt + 1``, at least the server's own hint."""
        delay = self.backoff(attempt)
        retry_after = getattr(exc, "retry_after_s", None)  # e.g. a 429's Retry-After
        if isinstance(retry_after, int | float) and retry_after > 0:
            delay = max(delay, min(float(retry_after), self.ceiling))
        return delay

    def _check_deadline(
        self, started: float, delay: float, attempt: int, error: StoreError, exc: BaseException
    ) -> None:
        """Raise ``error`` when a retry after ``delay`` would end past the deadline."""
        if self.deadline is None:
            return
        spent = self.clock() - started
        if spent + delay < self.deadline:
            return
        message = (
            f"{error} (gave up after {attempt + 1} attempt(s) in {spent:.1f}s: the --timeout"
            f" deadline is {self.deadline:g}s)"
        )
        raise type(error)(message) from exc
