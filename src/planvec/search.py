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
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from planvec.embed.base import Embedder
from planvec.errors import ConfigError, IndexMismatch
from planvec.records import SearchHit
from planvec.store.base import (
    Condition,
    Filter,
    MatchAny,
    MatchText,
    MatchValue,
    ScoredPoint,
    SearchRequest,
    SparseVector,
    VectorStore,
)

SEARCH_MODES = ("hybrid", "dense", "sparse")

#: Hybrid fusion defaults, tuned on the dev split of bench/queries/dev.jsonl with
#: bench/search_lab.py and confirmed on its test split (docs/benchmarks.md, "Search quality
#: (hybrid, FR/EN)"). Weighted RRF as Qdrant computes it, ``1 / ((rank0 + 1) / w + k - 1)``:
#: a small k lets each side's top hits dominate (k = 60 buried exact matches under weak
#: candidates), and the lexical side counts double because its hits are exact.
RRF_K = 5
FUSION_WEIGHTS = (1.0, 2.0)  # (dense, sparse)
PREFETCH_LIMIT = 100
STATUSES = ("todo", "done", "in_progress", "cancelled")


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

    ``plan`` is a glob (``consolidated/*v5*``) matched against the plans of the index; a
    glob that matches nothing still filters (and finds nothing) rather than being ignored.
    """
    must: list[Condition] = []
    if filters.plan:
        if any(ch in filters.plan for ch in "*?["):
            plans = sorted(p for p in known_plans() if fnmatch.fnmatchcase(p, filters.plan))
            must.append(MatchAny("plan", tuple(plans) or ("\x00no-plan-matches",)))
        else:
            must.append(MatchValue("plan", filters.plan))
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
            query_text: turns the query into the text given to the embedder (e.g. the
                glossary's English rendering); identity when ``None``.
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

    def search(
        self,
        query: str,
        *,
        limit: int = 10,
        mode: str = "hybrid",
        filters: SearchFilters | None = None,
    ) -> list[SearchHit]:
        """Ranked hits for ``query``; see the module docstring for the modes."""
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
        dense: Sequence[float] | None = None
        sparse: SparseVector | None = None
        if mode in ("dense", "hybrid"):
            text = self.query_text(query) if self.query_text else query
            dense = self.embedder.embed([text or query])[0].tolist()
        if mode in ("sparse", "hybrid") and self.lexical is not None:
            sparse = self.lexical.encode_query(query)
            if not sparse.indices:
                if mode == "sparse":
                    return []
                sparse = None
        request = SearchRequest(
            dense=dense,
            sparse=sparse,
            filter=build_filter(filters or SearchFilters(), self.known_plans),
            limit=limit,
            prefetch_limit=max(self.prefetch_limit, limit),
            rrf_k=self.rrf_k,
            weights=self.weights,
        )
        return [hit_from_point(p) for p in self.store.search(self.collection, request)]
