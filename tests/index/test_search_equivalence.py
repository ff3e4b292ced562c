"""Search reads as few payloads as it can (sides without payloads, ties read only where
they can change the top, whole payloads for the returned page, no copies scroll when a
count shows none beyond the candidates): its results must be exactly those of the plain
algorithm, which reads every payload. Checked here on the real stores (Qdrant Edge and
qdrant-client's memory engine) over an index full of copied tasks, hence of tied scores,
with a small prefetch so that the cuts (per side and after fusion) fall inside tie groups.
Hybrid queries are compared both ways: the sides searched one after the other, and the
lexical side searched on a worker thread while the query is embedded (``overlap``, what
search does with the ONNX embedder).
"""

from __future__ import annotations

import random
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from planvec.embedding_recipe import query_embedding_text
from planvec.index import Index, sources_for
from planvec.records import HitLocation, SearchHit
from planvec.search import (
    Searcher,
    SearchFilters,
    _rank_key,
    build_filter,
    collapse_duplicates,
    fetch_limit,
    hit_from_point,
)
from planvec.store.base import Filter, ScoredPoint, SearchRequest
from planvec.store.common import rrf_fuse

WORDS = [
    "sauvegarde",
    "base",
    "données",
    "api",
    "documentation",
    "tests",
    "charge",
    "déploiement",
    "index",
]
PREFETCH = 9


def _plans(root: Path) -> None:
    """Three copies of one plan (same texts, same sections: tied scores on both sides), a
    plan repeating its own tasks under other sections, and a plan of unique tasks."""
    rng = random.Random(7)
    tasks = [" ".join(rng.sample(WORDS, 3)) for _ in range(8)]
    body = "".join(f"- [{'x' if i % 3 == 0 else ' '}] {t}\n" for i, t in enumerate(tasks))
    for name in ("a.md", "b.md", "sub/c.md"):
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(f"# Plan\n\n## Phase 1\n\n{body}", encoding="utf-8")
    mixed = "".join(f"## Part {i}\n\n- [ ] {tasks[i % 4]}\n\n" for i in range(6))
    (root / "mixed.md").write_text(f"# Mixed\n\n{mixed}", encoding="utf-8")
    unique = "".join(f"- [ ] {' '.join(rng.sample(WORDS, 2))} {i}\n" for i in range(8))
    (root / "unique.md").write_text(f"# Unique\n\n{unique}", encoding="utf-8")


@pytest.fixture
def copied_index(tmp_path: Path, make_index: Callable[..., Index]) -> Index:
    root = tmp_path / "plans"
    root.mkdir()
    _plans(root)
    index = make_index()
    assert index.sync(sources_for([root])).tasks == 8 * 3 + 6 + 8
    return index


def _reference(index: Index, query: str, *, limit: int, mode: str, collapse: bool,
               status: str | None, find_copies: bool) -> list[SearchHit]:  # fmt: skip
    """The plain algorithm: every candidate read whole, ties ordered on full payloads,
    every copy found by reading every point the filters allow."""
    store, name = index.admin, index.collection
    flt = build_filter(SearchFilters(status=status), index.known_plans)
    dense = index.embedder.embed([query_embedding_text(query) or query])[0].tolist()
    sparse = index.lexical.encode_query(query) if index.lexical else None
    n = fetch_limit(limit, collapse)
    prefetch = max(PREFETCH, limit)

    def side(d: Any, s: Any, size: int) -> list[ScoredPoint]:
        found = store.search(name, SearchRequest(dense=d, sparse=s, filter=flt, limit=size))
        return sorted(found, key=lambda p: _rank_key(hit_from_point(p)))

    if mode == "dense":
        points = side(dense, None, n)
    elif mode == "sparse":
        points = side(None, sparse, n)
    else:
        sides = [side(dense, None, prefetch), side(None, sparse, prefetch)]
        points = rrf_fuse(sides, 5, (1.0, 2.0), n)
    hits = sorted(map(hit_from_point, points), key=_rank_key)
    if not collapse:
        return hits[:limit]
    page = collapse_duplicates(hits)[:limit]
    if not find_copies:
        return page
    every = list(store.scroll(name, filter=flt or Filter()))
    out = []
    for hit in page:
        scores = {loc.id: loc.score for loc in hit.also_in}
        copies = sorted(
            (str(p.payload["plan"]), int(p.payload["line"]), str(p.id), str(p.payload["status"]))
            for p in every
            if p.payload["content_hash"] == hit.payload["content_hash"] and str(p.id) != hit.id
        )
        also = tuple(HitLocation(pl, ln, pid, st, scores.get(pid)) for pl, ln, pid, st in copies)
        out.append(SearchHit(**{**hit.__dict__, "also_in": also}))
    return out


