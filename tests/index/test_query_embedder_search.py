"""Search embeds the query with the model's query side (``QueryEmbedder``), indexing with
its document side; the embedding cache only ever holds document vectors."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from planvec.embed.base import Vectors
from planvec.embed.hashing import HashingEmbedder
from planvec.index import Index, sources_for

TARGET = "Write the API documentation"


class QueryToTarget:
    """Documents: hashing vectors; every query: the vector of ``TARGET``'s text.

    So the dense side ranks ``TARGET`` first if, and only if, search used the query side.
    """

    family = "fake-query-side"
    model_id = "fake-query-side-1"
    dimension = 384

    def __init__(self) -> None:
        self._hashing = HashingEmbedder(self.dimension)
        self.queries: list[str] = []

    def embed(self, texts: Sequence[str]) -> Vectors:
        return self._hashing.embed(texts)

    def embed_queries(self, texts: Sequence[str]) -> Vectors:
        self.queries.extend(texts)
        return self._hashing.embed([TARGET for _ in texts])


def test_search_embeds_the_query_with_the_query_side(
    make_index: Callable[..., Index], plan_tree: Path
) -> None:
    fake = QueryToTarget()
    index = make_index(fake)  # behind the embedding cache, as `planvec index` runs
    index.sync(sources_for([plan_tree]))
    cache = index.embedder.cache  # type: ignore[attr-defined]
    stored = cache.count()
    hits = index.search("sauvegarde de la base", limit=3, mode="dense")
    assert hits[0].key == "2.1" and hits[0].text.endswith(TARGET)
    assert len(fake.queries) == 1 and "sauvegarde" not in TARGET
    assert cache.count() == stored  # the query vector was not cached


def test_a_symmetric_model_searches_as_before(
    make_index: Callable[..., Index], plan_tree: Path
) -> None:
    index = make_index(HashingEmbedder())
    index.sync(sources_for([plan_tree]))
    hits = index.search("sauvegarde de la base", limit=3, mode="dense")
    assert hits[0].key != "2.1" and "sauvegarde" in hits[0].text
