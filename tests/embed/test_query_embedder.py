"""The optional ``QueryEmbedder`` capability: queries and documents embedded apart.

An asymmetric model (multilingual-e5: ``query:`` vs ``passage:``) embeds a search query
differently from a document of the same text. These tests use a fake built on the shipped
hashing embedder (no model): its query side is the hashing vector of a *marked* text, so
which side produced a vector is visible in the numbers.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from planvec.embed.base import Embedder, QueryEmbedder, Vectors, embed_queries
from planvec.embed.cache import CachedEmbedder, EmbeddingCache
from planvec.embed.hashing import HashingEmbedder


class AsymmetricFake:
    """Documents: the hashing vector of the text; queries: that of ``"query " + text``."""

    family = "fake-asymmetric"
    model_id = "fake-asymmetric-1"
    dimension = 64

    def __init__(self) -> None:
        self._hashing = HashingEmbedder(self.dimension)
        self.documents: list[str] = []
        self.queries: list[str] = []

    def embed(self, texts: Sequence[str]) -> Vectors:
        self.documents.extend(texts)
        return self._hashing.embed(texts)

    def embed_queries(self, texts: Sequence[str]) -> Vectors:
        self.queries.extend(texts)
        return self._hashing.embed([f"query {t}" for t in texts])


def test_embed_queries_uses_the_query_side_when_there_is_one() -> None:
    fake = AsymmetricFake()
    assert isinstance(fake, QueryEmbedder)
    hashing = HashingEmbedder(64)
    assert isinstance(hashing, Embedder) and not isinstance(hashing, QueryEmbedder)
    np.testing.assert_array_equal(embed_queries(fake, ["backup"]), hashing.embed(["query backup"]))
    np.testing.assert_array_equal(embed_queries(hashing, ["backup"]), hashing.embed(["backup"]))
    assert fake.queries == ["backup"] and fake.documents == []


def test_the_cache_never_holds_a_query_vector(tmp_path: Path) -> None:
    """A query vector stored under the text's hash would be served as a document later."""
    fake = AsymmetricFake()
    with EmbeddingCache(tmp_path / "embeddings.sqlite") as cache:
        cached = CachedEmbedder(fake, cache)
        as_query = embed_queries(cached, ["rotate the backups"])
        assert cache.count() == 0 and fake.queries == ["rotate the backups"]
        as_document = cached.embed(["rotate the backups"])
        assert cache.count() == 1
        assert float(as_query[0] @ as_document[0]) < 0.99  # two different vectors
        np.testing.assert_array_equal(as_document, fake._hashing.embed(["rotate the backups"]))
        again = embed_queries(cached, ["rotate the backups"])  # still the query side
        np.testing.assert_array_equal(again, as_query)
        assert fake.documents == ["rotate the backups"]  # embedded once, then cached


def test_a_symmetric_model_behind_the_cache_is_unchanged(tmp_path: Path) -> None:
    with EmbeddingCache(tmp_path / "embeddings.sqlite") as cache:
        cached = CachedEmbedder(HashingEmbedder(64), cache)
        np.testing.assert_array_equal(
            embed_queries(cached, ["a query"]), HashingEmbedder(64).embed(["a query"])
        )
        assert cache.count() == 1  # as before: a symmetric query is a document like any other


class TwoSessionsFake(AsymmetricFake):
    """A query side on one core and one on every core (as ``OnnxEmbedder``): which one ran
    is recorded."""

    def __init__(self) -> None:
        super().__init__()
        self.sides: list[str] = []

    def embed_queries(self, texts: Sequence[str]) -> Vectors:
        self.sides.append("one core")
        return super().embed_queries(texts)

    def embed_queries_alone(self, texts: Sequence[str]) -> Vectors:
        self.sides.append("every core")
        return super().embed_queries(texts)


def test_a_query_embedded_alone_may_use_every_core_through_the_cache(tmp_path: Path) -> None:
    fake = TwoSessionsFake()
    cached = CachedEmbedder(fake, EmbeddingCache(tmp_path / "c.sqlite"))
    for embedder in (fake, cached):
        alone = embed_queries(embedder, ["backup"], alone=True)
        beside = embed_queries(embedder, ["backup"])
        np.testing.assert_array_equal(alone, beside)
    assert fake.sides == ["every core", "one core"] * 2
    plain = AsymmetricFake()  # no such side: the query side, as before
    embed_queries(CachedEmbedder(plain, EmbeddingCache(tmp_path / "d.sqlite")), ["x"], alone=True)
    assert plain.queries == ["x"] and plain.documents == []
