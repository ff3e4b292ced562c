"""Search: a query string -> dense and/or lexical query vectors -> filtered store search.

Modes: ``dense`` (the embedding model), ``sparse`` (BM25-like lexical vectors with IDF) and
``hybrid`` (both, fused by reciprocal rank fusion; the default). Hybrid closes the gap between
French plans and an English model: lexical matching finds what shares words with the query,
the model finds paraphrases and translations. The index renders queries in pseudo-English
(``query_text``, the glossary of ``planvec.text.glossary``) before embedding them, as it
does for task texts.
"""

from __future__ import annotations

import fnmatch
import os
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, replace
from typing import Any, Protocol

from planvec.embed.base import Embedder, embed_queries, embeds_outside_gil
from planvec.embed.cpu import core_is_idle
from planvec.embed.model_files import E5_FAMILY, USEM3_FAMILY
from planvec.errors import ConfigError, IndexMismatch
from planvec.records import HitLocation, SearchHit
from planvec.store.base import (
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
    VectorStore,
)
from planvec.store.common import rrf_fuse, rrf_reads

SEARCH_MODES = ("hybrid", "dense", "sparse")

#: Hybrid fusion defaults, tuned on the dev split of bench/queries/dev.jsonl with
#: bench/search_lab.py and confirmed on its test split (docs/benchmarks.md, "Search quality
#: (hybrid, FR/EN)"). Weighted RRF as Qdrant computes it, ``1 / ((rank0 + 1) / w + k - 1)``:
#: a small k lets each side's top hits dominate (k = 60 buried exact matches under weak
#: candidates), and the lexical side counts double because its hits are exact.
RRF_K = 5
FUSION_WEIGHTS = (1.0, 2.0)  # (dense, sparse)
#: Per model family, where the dense side deserves another weight: the multilingual model
#: (usem3) finds French paraphrases the lexical side cannot, so its side counts more
#: (dev split, bench/multilingual_lab.py: R@10 0.839 / MRR 0.656 at 3:2 vs 0.831 / 0.626 at
#: 1:2; docs/embedding.md, "The multilingual model"). multilingual-e5-small: 2:1 (dev R@10
#: 0.788 at 1:2, 1:1 and 2:1 alike, MRR@10 0.633 at 2:1 vs 0.630 at 1:2: within one query,
#: docs/embedding.md, "The second multilingual model").
FUSION_WEIGHTS_BY_FAMILY = {USEM3_FAMILY: (3.0, 2.0), E5_FAMILY: (2.0, 1.0)}
PREFETCH_LIMIT = 100
#: ``item``: the items of managers' collections (``planvec search --kind dependency``)
STATUSES = ("todo", "done", "in_progress", "cancelled", "item")


def fusion_weights(model_family: str) -> tuple[float, float]:
    """The (dense, sparse) RRF weights of hybrid search for an index of ``model_family``."""
    return FUSION_WEIGHTS_BY_FAMILY.get(model_family, FUSION_WEIGHTS)


class LexicalQueryEncoder(Protocol):
    """What search needs from a lexical encoder (see ``planvec.text.lexical``)."""

    version: str

    def encode_query(self, text: str) -> SparseVector: ...


@dataclass(frozen=True)
class SearchFilters:
    """Filters of ``planvec search``; ``None`` means no constraint."""

    plan: str | None = None
    status: str | None = None
    section: str | None = None
    priority: str | None = None

    def __bool__(self) -> bool:
        return any((self.plan, self.status, self.section, self.priority))


