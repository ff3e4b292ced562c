"""Conversions between planvec's store types and ``qdrant_edge`` objects, and file helpers.

Split from ``edge.py`` so the backend class stays short. ``qdrant_edge`` is imported inside
the functions: importing ``planvec.store`` must stay cheap.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from planvec.errors import StoreError
from planvec.store.base import (
    DENSE_VECTOR,
    SPARSE_VECTOR,
    CollectionInfo,
    CollectionSpec,
    Filter,
    MatchAny,
    MatchText,
    MatchValue,
    PointRecord,
    ScoredPoint,
    SearchRequest,
    SparseVector,
)
from planvec.store.common import check_vector, normalize_id, payload_selector

_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")
_DISTANCES = {"cosine": "Cosine", "dot": "Dot", "euclid": "Euclid"}
#: upserted points after which the store optimizes a shard (seals its appendable segment),
#: and about the most points a merge may put in one segment. The appendable segment holds
#: ~3.5 KB of heap a point (measured), so 100k keeps it near 350 MB; an index of 100k tasks
#: (where the search target is measured) is still sealed once, as one segment
SEGMENT_POINTS = 100_000
#: vector bytes a point adds besides its dense floats (the sparse lexical vector, ~15 terms)
_SPARSE_BYTES = 256


def check_name(name: str) -> str:
    """A collection name that is safe as a directory name, or ``StoreError``."""
    if not _NAME.match(name) or name.endswith(".manifest.json") or ".." in name:
        raise StoreError(
            f"invalid collection name {name!r}: use letters, digits, '_', '-' or '.'"
            " (at most 128 characters)"
        )
    return name


def write_json_atomic(path: Path, data: Mapping[str, Any]) -> None:
    """Write JSON to ``path`` so readers see the old or the new file, never a torn one.

    Temp file in the same directory, fsync, ``os.replace``, then fsync of the directory.

    Args:
        path: destination.
        data: a JSON-serialisable mapping.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=path.name + ".", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(dict(data), handle, ensure_ascii=False, sort_keys=True, indent=1)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    with contextlib.suppress(OSError):  # not every filesystem lets a directory be fsynced
        dir_fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)


def _edge_condition(cond: MatchValue | MatchAny | MatchText) -> Any:
    import qdrant_edge as qe

    if isinstance(cond, MatchValue):
        value: Any = cond.value
        if isinstance(value, bool):
            # qdrant-edge-py 0.9.0 converts a Python bool to the integer 1/0, which never
            # matches a boolean payload; numpy.bool_ is converted as a real bool.
            import numpy

            value = numpy.bool_(value)
        return qe.FieldCondition(key=cond.key, match=qe.MatchValue(value))
    if isinstance(cond, MatchAny):
        choices: Any = list(cond.values)
        return qe.FieldCondition(key=cond.key, match=qe.MatchAny(choices))
    return qe.FieldCondition(key=cond.key, match=qe.MatchText(cond.text))


def edge_filter(flt: Filter | None) -> Any:
    """The ``qdrant_edge.Filter`` for a planvec ``Filter`` (``None`` when empty)."""
    if not flt:
        return None
    import qdrant_edge as qe

    return qe.Filter(
        must=[_edge_condition(c) for c in flt.must] or None,
        must_not=[_edge_condition(c) for c in flt.must_not] or None,
    )


def edge_record(rec: Any) -> PointRecord:
    dense: list[float] | None = None
    sparse: SparseVector | None = None
    vector = rec.vector
    if isinstance(vector, dict):
        raw = vector.get(DENSE_VECTOR, vector.get(""))
        dense = list(raw) if raw is not None else None
        sp = vector.get(SPARSE_VECTOR)
        if sp is not None:
            sparse = SparseVector(tuple(sp.indices), tuple(float(v) for v in sp.values))
    elif isinstance(vector, list):
        dense = list(vector)
    return PointRecord(
        id=normalize_id(rec.id), vector=dense, payload=dict(rec.payload or {}), sparse=sparse
    )


def edge_config(spec: CollectionSpec) -> Any:
    """The ``EdgeConfig`` of a new collection: named dense vector, sparse IDF vector.

    Memory placement: the HNSW graph and the sparse (lexical) index are ``Cached``, i.e.
    memory-mapped files warmed into the page cache when the shard loads, instead of Edge's
    default ``Pinned`` (copied onto the heap). Warm searches read the same pages either way
    (measured equal at 20k points), but the pages are the kernel's to evict under pressure,
    not anonymous memory that only grows with the index (about a tenth of the heap at 20k;
    docs/store.md). The HNSW parameters are Edge's defaults, written out because the config
    needs them. Dense vectors (``Cached``) and payloads (``Cold``) keep Edge's defaults;
    payload indexes stay on the heap (the filters of search use them on every query).

    Segments: no merge makes a segment of more than ``SEGMENT_POINTS`` points' vectors, so
    no HNSW build (and no segment's heap) grows with the collection; the store seals the
    appendable segment at that size too (``EdgeShards._after_write``).
    """
    import qdrant_edge as qe

    sparse = (
        {
            SPARSE_VECTOR: qe.EdgeSparseVectorParams(
                modifier=qe.Modifier.Idf, memory=qe.Memory.Cached
            )
        }
        if spec.sparse
        else None
    )
    dense = qe.EdgeVectorParams(
        size=spec.dimension, distance=getattr(qe.Distance, _DISTANCES[spec.distance])
    )
    hnsw = qe.HnswIndexConfig(
        m=16, ef_construct=100, full_scan_threshold=10_000, memory=qe.Memory.Cached
    )
    # Qdrant's default cap is 200 MB of vectors per CPU: 3.2 GB (2M points) on 16 cores
    segment_kb = SEGMENT_POINTS * (4 * spec.dimension + _SPARSE_BYTES) // 1024
    optimizers = qe.EdgeOptimizersConfig(max_segment_size=segment_kb)
    return qe.EdgeConfig(
        vectors={DENSE_VECTOR: dense},
        sparse_vectors=sparse,
        hnsw_config=hnsw,
        optimizers=optimizers,
    )


