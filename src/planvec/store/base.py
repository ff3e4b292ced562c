"""The ``VectorStore`` seam: the only way planvec talks to Qdrant.

Only modules under ``planvec.store`` import ``qdrant_edge`` or ``qdrant_client``; everything
else speaks in the small types below. Backends:

* ``edge``   – Qdrant Edge, embedded in-process, one directory per collection (default);
* ``server`` – a Qdrant server or cluster through ``qdrant-client`` (``http(s)://...``);
* ``memory`` – qdrant-client's in-memory engine (``memory://``), for tests;
* ``local``  – qdrant-client's local mode on disk (``local://[path]``), for benchmarks and
  reading legacy local-mode data.

Contract every backend honours (tests/store/test_contract.py checks it on all of them):

* Point ids are UUID strings (legacy collections may hold unsigned ints: they are returned
  as ``int``). Ids come back in canonical form (lowercase, hyphenated); anything else is a
  ``StoreError``. Upserting an existing id replaces its vectors and payload.
* Each point has a dense vector named ``dense`` and, when the collection was created with
  ``sparse=True``, an optional sparse vector named ``lexical`` scored with IDF (BM25-like).
  Legacy collections with one unnamed vector are readable: their vector comes back in
  ``PointRecord.vector``.
* ``upsert``/``delete``/``set_payload`` are durable when they return (flushed / acknowledged
  with ``wait=True``); a crash afterwards loses nothing. They are idempotent.
* Transient failures (connection, timeout, 429, 5xx) are retried with backoff inside the
  backend; what is raised is always a ``planvec.errors.StoreError`` subclass.
* ``search`` returns at most ``limit`` hits, best first, with payloads; filters apply in every
  mode. With both ``dense`` and ``sparse`` set, candidates of both are fused with reciprocal
  rank fusion (server-side where the backend can, in planvec otherwise).
* Manifests (small JSON documents describing an index) are kept beside the collection by
  ``read_manifest``/``write_manifest``; writing is atomic.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, runtime_checkable

# SparseVector lives in records.py (the text layer builds them, below the store); re-exported
from planvec.records import SparseVector as SparseVector

PointId = str | int

DENSE_VECTOR = "dense"
SPARSE_VECTOR = "lexical"


@dataclass
class PointRecord:
    """A point as stored: id, dense vector (``None`` when not requested), payload, sparse."""

    id: PointId
    vector: list[float] | None
    payload: dict[str, Any]
    sparse: SparseVector | None = None


@dataclass(frozen=True)
class MatchValue:
    """``key`` equals ``value`` (for array fields: any element equals it)."""

    key: str
    value: str | int | bool


@dataclass(frozen=True)
class MatchAny:
    """``key`` equals one of ``values``."""

    key: str
    values: tuple[str | int, ...]


@dataclass(frozen=True)
class MatchText:
    """Every word of ``text`` occurs in the full-text indexed field ``key`` (case-insensitive)."""

    key: str
    text: str


Condition = MatchValue | MatchAny | MatchText


@dataclass(frozen=True)
class Filter:
    """All ``must`` conditions hold and no ``must_not`` condition holds."""

    must: tuple[Condition, ...] = ()
    must_not: tuple[Condition, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.must or self.must_not)


@dataclass(frozen=True)
class CollectionSpec:
    """What a collection must look like. ``ensure_collection`` creates or validates it."""

    dimension: int
    distance: Literal["cosine", "dot", "euclid"] = "cosine"
    sparse: bool = True
    keyword_fields: tuple[str, ...] = ()
    integer_fields: tuple[str, ...] = ()
    bool_fields: tuple[str, ...] = ()
    text_fields: tuple[str, ...] = ()


@dataclass(frozen=True)
class SearchRequest:
    """A query: a dense vector, a sparse vector, or both (hybrid, fused by RRF)."""

    dense: Sequence[float] | None = None
    sparse: SparseVector | None = None
    filter: Filter | None = None
    limit: int = 10
    #: candidates taken from each side before fusion (hybrid only)
    prefetch_limit: int = 50
    #: RRF constant k and per-side weights (dense, sparse)
    rrf_k: int = 60
    weights: tuple[float, float] = (1.0, 1.0)
    with_vectors: bool = False
    #: payload keys returned with each hit; ``None``: the whole payload, ``()``: none
    payload_fields: tuple[str, ...] | None = None


@dataclass(frozen=True)
class ScoredPoint:
    """One search hit."""

    id: PointId
    score: float
    payload: dict[str, Any]
    vector: list[float] | None = None


@dataclass(frozen=True)
class CollectionInfo:
    """What a collection holds."""

    name: str
    points: int
    dimension: int
    distance: str
    sparse: bool
    named_vectors: bool


@dataclass(frozen=True)
class StoreHealth:
    """Whether the store answers, and what it is."""

    ok: bool
    backend: str
    location: str
    detail: str = ""
    collections: tuple[str, ...] = ()
    extra: Mapping[str, Any] = field(default_factory=dict)


@runtime_checkable
class DataStore(Protocol):
    """The data calls: points of a named collection, written durably and read in pages.

    Contract (module docstring): ids canonical; writes durable and idempotent when they
    return; transient failures retried inside; every error a ``StoreError``.
    """

    def upsert(self, name: str, points: Iterable[PointRecord]) -> int:
        """Insert or replace points, batched by count and bytes; returns how many."""

    def retrieve(
        self,
        name: str,
        ids: Sequence[PointId],
        *,
        with_vectors: bool = False,
        payload_fields: Sequence[str] | None = None,
    ) -> list[PointRecord]:
        """The points among ``ids`` that exist (any order); with ``payload_fields``, only
        those payload keys (reading whole payloads is most of a retrieve's cost)."""

    def delete(
        self, name: str, *, ids: Sequence[PointId] | None = None, filter: Filter | None = None
    ) -> None:
        """Delete by ids and/or by filter."""

    def set_payload(
        self, name: str, payloads: Mapping[PointId, dict[str, Any]], *, merge: bool = False
    ) -> None:
        """Replace the whole payload of each given point, leaving vectors untouched.

        With ``merge``, only the given keys are written and the others are kept (cheaper
        when few fields changed, e.g. line numbers after an edit higher up in the plan).
        Ids that do not exist are skipped (no point is created).
        """

    def search(self, name: str, request: SearchRequest) -> list[ScoredPoint]:
        """Nearest points for a dense, sparse or hybrid query, filtered."""

    def scroll(
        self,
        name: str,
        *,
        filter: Filter | None = None,
        with_vectors: bool = False,
        with_payload: bool | Sequence[str] = True,
        batch_size: int = 1024,
    ) -> Iterator[PointRecord]:
        """Every point (matching ``filter``), in pages; memory stays bounded."""

    def count(self, name: str, filter: Filter | None = None) -> int:
        """Exact number of points (matching ``filter``)."""


@runtime_checkable
class CollectionAdmin(Protocol):
    """Collection admin: create/validate, describe, list and drop collections.

    Used by ``Index.ensure`` and by the migrations (model switch, import, legacy).
    """

    def ensure_collection(self, name: str, spec: CollectionSpec) -> None:
        """Create ``name`` if missing (with payload indexes); else check dimension/distance.

        Raises ``IndexMismatch`` when an existing collection has another dimension/distance.
        """

    def collection_info(self, name: str) -> CollectionInfo | None:
        """Facts about ``name``, or ``None`` when it does not exist."""

    def list_collections(self) -> list[str]:
        """Names of all collections."""

    def drop_collection(self, name: str) -> None:
        """Delete ``name`` and its manifest (no error when missing)."""


@runtime_checkable
class ManifestStore(Protocol):
    """Manifest storage: one small JSON document per collection, written atomically.

    The manifest (model, dimension, schema version...) is read on open and checked.
    """

    def read_manifest(self, name: str) -> dict[str, Any] | None:
        """The manifest stored for ``name``, or ``None``."""

    def write_manifest(self, name: str, manifest: Mapping[str, Any]) -> None:
        """Store the manifest of ``name`` atomically."""


@runtime_checkable
class VectorStore(DataStore, CollectionAdmin, ManifestStore, Protocol):
    """Everything planvec needs from Qdrant: the three seams above, plus lifecycle.

    A backend implements this whole protocol; a caller should ask for the narrowest seam
    it uses (``DataStore`` for sync and search, ``CollectionAdmin`` for migrations...).
    See the module docstring for the contract.
    """

    backend: str

    def health(self) -> StoreHealth:
        """Reachability and a short description; never raises."""

    def close(self) -> None:
        """Flush and release files / connections. Idempotent."""


@runtime_checkable
class AliasStore(Protocol):
    """Optional: stores that map logical collection names to physical collections.

    Used by ``planvec migrate-model`` to switch an index to a new collection atomically, and
    by ``open_index`` (through ``planvec.store.aliases.resolve_collection``) to find it.
    Server/memory/local: native Qdrant aliases. Edge: an alias file (see
    ``planvec.store.aliases``). An alias may not point at another alias.
    """

    def aliases(self) -> dict[str, str]:
        """``{alias: collection}`` for every alias."""

    def set_alias(self, alias: str, name: str) -> None:
        """Point ``alias`` at collection ``name`` atomically (create or move it)."""

    def delete_alias(self, alias: str) -> None:
        """Remove ``alias`` (no error when missing); the collection stays."""


#: The former name of ``AliasStore``.
SupportsAliases = AliasStore