def build_filter(filters: SearchFilters, known_plans: Callable[[], Iterable[str]]) -> Filter | None:
    """Translate user filters into a store ``Filter``.

    ``plan`` is a glob (``consolidated/*v5*``) matched against the plans of the index, or
    a plan path, or a folder (``phase-2`` or ``phase-2/``: every plan under it); a value
    that matches nothing still filters (and finds nothing) rather than being ignored.
    """
    must: list[Condition] = []
    if filters.plan:
        plans = matching_plans(filters.plan, known_plans())
        must.append(MatchAny("plan", tuple(plans) or ("\x00no-plan-matches",)))
    if filters.status:
        status = filters.status.strip().lower().replace("-", "_").replace(" ", "_")
        if status not in STATUSES:
            raise ConfigError(
                f"unknown status {filters.status!r}: use one of {', '.join(STATUSES)}"
            )
        must.append(MatchValue("status", status))
    if filters.section:
        must.append(MatchText("section_path", filters.section))
    if filters.priority:
        must.append(MatchValue("priority", filters.priority.strip().upper()))
    return Filter(must=tuple(must)) if must else None


def matching_plans(pattern: str, known: Iterable[str]) -> list[str]:
    """The plans of ``known`` that ``pattern`` names: a glob, a plan path or a folder."""
    if any(ch in pattern for ch in "*?["):
        return sorted(p for p in known if fnmatch.fnmatchcase(p, pattern))
    folder = pattern.strip().removeprefix("./").rstrip("/")
    if not folder:
        return sorted(known)
    found = {p for p in known if p == folder or p.startswith(folder + "/")}
    return sorted(found | {pattern})  # the exact value always counts (a stale plan list)


#: The payload keys read for each candidate: ranking, collapsing and ``also_in`` need no
#: more; the whole payload is read for the returned hits only.
CANDIDATE_FIELDS = ("plan", "line", "text", "status", "content_hash")


def _rank_key(hit: SearchHit) -> tuple[float, str, int, str]:
    """Score first, then location: equal scores come back in the same order on every build."""
    return (-round(hit.score, 6), hit.plan, hit.line, hit.id)


def side_rank_key(
    point: ScoredPoint, read: Mapping[str, PointRecord]
) -> tuple[float, str, int, str]:
    """``_rank_key`` of a candidate returned without payload: its (plan, line) come from
    the points ``read`` (a candidate whose order cannot matter is ranked by score and id)."""
    pid = str(point.id)
    rec = read.get(pid)
    if rec is None:
        return (-round(point.score, 6), "", 0, pid)
    plan, line = str(rec.payload.get("plan", "")), int(rec.payload.get("line", 0) or 0)
    return (-round(point.score, 6), plan, line, pid)


def _copy_row(point: PointRecord) -> tuple[str, str, int, str, str]:
    """(content hash, plan, line, id, status) of a copy found by ``content_hash``."""
    p = point.payload
    plan, line = str(p.get("plan", "")), int(p.get("line", 0) or 0)
    return (str(p.get("content_hash")), plan, line, str(point.id), str(p.get("status", "")))


def collapse_duplicates(hits: Sequence[SearchHit]) -> list[SearchHit]:
    """One hit per distinct task text (whitespace-insensitive), in rank order.

    The first (best ranked) hit of a text stays; the later ones become its ``also_in``
    locations. Plans copy the same task into many files: without this, one repeated text
    fills the whole first page.
    """
    order: list[str] = []
    groups: dict[str, list[SearchHit]] = {}
    for hit in hits:
        text_key = " ".join(hit.text.split())
        if text_key not in groups:
            order.append(text_key)
            groups[text_key] = []
        groups[text_key].append(hit)
    out = []
    for text_key in order:
        first, *rest = groups[text_key]
        if rest:
            first = replace(first, also_in=tuple(HitLocation.of(h) for h in rest))
        out.append(first)
    return out


def fetch_limit(limit: int, collapse: bool) -> int:
    """Candidates asked of the store for ``limit`` hits: more when duplicates collapse, and
    a few more anyway so ties at the cut are broken the same way on every build."""
    return min(max(limit * 4, limit + 40), 2000) if collapse else limit + 10


