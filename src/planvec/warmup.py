"""Load the embedding model on a spare core while a sync reads the store and its plans.

An incremental run pays the model's start-up (ONNX session ~0.2-0.4 s, tokenizer, the
glossary's stem tables ~0.1 s) on the first batch it embeds, after the store was loaded and
every changed plan parsed and diffed: on the critical path. A run that got past the no-op
short-cut (``planvec.noop``) nearly always embeds something, so ``Index.sync`` starts this
load in a thread first; ONNX Runtime builds its session outside the GIL, on the other core.

The model's own lock (``OnnxEmbedder.load``) makes the first ``embed`` wait for a load in
progress instead of starting a second one. A failure here is not reported: the first
``embed`` loads again and raises it where it belongs. A run that embeds nothing joins the
thread before it returns, so no native code is left running at interpreter exit.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)


def _loader(embedder: Any) -> Callable[[], None] | None:
    """The embedder's ``load`` (through a cache wrapper), or ``None`` when it has none."""
    inner = getattr(embedder, "inner", embedder)
    load = getattr(inner, "load", None)
    path = getattr(inner, "path", None)
    if isinstance(path, Path) and not path.is_file():
        return None  # a first use exports the model: announced on the caller's thread
    return load if callable(load) else None


def start_warm_up(embedder: Any) -> Callable[[], None]:
    """Start loading ``embedder``'s model (and the glossary) in a thread.

    Returns:
        A function that waits for the load to finish (a no-op when nothing was started).
    """
    load = _loader(embedder)
    if load is None:
        return lambda: None

    def run() -> None:
        try:
            from planvec.embedding_recipe import embedding_text_of

            embedding_text_of("préparer")  # builds the glossary's stem tables
            load()
        except Exception as exc:  # reported by the first embed, on the caller's thread
            log.debug("model warm-up failed (the first embed retries): %s", exc)

    thread = threading.Thread(target=run, name="planvec-warm-up", daemon=True)
    thread.start()
    return thread.join