def _dicts(hits: list[SearchHit]) -> list[dict[str, Any]]:
    return [{**h.to_dict(), "payload": dict(h.payload)} for h in hits]


class _CountingStore:
    """The real store, counting the calls made to it by name, and noting their threads."""

    def __init__(self, store: object) -> None:
        self._store = store
        self.calls: dict[str, int] = {}
        self.threads: set[str] = set()

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._store, name)
        if not callable(attr):
            return attr

        def call(*args: Any, **kwargs: Any) -> Any:
            self.calls[name] = self.calls.get(name, 0) + 1
            self.threads.add(threading.current_thread().name)
            return attr(*args, **kwargs)

        return call


OPTIONS = {  # (limit, collapse, status) per mode; hybrid is where the reads were cut
    "hybrid": ((1, True, None), (3, True, None), (3, True, "todo"), (2, False, None),
               (4, False, "todo")),
    "dense": ((3, True, None), (2, False, "todo")),
    "sparse": ((3, True, "todo"), (2, False, None)),
}  # fmt: skip


def _searcher(index: Index, store: object, find_copies: bool, overlap: bool) -> Searcher:
    return Searcher(
        store,  # type: ignore[arg-type]
        index.collection,
        index.embedder,
        lexical=index.lexical,
        known_plans=index.known_plans,
        prefetch_limit=PREFETCH,
        query_text=query_embedding_text,
        find_copies=find_copies,
        overlap=overlap,
    )


def test_results_equal_the_plain_algorithm(copied_index: Index) -> None:
    for find_copies, overlap in ((True, False), (False, False), (True, True)):
        store = _CountingStore(copied_index.admin)
        searcher = _searcher(copied_index, store, find_copies, overlap)
        compared = copied = beyond = 0
        for query in ("sauvegarde base", "api documentation tests", "charge index"):
            for mode, option_sets in OPTIONS.items():
                for limit, collapse, status in option_sets:
                    got = searcher.search(
                        query,
                        limit=limit,
                        mode=mode,
                        collapse=collapse,
                        filters=SearchFilters(status=status),
                    )
                    want = _reference(
                        copied_index,
                        query,
                        limit=limit,
                        mode=mode,
                        collapse=collapse,
                        status=status,
                        find_copies=find_copies,
                    )
                    case = (query, mode, limit, collapse, status, find_copies)
                    assert _dicts(got) == _dicts(want), case
                    compared += 1
                    copied += sum(len(h.also_in) for h in got)
                    beyond += sum(loc.score is None for h in got for loc in h.also_in)
        assert compared == 27 and copied > 0  # copies were exercised, not only unique hits
        if find_copies:  # copies beyond the candidates (a scroll), and none (a count sufficed)
            assert beyond > 0 and 0 < store.calls["scroll"] < store.calls["count"]
        # hybrid lexical sides were searched on the query pool's threads, the rest here
        pooled = {name for name in store.threads if name.startswith("planvec-query")}
        assert bool(pooled) == overlap and threading.current_thread().name in store.threads
