"""Conversions between planvec's store types and ``qdrant_client.models``.

Split from ``server.py`` so the backend class stays short; ``qdrant_client`` is imported
inside the functions so that importing ``planvec.store`` stays cheap.
"""

from __future__ import annotations

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
    SparseVector,
)
from planvec.store.common import check_vector, normalize_id

_DISTANCES = {"cosine": "Cosine", "dot": "Dot", "euclid": "Euclid"}


def _condition(cond: MatchValue | MatchAny | MatchText) -> Any:
    from qdrant_client import models

    if isinstance(cond, MatchValue):
        return models.FieldCondition(key=cond.key, match=models.MatchValue(value=cond.value))
    if isinstance(cond, MatchAny):
        values: Any = list(cond.values)
        return models.FieldCondition(key=cond.key, match=models.MatchAny(any=values))
    return models.FieldCondition(key=cond.key, match=models.MatchText(text=cond.text))


def client_filter(flt: Filter | None) -> Any:
    """The ``qdrant_client.models.Filter`` for a planvec ``Filter`` (``None`` when empty)."""
    if not flt:
        return None
    from qdrant_client import models

    return models.Filter(
        must=[_condition(c) for c in flt.must] or None,
        must_not=[_condition(c) for c in flt.must_not] or None,
    )


def _dense_of(vector: Any) -> list[float] | None:
    if isinstance(vector, dict):
        raw = vector.get(DENSE_VECTOR, vector.get(""))
        return list(raw) if isinstance(raw, list) else None
    return list(vector) if isinstance(vector, list) else None


def client_record(rec: Any) -> PointRecord:
    sparse = None
    if isinstance(rec.vector, dict) and rec.vector.get(SPARSE_VECTOR) is not None:
        sp = rec.vector[SPARSE_VECTOR]
        sparse = SparseVector(tuple(sp.indices), tuple(float(v) for v in sp.values))
    return PointRecord(
        id=normalize_id(rec.id),
        vector=_dense_of(rec.vector),
        payload=dict(rec.payload or {}),
        sparse=sparse,
    )


def collection_config(spec: CollectionSpec) -> dict[str, Any]:
    """``create_collection`` keyword arguments: named dense vector, sparse IDF vector."""
    from qdrant_client import models

    sparse = (
        {SPARSE_VECTOR: models.SparseVectorParams(modifier=models.Modifier.IDF)}
        if spec.sparse
        else None
    )
    dense = models.VectorParams(
        size=spec.dimension, distance=models.Distance(_DISTANCES[spec.distance])
    )
    return {"vectors_config": {DENSE_VECTOR: dense}, "sparse_vectors_config": sparse}


def index_schemas(spec: CollectionSpec) -> list[tuple[str, Any]]:
    """``(field, schema)`` of every payload index ``spec`` asks for (word tokenizer, lowercase)."""
    from qdrant_client import models

    text = models.TextIndexParams(
        type=models.TextIndexType.TEXT, tokenizer=models.TokenizerType.WORD, lowercase=True
    )
    wanted: list[tuple[str, Any]] = []
    wanted += [(f, models.PayloadSchemaType.KEYWORD) for f in spec.keyword_fields]
    wanted += [(f, models.PayloadSchemaType.INTEGER) for f in spec.integer_fields]
    wanted += [(f, models.PayloadSchemaType.BOOL) for f in spec.bool_fields]
    wanted += [(f, text) for f in spec.text_fields]
    return wanted


def client_point(name: str, point: PointRecord, info: CollectionInfo) -> Any:
    """A ``PointStruct`` for ``point`` (unnamed vector for legacy collections)."""
    from qdrant_client import models

    if point.vector is None:
        raise StoreError(f"point {point.id} has no dense vector; every point needs one")
    check_vector(point.vector, info.dimension, f"point {point.id}")
    if not info.named_vectors:
        return models.PointStruct(
            id=normalize_id(point.id), vector=list(point.vector), payload=dict(point.payload)
        )
    vector: dict[str, Any] = {DENSE_VECTOR: list(point.vector)}
    if point.sparse is not None and point.sparse.indices:
        if not info.sparse:
            raise StoreError(
                f"collection {name!r} has no sparse vectors; rebuild it with sparse=True"
            )
        vector[SPARSE_VECTOR] = models.SparseVector(
            indices=list(point.sparse.indices), values=list(point.sparse.values)
        )
    return models.PointStruct(id=normalize_id(point.id), vector=vector, payload=point.payload)


def client_hit(hit: Any, with_vectors: bool) -> ScoredPoint:
    """A planvec ``ScoredPoint`` from a qdrant-client hit."""
    return ScoredPoint(
        id=normalize_id(hit.id),
        score=float(hit.score),
        payload=dict(hit.payload or {}),
        vector=_dense_of(hit.vector) if with_vectors else None,
    )
