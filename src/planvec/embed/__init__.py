"""Embedding layer: text in, unit vectors out (torch, ONNX Runtime or hashing), cached.

Heavy backends (torch, onnxruntime, tokenizers) are imported lazily by their modules;
importing this package costs only numpy and sqlite3.
"""

from planvec.embed.base import Embedder, Vectors
from planvec.embed.cache import CachedEmbedder, EmbeddingCache, default_cache_path
from planvec.embed.factory import EMBEDDER_NAMES, make_cached_embedder, make_embedder
from planvec.embed.hashing import HashingEmbedder
from planvec.embed.model_files import MODEL_DIMENSION, MODEL_FAMILY

__all__ = [
    "EMBEDDER_NAMES",
    "MODEL_DIMENSION",
    "MODEL_FAMILY",
    "CachedEmbedder",
    "Embedder",
    "EmbeddingCache",
    "HashingEmbedder",
    "Vectors",
    "default_cache_path",
    "make_cached_embedder",
    "make_embedder",
]