def hit_from_point(point: ScoredPoint) -> SearchHit:
    """A ``SearchHit`` from a stored point's payload."""
    p: dict[str, Any] = point.payload
    return SearchHit(
        id=str(point.id),
        score=float(point.score),
        plan=str(p.get("plan", "")),
        line=int(p.get("line", 0) or 0),
        text=str(p.get("text", "")),
        section=tuple(p.get("section") or ()),
        status=str(p.get("status", "")),
        key=p.get("key"),
        payload=p,
    )


_pool: ThreadPoolExecutor | None = None
_pool_pid = 0
_pool_lock = threading.Lock()


def query_pool() -> ThreadPoolExecutor:
    """The threads that run hybrid searches' lexical sides while their callers embed the
    queries (one pool per process: a pool inherited through ``fork`` has no threads)."""
    global _pool, _pool_pid
    with _pool_lock:
        if _pool is None or _pool_pid != os.getpid():
            _pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="planvec-query")
            _pool_pid = os.getpid()
        return _pool


def _side(
    request: SearchRequest, dense: Sequence[float] | None, sparse: SparseVector | None
) -> SearchRequest:
    """The request of one side of a hybrid search: its prefetch of candidates, ids and
    scores only (``Searcher._ranked``)."""
    return replace(
        request,
        dense=dense,
        sparse=sparse,
        limit=request.prefetch_limit,
        payload_fields=(),
        with_vectors=False,
    )


