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

from planvec.errors import ConfigError
from planvec.redact import redact_text
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
    observer: Observer | None = None,
    parallel: int = 2,
    base_delay: float = 0.2,
    fault_hook: Callable[[str, Phase], None] | None = None,
    batch_size: int | None = None,
    durable_writes: bool = False,
) -> VectorStore:
    """Open the vector store chosen by ``qdrant_url``.

    Args:
        index_dir: the embedded index directory (Edge) or base of ``local://``.
        qdrant_url: ``None``, ``http(s)://...``, ``memory://`` or ``local://[path]``.
        api_key: server API key (never logged or shown).
        timeout: the deadline of one store operation, retries included (seconds): also
            each request's timeout in server mode.
        retries: total attempts per request for transient failures (>= 1).
        retry_ceiling: largest backoff between attempts (seconds).
        grpc: prefer gRPC (server mode).
        verify_tls: verify TLS certificates (server mode).
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
    if retries < 1:
        raise ConfigError("retries must be at least 1 (1 = no retry)")
    if not timeout > 0:
        raise ConfigError("timeout must be a positive number of seconds")
    if batch_size is not None and batch_size < 1:
        raise ConfigError(f"batch size must be at least 1, not {batch_size}")
    policy = RetryPolicy(
        attempts=retries,
        ceiling=retry_ceiling,
        base_delay=base_delay,
        fault_hook=fault_hook,
        deadline=timeout,
    )
    # every operation is logged (DEBUG, planvec.store) besides the caller's observer
    observer = (
        LoggingObserver() if observer is None else FanoutObserver(LoggingObserver(), observer)
    )
    if qdrant_url is None or qdrant_url == "":
        from planvec.store.edge import EdgeStore

        return EdgeStore(
            Path(index_dir),
            policy=policy,
            observer=observer,
            batch_points=batch_size or 1024,
            durable_writes=durable_writes,
        )
    store = _client_store(
        qdrant_url,
        index_dir=Path(index_dir),
        api_key=api_key,
        timeout=timeout,
        grpc=grpc,
        verify_tls=verify_tls,
        policy=policy,
        observer=observer,
        parallel=parallel,
    )
    if batch_size:
        store.batch_points = batch_size
    return store


def _client_store(
    qdrant_url: str,
    *,
    index_dir: Path,
    api_key: str | None,
    timeout: float,
    grpc: bool,
    verify_tls: bool,
    policy: RetryPolicy,
    observer: Observer | None,
    parallel: int,
) -> QdrantServerStore:
    if qdrant_url.startswith("memory://"):
        return QdrantServerStore.in_memory(policy=policy, observer=observer)
    if qdrant_url.startswith("local://"):
        rest = qdrant_url[len("local://") :]
        path = Path(rest) if rest else Path(index_dir) / "qdrant_local"
        path.mkdir(parents=True, exist_ok=True)
        return QdrantServerStore.local(str(path), policy=policy, observer=observer)
    if qdrant_url.startswith(("http://", "https://")):
        return QdrantServerStore.connect(
            qdrant_url,
            api_key=api_key,
            timeout=timeout,
            grpc=grpc,
            verify_tls=verify_tls,
            policy=policy,
            observer=observer,
            parallel=parallel,
        )
    raise ConfigError(
        f"--qdrant-url {redact_text(qdrant_url)!r} must start with http://, https://, memory:// or local://"
    )
