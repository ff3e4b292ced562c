"""Load the embedding model on a spare core while a sync reads the store and its plans.

An incremental run pays the model's start-up (ONNX session ~0.2-0.4 s, tokenizer, the
glossary's stem tables: 3 ms from the shipped file, ~0.1 s to build) on the first batch it
embeds, after the store was loaded and every changed plan parsed and diffed: on the
critical path. ``Index.sync`` starts this load
in a thread as soon as the diff of a plan finds a task to embed (``Syncer``'s
``before_embed``), so it overlaps the parsing and diffing of the other plans; ONNX Runtime
builds its session mostly outside the GIL, on the other core. A run with nothing to embed
(a touched file, a status flip) loads no model. An incremental run (trusted fingerprints)
loads the one-thread session its small batches use (``embed_aside``), not the main one.

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


def _loader(embedder: Any, aside: bool) -> Callable[[], None] | None:
    """The embedder's ``load`` (``load_aside`` with ``aside``, when it has one; through a
    cache wrapper), or ``None`` when it has none."""
    inner = getattr(embedder, "inner", embedder)
    path = getattr(inner, "path", None)
    if isinstance(path, Path) and not path.is_file():
        return None  # a first use exports the model: announced on the caller's thread
    load = getattr(inner, "load_aside", None) if aside else None
    load = load if callable(load) else getattr(inner, "load", None)
    return load if callable(load) else None


class WarmUp:
    """Loads ``embedder``'s model (and the glossary) in a thread, once ``start`` is called."""

    def __init__(self, embedder: Any) -> None:
        self._embedder = embedder
        self._thread: threading.Thread | None = None

    def start(self, aside: bool = False) -> None:
        """Begin loading (idempotent; nothing for an embedder without a load step);
        ``aside``: what ``embed_aside`` needs (``planvec.embed.base``), for a small sync."""
        if self._thread is not None:
            return
        load = _loader(self._embedder, aside)
        if load is None:
            return

        def run() -> None:
            try:
                from planvec.embedding_recipe import embedding_text_of

                embedding_text_of("préparer")  # loads (or builds) the glossary's stem tables
                load()
            except Exception as exc:  # reported by the first embed, on the caller's thread
                log.debug("model warm-up failed (the first embed retries): %s", exc)

        self._thread = threading.Thread(target=run, name="planvec-warm-up", daemon=True)
        self._thread.start()

    def ready(self) -> bool:
        """Whether an ``embed`` now would not wait for a load in progress (a load never
        started counts as ready: the embed itself loads, as without a warm-up)."""
        return self._thread is None or not self._thread.is_alive()

    def wait(self) -> None:
        """Wait for a started load to finish."""
        if self._thread is not None:
            self._thread.join()
