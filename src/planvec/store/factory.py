"""``open_store``: one setting (``--qdrant-url``) picks the backend.

* no URL             -> Qdrant Edge in ``<index_dir>/collections`` (default, embedded);
* ``http(s)://...``  -> a Qdrant server or cluster through qdrant-client;
* ``memory://``      -> qdrant-client's in-memory engine (tests);
* ``local://``       -> qdrant-client local mode in ``<index_dir>/qdrant_local``, or
  ``local:///abs/path`` for another folder (benchmarks, reading legacy local-mode data).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from planvec.errors import ConfigError
from planvec.settings import StoreConfig, StoreTarget
from planvec.store.base import VectorStore
from planvec.store.observe import FanoutObserver, LoggingObserver, Observer
from planvec.store.retry import Phase, RetryPolicy
from planvec.store.server import QdrantServerStore


def open_store(
    *,
    index_dir: Path,
    qdrant_url: str | None = None,
    api_key: str | None = None,
    timeout: float = 30,
    retries: int = 5,
    retry_ceiling: float = 10,
    grpc: bool = False,
    verify_tls: bool = True,
    **tuning: Any,
) -> VectorStore:
    """Keyword form of ``open_configured_store`` (tests and benchmarks name each knob).

    Applications go through ``planvec.wiring.open_store(settings)``, which passes
    ``settings.store``. The arguments here are the fields of ``StoreConfig``; ``tuning``
    takes the keyword arguments of ``open_configured_store`` (observer, batch_size...).
    """
    config = StoreConfig(
        Path(index_dir), qdrant_url, api_key, timeout, retries, retry_ceiling, grpc, verify_tls
    )
    return open_configured_store(config, **tuning)


def open_configured_store(
    config: StoreConfig,
    *,
    observer: Observer | None = None,
    parallel: int = 2,
    base_delay: float = 0.2,
    fault_hook: Callable[[str, Phase], None] | None = None,
    batch_size: int | None = None,
    durable_writes: bool = False,
) -> VectorStore:
    """Open the vector store chosen by ``config.qdrant_url``.

    Args:
        config: where the store is and how to reach it (``Settings.store``; its ``timeout`` is
            the deadline of one store operation, retries included, and each request's
            timeout in server mode); see ``planvec.settings.StoreConfig``.
        observer: receives one ``OperationEvent`` per operation (metrics, logs).
        parallel: upload threads (server mode).
        base_delay: first backoff (seconds).
        fault_hook: fault injection around each attempt (tests; see ``FaultInjector``).
        batch_size: most points per write request (default 1024 Edge, 256 client backends;
            requests are also capped at 8 MiB).
        durable_writes: Edge only: fsync (flush) at the end of every write call, so writes
            survive power loss, not only process crashes (see docs/store.md); slower.

    Returns:
        A ``VectorStore``; close it when done (it is not a context manager on purpose:
        the index layer owns its lifetime).

    Raises:
        ConfigError: unknown URL scheme or bad retry settings.
        IndexLocked: a local-disk store is open in another process.
    """
    if batch_size is not None and batch_size < 1:
        raise ConfigError(f"batch size must be at least 1, not {batch_size}")
    policy = _retry_policy(config, base_delay, fault_hook)
    target = config.target
    # every operation is logged (DEBUG, planvec.store) besides the caller's observer
    observer = (
        LoggingObserver() if observer is None else FanoutObserver(LoggingObserver(), observer)
    )
    if target.kind == "edge":
        from planvec.store.edge import EdgeStore

        return EdgeStore(
            Path(config.index_dir),
            policy=policy,
            observer=observer,
            batch_points=batch_size or 1024,
            durable_writes=durable_writes,
        )
    store = _client_store(config, target, policy=policy, observer=observer, parallel=parallel)
    if batch_size:
        store.batch_points = batch_size
    return store


def _retry_policy(
    config: StoreConfig, base_delay: float, fault_hook: Callable[[str, Phase], None] | None
) -> RetryPolicy:
    """The retry policy of ``config``; ``ConfigError`` for unusable retry settings."""
    if config.retries < 1:
        raise ConfigError("retries must be at least 1 (1 = no retry)")
    if not config.timeout > 0:
        raise ConfigError("timeout must be a positive number of seconds")
    return RetryPolicy(
        attempts=config.retries,
        ceiling=config.retry_ceiling,
        base_delay=base_delay,
        fault_hook=fault_hook,
        deadline=config.timeout,
    )


def _client_store(
    config: StoreConfig,
    target: StoreTarget,
    *,
    policy: RetryPolicy,
    observer: Observer | None,
    parallel: int,
) -> QdrantServerStore:
    if target.kind == "memory":
        return QdrantServerStore.in_memory(policy=policy, observer=observer)
    if target.kind == "local":
        path = Path(target.address) if target.address else Path(config.index_dir) / "qdrant_local"
        path.mkdir(parents=True, exist_ok=True)
        return QdrantServerStore.local(str(path), policy=policy, observer=observer)
    return QdrantServerStore.connect(
        target.address,
        api_key=config.api_key,
        timeout=config.timeout,
        grpc=config.grpc,
        verify_tls=config.verify_tls,
        policy=policy,
        observer=observer,
        parallel=parallel,
    )