class Searcher:
    """Runs queries against one collection."""

    def __init__(
        self,
        store: VectorStore,
        collection: str,
        embedder: Embedder,
        *,
        lexical: LexicalQueryEncoder | None,
        known_plans: Callable[[], Iterable[str]],
        prefetch_limit: int = PREFETCH_LIMIT,
        weights: tuple[float, float] = FUSION_WEIGHTS,
        rrf_k: int = RRF_K,
        query_text: Callable[[str], str] | None = None,
        find_copies: bool = False,
        overlap: bool | None = None,
    ) -> None:
        """Wire a searcher.

        Args:
            store: the vector store.
            collection: the collection to search.
            embedder: embeds queries (same model as the index).
            lexical: encodes sparse queries; ``None`` for an index without sparse vectors.
            known_plans: the plan paths of the index (for ``--plan`` globs).
            prefetch_limit: candidates taken from each side before fusion.
            weights: RRF weights of the (dense, sparse) sides.
            rrf_k: the RRF constant.
            find_copies: list every copy of a collapsed text in ``also_in`` (one filtered
                scroll by ``content_hash``; only fast when that field has a payload index,
                so the index turns it on for collections built with one), else only the
                copies among the candidates.
            query_text: turns the query into the text given to the embedder (e.g. the
                glossary's English rendering); identity when ``None``.
            overlap: encode and search a hybrid query's lexical side on a worker thread
                while this one embeds the query; ``None``: when the embedder runs outside
                the GIL (``embeds_outside_gil``), where the two really run at once, and a
                core is free for the worker (``core_is_idle``).
        """
        if rrf_k < 1 or min(weights) < 0 or max(weights) <= 0:
            raise ConfigError("RRF needs k >= 1 and non-negative weights, one of them > 0")
        self.store = store
        self.collection = collection
        self.embedder = embedder
        self.lexical = lexical
        self.known_plans = known_plans
        self.prefetch_limit = prefetch_limit
        self.weights = weights
        self.rrf_k = rrf_k
        self.query_text = query_text
        self.find_copies = find_copies
        if overlap is None:
            overlap = embeds_outside_gil(embedder) and core_is_idle()
        self.overlap = overlap

    def search(
        self,
        query: str,
        *,
        limit: int = 10,
        mode: str = "hybrid",
        filters: SearchFilters | None = None,
        collapse: bool = True,
    ) -> list[SearchHit]:
        """Ranked hits for ``query``; see the module docstring for the modes.

        Hits are ordered by score, then plan, line and id (deterministic ties). With
        ``collapse``, tasks of identical text come back as one hit listing the others in
        ``also_in``.
        """
        if mode not in SEARCH_MODES:
            raise ConfigError(f"unknown search mode {mode!r}: use one of {', '.join(SEARCH_MODES)}")
        if limit < 1:
            raise ConfigError("--limit must be at least 1")
        query = query.strip()
        if not query:
            raise ConfigError("the query is empty: give some words to search for")
        if mode != "dense" and self.lexical is None:
            raise IndexMismatch(
                f"this index has no lexical vectors, so {mode} search is not possible: run "
                "`planvec index PATH` to upgrade it, or search with --mode dense"
            )
        request = SearchRequest(
            dense=None,
            sparse=None,
            filter=build_filter(filters or SearchFilters(), self.known_plans),
            limit=fetch_limit(limit, collapse),
            prefetch_limit=max(self.prefetch_limit, limit),
            rrf_k=self.rrf_k,
            weights=self.weights,
            payload_fields=CANDIDATE_FIELDS,
        )
        lexical: Future[tuple[SparseVector | None, list[ScoredPoint]]] | None = None
        if mode == "hybrid" and self.overlap:
            lexical = query_pool().submit(self._lexical_side, query, request)
        dense = self._query_vector(query) if mode != "sparse" else None
        side: list[ScoredPoint] | None = None
        if lexical is not None:
            sparse, side = lexical.result()
        else:
            sparse = self._sparse_vector(query) if mode != "dense" else None
        if mode == "sparse" and sparse is None:
            return []
        request = replace(request, dense=dense, sparse=sparse)
        points = self._ranked(request, side)
        hits = sorted(map(hit_from_point, points), key=_rank_key)
        if not collapse:
            page = hits[:limit]
        else:
            page = collapse_duplicates(hits)[:limit]
            if self.find_copies:
                page = self._every_copy(page, request.filter, hits)
        point_ids = {str(p.id): p.id for p in points}  # legacy ids are ints
        return self._whole(page, [point_ids[hit.id] for hit in page])

    def _sparse_vector(self, query: str) -> SparseVector | None:
        """The lexical query vector, ``None`` when no word of the query is indexed."""
        assert self.lexical is not None  # search() refuses other modes without it
        sparse = self.lexical.encode_query(query)
        return sparse if sparse.indices else None

    def _lexical_side(
        self, query: str, request: SearchRequest
    ) -> tuple[SparseVector | None, list[ScoredPoint]]:
        """The lexical query vector and its side's candidates (``_ranked``), run on a
        worker thread while the caller's thread embeds the query.

        The model and Edge's query release the GIL, so both really run at once; the
        shorter, GIL-bound work goes to the worker, which is done by the time the model's
        thread wants the GIL back (the other way round, the model started ~2 ms late,
        waiting for the GIL). Reading the lexical candidates' payloads here too cost more
        than the model's shadow holds (100 whole payloads ~4.7 ms; docs/store.md).
        """
        sparse = self._sparse_vector(query)
        if sparse is None:
            return None, []
        return sparse, self.store.search(self.collection, _side(request, None, sparse))

    def _query_vector(self, query: str) -> list[float]:
        """The dense query vector (the embedder's query side, on the rendered text)."""
        text = self.query_text(query) if self.query_text else query
        # without the overlap nothing runs beside the model: it may use every core
        vectors = embed_queries(self.embedder, [text or query], alone=not self.overlap)
        return vectors[0].tolist()  # type: ignore[no-any-return]

    def _whole(self, hits: list[SearchHit], ids: list[PointId]) -> list[SearchHit]:
        """``hits`` (of point ``ids``) with their whole payloads (candidates carry
        ``CANDIDATE_FIELDS`` only); a point deleted since it was found is dropped."""
        read = self._read(ids, None)
        return [
            replace(
                hit_from_point(ScoredPoint(hit.id, hit.score, rec.payload)), also_in=hit.also_in
            )
            for hit in hits
            if (rec := read.get(hit.id)) is not None
        ]

    def _every_copy(
        self, hits: list[SearchHit], flt: Filter | None, candidates: list[SearchHit]
    ) -> list[SearchHit]:
        """``hits`` whose ``also_in`` lists every copy of their text in the index (that the
        filters allow), not only the copies that were among the candidates.

        Copies are found by the ``content_hash`` of the text (one filtered count, and one
        filtered scroll for the whole page when the count shows copies that were not
        ``candidates``); a copy that was a candidate keeps its score, the others have none.
        """
        hashes = {str(h.payload["content_hash"]) for h in hits if h.payload.get("content_hash")}
        if not hashes:
            return hits
        match = MatchAny("content_hash", tuple(sorted(hashes)))
        where = Filter(
            must=(*(flt.must if flt else ()), match), must_not=flt.must_not if flt else ()
        )
        known = [h for h in candidates if str(h.payload.get("content_hash")) in hashes]
        if self.store.count(self.collection, where) == len(known):  # no copy beyond them
            rows = [(str(h.payload["content_hash"]), h.plan, h.line, h.id, h.status) for h in known]
        else:
            fields = ("plan", "line", "status", "content_hash")
            scrolled = self.store.scroll(
                self.collection, filter=where, with_payload=fields, batch_size=256
            )
            rows = [_copy_row(point) for point in scrolled]
        copies: dict[str, list[tuple[str, int, str, str]]] = {}
        for content, plan, line, pid, status in rows:
            copies.setdefault(content, []).append((plan, line, pid, status))
        out = []
        for hit in hits:
            found = copies.get(str(hit.payload.get("content_hash")), [])
            scores = {loc.id: loc.score for loc in hit.also_in}
            also = tuple(
                HitLocation(plan, line, pid, status, scores.get(pid))
                for plan, line, pid, status in sorted(found)
                if pid != hit.id
            )
            out.append(replace(hit, also_in=also) if len(also) >= len(hit.also_in) else hit)
        return out

    def _ranked(
        self, request: SearchRequest, lexical: list[ScoredPoint] | None = None
    ) -> list[ScoredPoint]:
        """The store's hits; hybrid queries are fused here, with ties broken by location.

        Fusing in the store would rank tied candidates of each side in storage order,
        which differs between two builds of the same plans: their RRF scores, and so the
        results, would too. Each side is asked alone, its ties ordered by (plan, line,
        id), and the two lists fused with the same formula as Qdrant (``rrf_fuse``).

        The sides come back without payloads (reading a payload is most of a store query's
        cost): one read before fusion, with ``request.payload_fields`` only, takes the
        tied candidates whose order can change the fused hits, for their (plan, line),
        and every candidate that could be among the fused hits (``rrf_reads``).
        ``lexical``: the lexical side's candidates when they were searched already
        (``_lexical_side``).
        """
        if request.dense is None or request.sparse is None:
            return self.store.search(self.collection, request)
        if lexical is None:
            lexical = self.store.search(self.collection, _side(request, None, request.sparse))
        sides = [self.store.search(self.collection, _side(request, request.dense, None)), lexical]
        fusion = (request.rrf_k, request.weights, request.limit)
        read = self._read(rrf_reads(sides, *fusion), request.payload_fields)
        ordered = [sorted(side, key=lambda p: side_rank_key(p, read)) for side in sides]
        fused = rrf_fuse(ordered, *fusion)
        unread = [hit.id for hit in fused if str(hit.id) not in read]  # none, unless deleted
        read.update(self._read(unread, request.payload_fields))
        return [
            ScoredPoint(hit.id, hit.score, rec.payload)
            for hit in fused
            if (rec := read.get(str(hit.id))) is not None  # deleted since the side searches
        ]

    def _read(
        self, ids: Sequence[PointId], fields: tuple[str, ...] | None
    ) -> dict[str, PointRecord]:
        """``{id: point}`` for the existing points among ``ids``, with the payload keys
        ``fields`` (``None``: whole payloads)."""
        if not ids:
            return {}
        found = self.store.retrieve(self.collection, ids, payload_fields=fields)
        return {str(rec.id): rec for rec in found}
