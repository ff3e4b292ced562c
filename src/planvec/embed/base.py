"""The ``Embedder`` seam: text in, L2-normalised float32 vectors out.

Only modules under ``planvec.embed`` import torch or onnxruntime.

Contract:

* ``model_id`` names the model *and* the numeric variant that produced the vectors (two
  embedders with the same ``model_id`` give the same vectors up to float noise); it keys the
  embedding cache together with the text's content hash.
* ``family`` names the model alone (``all-MiniLM-L6-v2``): vectors of two variants of one
  family are comparable, so an index built by one can be searched by the other.
* ``embed(texts)`` returns an array of shape ``(len(texts), dimension)``, dtype float32, each
  row of unit norm; the order of rows is the order of ``texts``; ``embed([])`` is empty.
* Errors are ``planvec.errors.EmbedError``.

Optional capability ``QueryEmbedder`` (asymmetric models such as multilingual-e5, which
was trained with ``query:`` and ``passage:`` prefixes; the ONNX embedder, which gives the
same vectors from a one-thread session sized for a single query): ``embed`` is always the *document*
side, what indexing, the embedding cache and ``check`` use; ``embed_queries(texts)`` embeds
search queries, with the same shape and norm contract, into the same space. Search calls
``embed_queries`` (through the helper of that name) when the embedder has it, else
``embed``. Query vectors are never written to the embedding cache: its keys are document
keys, and a query vector stored under a document's hash would be served as that document.
An embedder may also offer ``embed_queries_alone(texts)``, the same query vectors computed on
every core, for a search that runs nothing beside the model (``embed_queries(...,
alone=True)`` uses it when present).

Optional capability ``AsideEmbedder`` (the ONNX embedder): ``embed_aside(texts)`` gives the
vectors of ``embed`` (within float noise) computed on one core, and ``load_aside()`` loads what
it needs ahead. A small incremental sync embeds its few changed tasks this way while its parse
thread works on the other core (``planvec.sync``), instead of after it on every core.
``embed_aside`` is a document side: its vectors are cached like those of ``embed``.

Optional attribute ``releases_gil`` (``True`` on the ONNX embedder): embedding a query runs
in native code that releases Python's GIL, so hybrid search runs its lexical side on a
worker thread while this thread embeds the query (``embeds_outside_gil``). Absent means
``False``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

Vectors = npt.NDArray[np.float32]


@runtime_checkable
class Embedder(Protocol):
    """Turns texts into unit vectors. See the module docstring for the contract."""

    model_id: str
    family: str
    dimension: int

    def embed(self, texts: Sequence[str]) -> Vectors:
        """Embed a batch of texts."""


@runtime_checkable
class HashedEmbedder(Embedder, Protocol):
    """Optional capability: embed texts keyed by content hash (``CachedEmbedder`` has it)."""

    def embed_hashed(self, items: Sequence[tuple[str, str]]) -> tuple[Vectors, int]:
        """Embed ``(content_hash, text)`` pairs, reusing cached vectors.

        Returns the vectors in order and how many texts were actually embedded.
        """


@runtime_checkable
class StagedEmbedder(HashedEmbedder, Protocol):
    """Optional capability: the cached path of ``embed_hashed`` split into its three steps.

    A pipeline (``planvec.sync``) looks vectors up and computes the misses on the encoding
    thread, and leaves the cache write to a background thread: ``compute`` holds the fresh
    vectors in memory until ``remember`` has stored them, so a lookup made in between still
    finds them (a text is never embedded twice in one run because its write was pending).
    """

    def lookup(self, keys: Sequence[str]) -> dict[str, Vectors]:
        """The vectors already known (cached or computed, not yet remembered) among ``keys``."""

    def compute(self, items: Sequence[tuple[str, str]], aside: bool = False) -> Vectors:
        """Embed ``(content_hash, text)`` pairs (distinct hashes) and hold their vectors;
        ``aside``: on one core (``embed_aside``)."""

    def remember(self, keys: Sequence[str], vectors: Vectors) -> None:
        """Store computed vectors in the cache and stop holding them."""


@runtime_checkable
class QueryEmbedder(Embedder, Protocol):
    """Optional capability: embed search queries differently from documents (see above)."""

    def embed_queries(self, texts: Sequence[str]) -> Vectors:
        """Embed a batch of search queries (same contract as ``embed``)."""


@runtime_checkable
class AsideEmbedder(Embedder, Protocol):
    """Optional capability: embed documents on one core (see the module docstring)."""

    def embed_aside(self, texts: Sequence[str]) -> Vectors:
        """The vectors of ``embed(texts)``, computed on one core."""

    def load_aside(self) -> None:
        """Load what ``embed_aside`` needs now instead of on its first call."""


def embed_aside(embedder: Embedder, texts: Sequence[str]) -> Vectors:
    """``embedder.embed_aside`` when it has one, else ``embed``."""
    if isinstance(embedder, AsideEmbedder):
        return embedder.embed_aside(texts)
    return embedder.embed(texts)


def embed_queries(embedder: Embedder, texts: Sequence[str], *, alone: bool = False) -> Vectors:
    """Embed search queries: ``embedder.embed_queries`` when it has one, else ``embed``.

    ``alone``: nothing else runs meanwhile (search did not put its lexical side on another
    core), so an embedder with ``embed_queries_alone`` (the ONNX one: every core) uses it.

    Returns:
        The ``(len(texts), dimension)`` unit vectors, in order.
    """
    whole = getattr(embedder, "embed_queries_alone", None) if alone else None
    if whole is not None:
        return whole(texts)  # type: ignore[no-any-return]
    if isinstance(embedder, QueryEmbedder):
        return embedder.embed_queries(texts)
    return embedder.embed(texts)


def embeds_outside_gil(embedder: Embedder) -> bool:
    """Whether ``embedder`` declares that its work runs outside the GIL (``releases_gil``):
    another thread can then do useful Python work while it embeds."""
    return bool(getattr(embedder, "releases_gil", False))


def embed_keyed(embedder: Embedder, items: Sequence[tuple[str, str]]) -> tuple[Vectors, int]:
    """Embed ``(content_hash, text)`` pairs: through the cache when ``embedder`` has one.

    Returns:
        The vectors in order, and how many texts were computed (not found in a cache).
    """
    if isinstance(embedder, HashedEmbedder):
        vectors, computed = embedder.embed_hashed(items)
        return vectors, int(computed)
    return embedder.embed([text for _, text in items]), len(items)
