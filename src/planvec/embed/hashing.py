"""A deterministic hashing embedder: no model, no torch, same vectors on every machine.

Used by the fast tests and by ``--offline`` runs. It hashes word unigrams and character
trigrams into a fixed number of signed buckets, then L2-normalises: texts sharing words
are close, unrelated texts are nearly orthogonal. It is *not* a semantic model.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence

import numpy as np

from planvec.embed.base import Vectors
from planvec.embed.model_files import HASHING_FAMILY

_WORD = re.compile(r"\w+", re.UNICODE)


#: The manifest ``model`` of indexes built with this embedder (no model files needed).


class HashingEmbedder:
    """Deterministic feature-hashing embedder (see module docstring)."""

    family = HASHING_FAMILY

    def __init__(self, dimension: int = 384) -> None:
        if dimension < 8:
            raise ValueError("dimension must be at least 8")
        self.dimension = dimension
        self.model_id = f"planvec-hashing-{dimension}"

    def _features(self, text: str) -> list[str]:
        words = [w.lower() for w in _WORD.findall(text)]
        grams = [f"#{w[i : i + 3]}" for w in words for i in range(max(1, len(w) - 2))]
        return words + grams

    def embed(self, texts: Sequence[str]) -> Vectors:
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for row, text in enumerate(texts):
            for feature in self._features(text):
                digest = hashlib.blake2b(feature.encode("utf-8"), digest_size=8).digest()
                value = int.from_bytes(digest, "little")
                bucket = value % self.dimension
                sign = 1.0 if (value >> 63) & 1 else -1.0
                out[row, bucket] += sign
            norm = float(np.linalg.norm(out[row]))
            if norm == 0.0:
                out[row, 0] = 1.0
            else:
                out[row] /= norm
        return out