def index_schemas(spec: CollectionSpec) -> list[tuple[str, Any]]:
    """``(field, schema)`` of every payload index ``spec`` asks for.

    Text fields use the word tokenizer, lowercased: the same tokens qdrant-client's local
    mode and an unindexed server field use, so ``MatchText`` means the same everywhere.
    """
    import qdrant_edge as qe

    wanted: list[tuple[str, Any]] = []
    wanted += [(f, qe.PayloadSchemaType.Keyword) for f in spec.keyword_fields]
    wanted += [(f, qe.PayloadSchemaType.Integer) for f in spec.integer_fields]
    wanted += [(f, qe.PayloadSchemaType.Bool) for f in spec.bool_fields]
    wanted += [
        (f, qe.TextIndexParams(tokenizer=qe.TokenizerType.Word, lowercase=True))
        for f in spec.text_fields
    ]
    return wanted


def edge_point(name: str, point: PointRecord, info: CollectionInfo) -> Any:
    """A ``qdrant_edge.Point`` for ``point``, validated against the collection."""
    import qdrant_edge as qe

    if point.vector is None:
        raise StoreError(f"point {point.id} has no dense vector; every point needs one")
    check_vector(point.vector, info.dimension, f"point {point.id}")
    vector: dict[str, Any] = {DENSE_VECTOR: list(point.vector)}
    if point.sparse is not None and point.sparse.indices:
        if not info.sparse:
            raise StoreError(
                f"collection {name!r} has no sparse vectors; rebuild it with sparse=True"
            )
        vector[SPARSE_VECTOR] = qe.SparseVector(
            indices=list(point.sparse.indices), values=list(point.sparse.values)
        )
    return qe.Point(normalize_id(point.id), vector, dict(point.payload))


def edge_query(name: str, request: SearchRequest, info: CollectionInfo) -> Any:
    """The ``QueryRequest`` for a dense, sparse or hybrid search (``None``: nothing to ask).

    Hybrid queries prefetch each side (filtered) and fuse them with Edge's weighted RRF,
    whose formula is Qdrant's: ``1 / ((rank0 + 1) / w + k - 1)``.
    """
    import qdrant_edge as qe

    check_vector(request.dense, info.dimension, "query")
    flt = edge_filter(request.filter)
    sources: list[tuple[Any, float]] = []
    if request.dense is not None:
        using = DENSE_VECTOR if info.named_vectors else None
        sources.append((qe.Query.Nearest(list(request.dense), using=using), request.weights[0]))
    if request.sparse is not None and request.sparse.indices:
        if not info.sparse:
            raise StoreError(f"collection {name!r} has no sparse vectors: use a dense query")
        sparse = qe.SparseVector(
            indices=list(request.sparse.indices), values=list(request.sparse.values)
        )
        sources.append((qe.Query.Nearest(sparse, using=SPARSE_VECTOR), request.weights[1]))
    if not sources:
        return None
    common: dict[str, Any] = {
        "limit": request.limit,
        "filter": flt,
        "with_payload": payload_selector(request.payload_fields),
        "with_vector": request.with_vectors,
    }
    if request.dense is None or request.sparse is None:
        return qe.QueryRequest(query=sources[0][0], **common)
    rrf: Any = qe.Fusion.Rrf(k=request.rrf_k, weights=[float(w) for _, w in sources])
    prefetches = [
        qe.Prefetch(limit=request.prefetch_limit, query=q, filter=flt) for q, _ in sources
    ]
    return qe.QueryRequest(prefetches=prefetches, query=rrf, **common)


def edge_hit(hit: Any, with_vectors: bool) -> ScoredPoint:
    """A planvec ``ScoredPoint`` from an Edge hit (a hybrid search converts ~200 of them:
    each field is read once; the bindings build a new ``uuid.UUID`` on every ``hit.id``)."""
    vector = None
    if with_vectors and hit.vector is not None:
        vector = edge_record(hit).vector
    payload = hit.payload
    return ScoredPoint(
        id=normalize_id(hit.id),
        score=float(hit.score),
        payload=dict(payload) if payload else {},
        vector=vector,
    )
