"""The shared core of the ``qdrant-client`` backends: construction, retried requests, reads.

``QdrantServerStore`` (``server.py``) adds collection management, writes and manifests.
Split in two only to keep modules short; there is one backend class.
"""

from __future__ import annotations

import contextlib
import math
import threading
import warnings
from collections.abc import Callable, Iterator, Sequence
from functools import partial
from typing import Any, Self, TypeVar

from planvec.errors import CollectionNotFound, IndexLocked, StoreError
from planvec.redact import redact_text
from planvec.store.base import (
    DENSE_VECTOR,
    SPARSE_VECTOR,
    CollectionInfo,
    Filter,
    PointId,
    PointRecord,
    ScoredPoint,
    SearchRequest,
)
from planvec.store.client_convert import (
    client_filter,
    client_hit,
    client_record,
)
from planvec.store.common import (
    Instrumented,
    check_vector,
    normalize_id,
    observed,
    payload_selector,
    rrf_fuse,
)
from planvec.store.observe import Observer
from planvec.store.retry import RetryPolicy

T = TypeVar("T")

META_SUFFIX = "__planvec_meta"


class ClientStoreBase(Instrumented):
    """Connection, retries, collection facts and every read of the qdrant-client backends."""

    def __init__(
        self,
        client: Any,
        *,
        backend: str,
        location: str,
        policy: RetryPolicy | None = None,
        observer: Observer | None = None,
        batch_points: int = 256,
        parallel: int = 1,
    ) -> None:
        """Wrap a ready ``QdrantClient``; prefer ``connect``/``in_memory``/``local``.

        Args:
            client: the ``QdrantClient``.
            backend: ``server``, ``memory`` or ``local``.
            location: URL or path shown in messages (never credentials).
            policy: retry policy.
            observer: receives one event per operation.
            batch_points: most points per upsert request.
            parallel: upload threads (server mode only).
        """
        self.client = client
        self.backend = backend
        self.location = location
        self.policy = policy or RetryPolicy()
        self.observer = observer
        self.batch_points = batch_points
        self.parallel = max(1, parallel) if backend == "server" else 1
        self._infos: dict[str, CollectionInfo] = {}
        self._native_rrf = True
        self._lock = threading.Lock()
        # qdrant-client's local engine (memory/local) is not thread-safe: a search racing an
        # upsert can fail (numpy shape mismatch); its requests are serialized (see _quiet)
        self._engine_lock = threading.RLock()
        self._closed = False

    # -- construction -----------------------------------------------------------------------

    @classmethod
    def connect(
        cls,
        url: str,
        *,
        api_key: str | None = None,
        timeout: float = 30.0,
        grpc: bool = False,
        verify_tls: bool = True,
        policy: RetryPolicy | None = None,
        observer: Observer | None = None,
        parallel: int = 2,
    ) -> Self:
        """A store on a Qdrant server or cluster at ``url``.

        Args:
            url: ``http(s)://host:port``.
            api_key: API key (sent as a header, never logged).
            timeout: per-request timeout in seconds.
            grpc: prefer gRPC (port 6334) over REST.
            verify_tls: verify the server certificate (REST).
            policy: retry policy.
            observer: metrics hook.
            parallel: upload threads.

        Returns:
            The store (no request is made until first use).
        """
        from qdrant_client import QdrantClient

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "api key used with an insecure connection"
            client = QdrantClient(
                url=url,
                api_key=api_key,
                timeout=max(1, math.ceil(timeout)),
                prefer_grpc=grpc,
                check_compatibility=False,
                verify=verify_tls,
            )
        return cls(
            client, backend="server", location=redact_text(url), policy=policy, observer=observer,
            parallel=parallel,
        )  # fmt: skip

    @classmethod
    def in_memory(
        cls, *, policy: RetryPolicy | None = None, observer: Observer | None = None
    ) -> Self:
        """A store on qdrant-client's in-memory engine (``memory://``)."""
        from qdrant_client import QdrantClient

        return cls(
            QdrantClient(":memory:"),
            backend="memory",
            location="memory://",
            policy=policy,
            observer=observer,
        )

    @classmethod
    def local(
        cls, path: str, *, policy: RetryPolicy | None = None, observer: Observer | None = None
    ) -> Self:
        """A store on qdrant-client's local mode in directory ``path`` (one process at a time)."""
        from qdrant_client import QdrantClient

        try:
            client = QdrantClient(path=path)
        except RuntimeError as exc:
            if "already accessed" in str(exc):
                raise IndexLocked(
                    f"{path} is open in another Qdrant local-mode client: close it first"
                ) from exc
            raise StoreError(f"cannot open local Qdrant storage {path}: {exc}") from exc
        return cls(client, backend="local", location=path, policy=policy, observer=observer)

    # -- helpers ----------------------------------------------------------------------------

    @contextlib.contextmanager
    def _quiet(self) -> Iterator[None]:
        """Silence local-mode warnings (">20,000 points", "indexes have no effect"), and
        serialize local-engine requests (neither the engine nor ``catch_warnings`` is
        thread-safe).

        Not for server mode: ``catch_warnings`` is not thread-safe and uploads are threaded.
        """
        if self.backend == "server":
            yield
            return
        with self._engine_lock, warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            yield

    def _req(self, operation: str, func: Callable[[], T]) -> T:
        if self._closed:
            raise StoreError("the store is closed")

        def quiet() -> T:
            with self._quiet():
                return func()

        return self._call(operation, quiet)

    def _create_missing(self, operation: str, name: str, **config: Any) -> None:
        """Create a collection unless it exists; idempotent under retries and races."""

        def create() -> None:
            if self.client.collection_exists(name):
                return
            try:
                self.client.create_collection(name, **config)
            except Exception as exc:  # a retry after an applied create, or another writer
                if "already exists" not in str(exc) and getattr(exc, "status_code", 0) != 409:
                    raise
                if not self.client.collection_exists(name):
                    raise

        self._req(operation, create)

    def _info(self, name: str, *, required: bool = True) -> CollectionInfo | None:
        cached = self._infos.get(name)
        if cached is not None:
            return cached
        if not self._req("collection_info", lambda: self.client.collection_exists(name)):
            if required:
                raise CollectionNotFound(
                    f"collection {name!r} does not exist at {self.location}: run `planvec index`"
                    " first or check --collection"
                )
            return None
        desc = self._req("collection_info", lambda: self.client.get_collection(name))
        params = desc.config.params
        vectors = params.vectors
        named = isinstance(vectors, dict)
        dense = (vectors.get(DENSE_VECTOR) or next(iter(vectors.values()))) if named else vectors
        info = CollectionInfo(
            name=name,
            points=0,
            dimension=int(dense.size),
            distance=str(getattr(dense.distance, "value", dense.distance)).lower(),
            sparse=SPARSE_VECTOR in (params.sparse_vectors or {}),
            named_vectors=named,
        )
        self._infos[name] = info
        return info

    def retrieve(
        self,
        name: str,
        ids: Sequence[PointId],
        *,
        with_vectors: bool = False,
        payload_fields: Sequence[str] | None = None,
    ) -> list[PointRecord]:
        """The existing points among ``ids`` (only ``payload_fields`` when given)."""
        wanted = [normalize_id(i) for i in ids]
        return self._retrieve(name, wanted, with_vectors, payload_selector(payload_fields))

    @observed("retrieve", points=lambda found, *_, **__: len(found))
    def _retrieve(
        self, name: str, wanted: list[Any], with_vectors: bool, with_payload: bool | list[str]
    ) -> list[PointRecord]:
        if not wanted:
            return []
        self._info(name)
        records = self._req(
            "retrieve",
            lambda: self.client.retrieve(
                name, ids=wanted, with_payload=with_payload, with_vectors=with_vectors
            ),
        )
        return [client_record(r) for r in records]

    @observed("search", points=lambda hits, *_, **__: len(hits))
    def search(self, name: str, request: SearchRequest) -> list[ScoredPoint]:
        """Dense, sparse or hybrid (server-side weighted RRF, else fused here) search."""
        from qdrant_client import models

        if request.dense is None and request.sparse is None:
            raise StoreError("search needs a dense vector, a sparse vector, or both")
        if request.limit <= 0:
            return []
        info = self._info(name)
        assert info is not None
        check_vector(request.dense, info.dimension, "query")
        flt = client_filter(request.filter)
        sources: list[tuple[Any, str | None, float]] = []
        if request.dense is not None:
            using = DENSE_VECTOR if info.named_vectors else None
            sources.append((list(request.dense), using, request.weights[0]))
        if request.sparse is not None and request.sparse.indices:
            if not info.sparse:
                raise StoreError(f"collection {name!r} has no sparse vectors: use a dense query")
            sparse = models.SparseVector(
                indices=list(request.sparse.indices), values=list(request.sparse.values)
            )
            sources.append((sparse, SPARSE_VECTOR, request.weights[1]))
        if not sources:
            return []
        hybrid = request.dense is not None and request.sparse is not None
        if not hybrid:
            query, using, _ = sources[0]
            return self._query(name, request, query=query, using=using, flt=flt)
        if self._native_rrf:
            prefetch = [
                models.Prefetch(query=q, using=u, limit=request.prefetch_limit, filter=flt)
                for q, u, _ in sources
            ]
            rrf = models.RrfQuery(
                rrf=models.Rrf(k=request.rrf_k, weights=[float(w) for _, _, w in sources])
            )
            try:
                return self._query(name, request, query=rrf, prefetch=prefetch, flt=flt)
            except CollectionNotFound:
                raise
            except StoreError:
                if self.backend != "server":
                    raise
                self._native_rrf = False  # older server without weighted RRF: fuse here
        ranked = [
            self._query(name, request, query=q, using=u, flt=flt, limit=request.prefetch_limit)
            for q, u, _ in sources
        ]
        return rrf_fuse(ranked, request.rrf_k, [w for _, _, w in sources], request.limit)

    def _query(
        self,
        name: str,
        request: SearchRequest,
        *,
        query: Any,
        flt: Any,
        using: str | None = None,
        prefetch: Any = None,
        limit: int | None = None,
    ) -> list[ScoredPoint]:
        response = self._req(
            "search",
            lambda: self.client.query_points(
                name,
                query=query,
                using=using,
                prefetch=prefetch,
                query_filter=flt,
                limit=limit or request.limit,
                with_payload=payload_selector(request.payload_fields),
                with_vectors=request.with_vectors,
            ),
        )
        return [client_hit(hit, request.with_vectors) for hit in response.points]

    def scroll(
        self,
        name: str,
        *,
        filter: Filter | None = None,
        with_vectors: bool = False,
        with_payload: bool | Sequence[str] = True,
        batch_size: int = 1024,
    ) -> Iterator[PointRecord]:
        """Every point matching ``filter``, page by page."""
        self._info(name)
        flt = client_filter(filter)
        payload_sel: Any = with_payload if isinstance(with_payload, bool) else list(with_payload)
        offset: Any = None
        while True:
            fetch = partial(
                self.client.scroll,
                name,
                scroll_filter=flt,
                limit=batch_size,
                offset=offset,
                with_payload=payload_sel,
                with_vectors=with_vectors,
            )
            page, offset = self._observe(
                "scroll", partial(self._req, "scroll", fetch), lambda result: len(result[0])
            )
            for rec in page:
                yield client_record(rec)
            if offset is None or not page:
                return

    @observed("count")
    def count(self, name: str, filter: Filter | None = None) -> int:
        """Exact count of points matching ``filter``."""
        self._info(name)
        flt = client_filter(filter)
        return int(
            self._req("count", lambda: self.client.count(name, count_filter=flt, exact=True).count)
        )
