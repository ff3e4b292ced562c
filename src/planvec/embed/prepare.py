"""One-time work of an embedder, done ahead of time: ``planvec model prepare``.

The ONNX backend exports its model from the bundled weights through torch on first use
(~12-15 s here). ``make demo`` runs this first (and so can an install script), so that a first
``planvec index`` never pays it silently; when it does happen inside a run, the ONNX
backend announces it on stderr (a warning naming this command).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class PreparedModel:
    """What ``prepare_model`` did."""

    embedder: str
    model_id: str
    path: str | None
    exported: bool
    seconds: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "embedder": self.embedder,
            "model_id": self.model_id,
            "path": self.path,
            "exported": self.exported,
            "seconds": round(self.seconds, 2),
        }


def _stamp(path: Path | None) -> int | None:
    try:
        return path.stat().st_mtime_ns if path is not None else None
    except OSError:
        return None


def prepare_model(name: str, cache_dir: Path) -> PreparedModel:
    """Load the embedder called ``name`` once (exporting the ONNX model when missing).

    Args:
        name: an embedder name (``planvec.embed.factory.make_embedder``).
        cache_dir: planvec's cache directory (the exported model goes under ``onnx/``).

    Returns:
        Which model is ready, where, and whether it was exported by this call.

    Raises:
        ModelNotAvailable: the backend's packages or the model are missing.
        EmbedError: the export or the check of its vectors failed.
    """
    from planvec.embed.factory import make_embedder

    started = time.perf_counter()
    embedder = make_embedder(name, cache_dir)
    path = getattr(embedder, "path", None)
    before = _stamp(path)
    embedder.embed(["Mettre en place la sauvegarde de la base de données"])
    after = _stamp(path)
    return PreparedModel(
        embedder=name,
        model_id=embedder.model_id,
        path=str(path) if path is not None else None,
        exported=after is not None and after != before,
        seconds=time.perf_counter() - started,
    )
