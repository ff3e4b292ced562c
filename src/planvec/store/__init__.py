"""The vector store seam (see ``planvec.store.base`` for the contract).

``open_store(index_dir=..., qdrant_url=...)`` returns a ``VectorStore``: Qdrant Edge embedded
by default, a Qdrant server for ``http(s)://``, qdrant-client's memory engine for ``memory://``.
Importing this package is cheap: the Qdrant libraries load on first use.
"""

from planvec.store.base import (
    DENSE_VECTOR,
    SPARSE_VECTOR,
    CollectionInfo,
    CollectionSpec,
    Condition,
    Filter,
    MatchAny,
    MatchText,
    MatchValue,
    PointId,
    PointRecord,
    ScoredPoint,
    SearchRequest,
    SparseVector,
    StoreHealth,
    VectorStore,
)
from planvec.store.factory import open_configured_store, open_store
from planvec.store.observe import MetricsObserver, Observer, OperationEvent
from planvec.store.retry import FaultInjector, RetryPolicy

__all__ = [
    "DENSE_VECTOR",
    "SPARSE_VECTOR",
    "CollectionInfo",
    "CollectionSpec",
    "Condition",
    "FaultInjector",
    "Filter",
    "MatchAny",
    "MatchText",
    "MatchValue",
    "MetricsObserver",
    "Observer",
    "OperationEvent",
    "PointId",
    "PointRecord",
    "RetryPolicy",
    "ScoredPoint",
    "SearchRequest",
    "SparseVector",
    "StoreHealth",
    "VectorStore",
    "open_configured_store",
    "open_store",
]
