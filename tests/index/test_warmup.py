"""The model warm-up of ``Index.sync`` (``planvec.warmup``): the model loads on another thread
while the store is read and plans are diffed, the sync waits for it, and a failed load is
left for the first ``embed`` to report.

Runs ``Index.sync`` with a hashing embedder that has a ``load`` step (like the ONNX one),
behind the real embedding cache, on Qdrant Edge (the warm-up does not depend on the store).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pytest

from planvec.embed.hashing import HashingEmbedder
from planvec.guard import DeleteGuard
from planvec.index import Index
from planvec.warmup import WarmUp

#: the warm-up does not depend on the store: Edge only
on_edge = pytest.mark.parametrize("store_factory", ["edge"], indirect=True)


class LoadingEmbedder(HashingEmbedder):
    """The hashing embedder with a model to load first, as ``OnnxEmbedder`` has."""

    def __init__(self, fail: bool = False) -> None:
        super().__init__()
        self.fail = fail
        self.loads: list[str] = []
        self.model_loads = 0
        self.loaded = threading.Event()
        self._lock = threading.Lock()

    def load(self) -> None:
        """Idempotent under a lock, as ``OnnxEmbedder.load``; ``loads`` records each call."""
        self.loads.append(threading.current_thread().name)
        with self._lock:
            if self.fail:
                raise RuntimeError("model file damaged")
            if not self.loaded.is_set():
                self.model_loads += 1
                self.loaded.set()

    def embed(self, texts: Sequence[str]) -> Any:
        if texts and not self.loaded.is_set():
            self.load()
        return super().embed(texts)


@on_edge
def test_sync_loads_the_model_on_another_thread_and_waits_for_it(
    make_index: Callable[..., Index], plan_tree: Path
) -> None:
    model = LoadingEmbedder()
    index = make_index(model)
    report = index.sync(index.source([plan_tree]))
    assert report.added == 9
    # the warm-up always runs (the first embed may have come first on a busy machine)
    assert "planvec-warm-up" in model.loads and model.model_loads == 1
    assert not any(t.name == "planvec-warm-up" for t in threading.enumerate())


@on_edge
def test_runs_with_nothing_to_embed_load_no_model(
    make_index: Callable[..., Index], plan_tree: Path
) -> None:
    model = LoadingEmbedder()
    index = make_index(model)
    index.sync(index.source([plan_tree]))
    model.loads.clear()
    roadmap = plan_tree / "roadmap.md"
    flipped = roadmap.read_text(encoding="utf-8").replace("- [ ] **2.1**", "- [x] **2.1**")
    roadmap.write_text(flipped, encoding="utf-8")
    assert index.sync(index.source([plan_tree])).payload_only == 1  # a status flip
    assert index.sync(index.source([plan_tree])).written == 0
    edited = flipped.replace("rate limiting", "quotas")
    roadmap.write_text(edited, encoding="utf-8")
    assert index.sync(index.source([plan_tree]), dry_run=True).updated == 1
    assert model.loads == []


@on_edge
def test_a_failed_warm_up_is_reported_by_the_first_embed(
    make_index: Callable[..., Index], plan_tree: Path
) -> None:
    model = LoadingEmbedder(fail=True)
    index = make_index(model)
    with pytest.raises(RuntimeError, match="model file damaged"):
        index.sync(index.source([plan_tree]))
    assert sorted(model.loads) == ["MainThread", "planvec-warm-up"]


def test_embedders_without_a_load_step_start_no_thread(tmp_path: Path) -> None:
    class Exported(LoadingEmbedder):
        path = tmp_path / "missing.onnx"  # not exported yet: the caller's thread announces it

    for embedder in (HashingEmbedder(), Exported()):
        before = threading.active_count()
        warm = WarmUp(embedder)
        warm.start()
        assert threading.active_count() == before
        warm.wait()


class AsideEmbedder(LoadingEmbedder):
    """``LoadingEmbedder`` with a one-core side (``embed_aside``), as ``OnnxEmbedder``;
    records which side embedded how many texts."""

    def __init__(self) -> None:
        super().__init__()
        self.aside_loads: list[str] = []
        self.sides: list[tuple[str, int]] = []

    def load_aside(self) -> None:
        self.aside_loads.append(threading.current_thread().name)

    def embed(self, texts: Sequence[str]) -> Any:
        if texts:
            self.sides.append(("main", len(texts)))
        return super().embed(texts)

    def embed_aside(self, texts: Sequence[str]) -> Any:
        if texts:
            self.sides.append(("aside", len(texts)))
        return HashingEmbedder.embed(self, texts)


@on_edge
def test_an_incremental_run_loads_and_embeds_on_the_one_core_side_only(
    make_index: Callable[..., Index], plan_tree: Path
) -> None:
    model = AsideEmbedder()
    index = make_index(model)
    index.sync(index.source([plan_tree]))  # a first index: the main session, every core
    assert model.aside_loads == [] and {side for side, _ in model.sides} == {"main"}
    loads, model.sides = list(model.loads), []
    roadmap = plan_tree / "roadmap.md"
    text = roadmap.read_text(encoding="utf-8")
    roadmap.write_text(text.replace("rate limiting", "quotas"), encoding="utf-8")
    report = index.sync(index.source([plan_tree]))
    assert report.updated == 1 and report.embedded == 1
    assert model.aside_loads == ["planvec-warm-up"]  # loaded beside the parse, not the main
    assert model.loads == loads
    assert model.sides == [("aside", 1)]


@on_edge
def test_an_incremental_run_with_full_batches_embeds_them_on_every_core(
    make_index: Callable[..., Index], plan_tree: Path
) -> None:
    model = AsideEmbedder()
    index = make_index(model)
    index.sync(index.source([plan_tree]))
    model.sides = []
    for path in (plan_tree / "roadmap.md", plan_tree / "sub" / "notes.md"):
        text = path.read_text(encoding="utf-8")
        path.write_text(text.replace("] ", "] Revu : "), encoding="utf-8")
    # every text changes (ids that follow their text change too: the guard lets them go)
    report = index.sync(index.source([plan_tree]), batch_size=4, guard=DeleteGuard(allow=True))
    assert report.embedded == 9
    assert model.sides == [("main", 4), ("main", 4), ("main", 1)]
