"""The sync pipeline's stages: cache lookups, cache writes on the writer thread, failures.

Runs against both stores of ``make_index`` (Edge on disk, qdrant-client's memory engine)
with the hashing embedder behind a real SQLite embedding cache.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from planvec.embed.cache import CachedEmbedder, EmbeddingCache
from planvec.embed.hashing import HashingEmbedder
from planvec.errors import EmbedError
from planvec.index import Index
from planvec.sync import EARLY_BATCH, Syncer

TASKS = [f"Tâche numéro {i} : préparer le module {i % 7}" for i in range(12)]


class CountingEmbedder(HashingEmbedder):
    """The hashing embedder that records every call's texts (and can fail on call ``fail_at``)."""

    def __init__(self, fail_at: int | None = None) -> None:
        super().__init__()
        self.calls: list[list[str]] = []
        self.fail_at = fail_at

    def embed(self, texts: Sequence[str]) -> Any:
        if texts and self.fail_at is not None and len(self.calls) + 1 >= self.fail_at:
            raise EmbedError("the model ran out of memory; retry with a smaller --batch-size")
        if texts:
            self.calls.append(list(texts))
        return super().embed(texts)


class FailingCache(EmbeddingCache):
    """A real cache whose writes fail (a full disk) after ``ok`` successful ones."""

    def __init__(self, path: Path, ok: int) -> None:
        super().__init__(path)
        self.ok = ok

    def put_many(self, model_id: str, items: Any) -> int:
        if self.ok <= 0:
            raise EmbedError("writing the embedding cache failed: database or disk is full")
        self.ok -= 1
        return super().put_many(model_id, items)


def write_plans(root: Path, copies: int) -> Path:
    """``copies`` plans holding the same 12 tasks (duplicated texts across plans)."""
    root.mkdir(parents=True, exist_ok=True)
    body = "# Plan\n\n## Phase\n\n" + "".join(f"- [ ] {t}\n" for t in TASKS)
    for n in range(copies):
        (root / f"plan{n}.md").write_text(body, encoding="utf-8")
    return root


def state(index: Index) -> dict[str, tuple[Any, ...]]:
    fields = ("plan", "embed_hash", "payload_hash", "lexical_hash", "line")
    return {
        str(p.id): tuple(p.payload.get(k) for k in fields)
        for p in index.points.scroll(with_payload=fields)
    }


def on_store(index: Index, embedder: Any) -> Index:
    return Index(index._store, embedder, lexical=index.lexical)


def test_texts_shared_by_many_batches_are_embedded_once_and_all_cached(
    make_index: Callable[..., Index], tmp_path: Path
) -> None:
    root = write_plans(tmp_path / "plans", copies=3)
    counting = CountingEmbedder()
    cached = CachedEmbedder(counting, EmbeddingCache(tmp_path / "c.sqlite"))
    index = on_store(make_index(cached=False), cached)
    report = index.sync(index.source([root]), batch_size=5)
    texts = [t for call in counting.calls for t in call]
    assert report.added == 3 * len(TASKS) and index.count() == 3 * len(TASKS)
    assert report.embedded == len(TASKS) == len(texts) == len(set(texts))
    assert max(len(call) for call in counting.calls) <= 5  # bounded by the batch size
    assert cached.cache.count(cached.model_id) == len(TASKS)  # the writer thread stored them
    assert cached.lookup([]) == {} and not cached._held  # nothing left held in memory


def test_embedder_failure_mid_run_is_clear_and_the_next_run_completes_the_index(
    make_index: Callable[..., Index], tmp_path: Path
) -> None:
    root = write_plans(tmp_path / "plans", copies=4)
    cache = EmbeddingCache(tmp_path / "c.sqlite")
    clean = make_index()
    failing = CachedEmbedder(CountingEmbedder(fail_at=3), cache)
    index = on_store(clean, failing)
    with pytest.raises(EmbedError, match="smaller --batch-size"):
        index.sync(index.source([root]), batch_size=4)
    # what was written before the failure is whole: every point has its hashes and vector
    written = list(index.points.scroll(with_vectors=True))
    for point in written:
        assert point.payload["embed_hash"] and point.payload["payload_hash"]
        assert point.vector is not None and abs(np.linalg.norm(point.vector) - 1) < 1e-4
    assert len(written) < 4 * len(TASKS)
    working = on_store(clean, CachedEmbedder(CountingEmbedder(), cache))
    again = working.sync(working.source([root]), batch_size=4)
    assert working.count() == 4 * len(TASKS) and again.added == 4 * len(TASKS) - len(written)
    fresh = make_fresh(tmp_path, root)
    assert state(working) == fresh


def make_fresh(tmp_path: Path, root: Path) -> dict[str, tuple[Any, ...]]:
    """The state of a clean run on its own Edge store."""
    from planvec.store import open_store
    from planvec.text.lexical import LexicalEncoder

    store = open_store(index_dir=tmp_path / "fresh")
    try:
        index = Index(store, HashingEmbedder(), lexical=LexicalEncoder())
        index.sync(index.source([root]))
        return state(index)
    finally:
        store.close()


def test_cache_write_failure_on_the_writer_thread_stops_the_run_cleanly(
    make_index: Callable[..., Index], tmp_path: Path
) -> None:
    root = write_plans(tmp_path / "plans", copies=1)
    base = make_index(cached=False)
    broken = CachedEmbedder(CountingEmbedder(), FailingCache(tmp_path / "c.sqlite", ok=1))
    index = on_store(base, broken)
    with pytest.raises(EmbedError, match="disk is full"):
        index.sync(index.source([root]), batch_size=3)
    # the batch whose cache write failed was not upserted, nor any batch after it
    assert index.count() == 3
    assert broken.cache.count(broken.model_id) == 3
    healthy = on_store(base, CachedEmbedder(CountingEmbedder(), EmbeddingCache(tmp_path / "d")))
    again = healthy.sync(healthy.source([root]), batch_size=3)
    assert (again.added, again.unchanged, healthy.count()) == (len(TASKS) - 3, 3, len(TASKS))


def test_first_index_records_the_plan_counts_without_scrolling_them(
    make_index: Callable[..., Index], tmp_path: Path
) -> None:
    root = write_plans(tmp_path / "plans", copies=2)
    (root / "empty.md").write_text("# Nothing to do\n\n- [ ]   \n", encoding="utf-8")
    (root / "broken.md").write_bytes(b"\xff\xfe\x00bad\x00" * 50)
    index = make_index()
    index.sync(index.source([root]))
    recorded = (index.manifest or {})["plans"]
    assert recorded == {"plan0.md": len(TASKS), "plan1.md": len(TASKS)}
    assert recorded == index.plan_counts()  # what a scroll of every point counts


class SlowLastFile:
    """The plans of ``inner``, the last one held back until ``gate`` is set: a parse thread
    still busy with a big file while the changed tasks of the others wait to be embedded."""

    def __init__(self, inner: Any, gate: threading.Event) -> None:
        self.inner = inner
        self.gate = gate
        self.released: bool | None = None

    def iter_plans(self) -> Any:
        plans = list(self.inner.iter_plans())
        yield from plans[:-1]
        self.released = self.gate.wait(10)
        yield plans[-1]


class GateOpeningEmbedder(CountingEmbedder):
    """Opens ``gate`` on its first call (the held-back file then parses)."""

    def __init__(self, gate: threading.Event) -> None:
        super().__init__()
        self.gate = gate

    def embed(self, texts: Sequence[str]) -> Any:
        out = super().embed(texts)
        if texts:
            self.gate.set()
        return out


def test_the_model_embeds_while_the_parse_thread_has_nothing_ready(
    make_index: Callable[..., Index], tmp_path: Path
) -> None:
    """A small edit spread over big files: the texts found so far are embedded while the
    last file still parses, not after it (the embed opens the gate the parse waits on)."""
    root = tmp_path / "plans"
    root.mkdir()
    for n in range(4):  # the first 3 hold 36 distinct texts: >= EARLY_BATCH, < batch size
        body = "# Plan\n\n" + "".join(f"- [ ] {t} (plan {n})\n" for t in TASKS)
        (root / f"plan{n}.md").write_text(body, encoding="utf-8")
    assert EARLY_BATCH <= 36  # the premise of this test
    gate = threading.Event()
    embedder = GateOpeningEmbedder(gate)
    index = on_store(make_index(HashingEmbedder()), embedder)
    source = SlowLastFile(index.source([root]), gate)
    report = index.sync(source)
    assert source.released is True  # the first embed came while the last file was held
    assert report.added == 48 and report.embedded == 48
    assert [len(c) for c in embedder.calls] == [36, 12]
    assert index.count() == 48


def test_no_early_batch_while_the_model_still_loads(tmp_path: Path) -> None:
    """Embedding early would block the caller on the model's load while the parse thread,
    a few files ahead at most, stalls: the batch waits for the model (or the end)."""
    root = tmp_path / "plans"
    root.mkdir()
    for n in range(3):
        body = "# Plan\n\n" + "".join(f"- [ ] {t} (plan {n})\n" for t in TASKS)
        (root / f"plan{n}.md").write_text(body, encoding="utf-8")
    from planvec.store import open_store

    gate = threading.Event()
    embedder = GateOpeningEmbedder(gate)
    store = open_store(index_dir=tmp_path / "idx")
    index = Index(store, embedder)
    syncer = Syncer(store, index.collection, embedder, model_ready=lambda: False)
    index.ensure()
    source = SlowLastFile(index.source([root]), threading.Event())
    source.gate.set()  # nothing held: the last file comes at once
    report = syncer.run(source)
    index.close()
    assert report.embedded == 36
    assert [len(c) for c in embedder.calls] == [36]  # one batch, at the end


class FirstReadWatch:
    """The plans of ``inner``; records whether the store had loaded the collection's shard
    when the parse thread began reading files."""

    def __init__(self, inner: Any, store: Any) -> None:
        self.inner = inner
        self.store = store
        self.root = inner.root
        self.shard_loaded_first: bool | None = None

    def iter_plans_since(self, known: Any, **options: Any) -> Any:
        self.shard_loaded_first = bool(self.store._shards)
        return self.inner.iter_plans_since(known, **options)

    def iter_plans(self) -> Any:
        return self.inner.iter_plans()

    def in_scope(self, path: str) -> bool:
        return bool(self.inner.in_scope(path))


def reopened(tmp_path: Path, embedder: Any) -> Index:
    from planvec.store import open_store

    return Index(open_store(index_dir=tmp_path / "idx"), embedder, lexical=None)


def test_an_incremental_run_parses_while_the_shard_loads(tmp_path: Path) -> None:
    """With the point count known from the last clean close, the parse thread starts before
    the shard is loaded; the run is the same as one that loads it first."""
    root = write_plans(tmp_path / "plans", copies=3)
    with reopened(tmp_path, HashingEmbedder()) as index:
        index.sync(index.source([root]))
    plan = root / "plan1.md"
    plan.write_text(plan.read_text(encoding="utf-8").replace("module 3", "module 9"), "utf-8")
    with reopened(tmp_path, HashingEmbedder()) as index:
        assert not index._store._shards  # type: ignore[attr-defined]
        source = FirstReadWatch(index.source([root]), index._store)
        report = index.sync(source)  # type: ignore[arg-type]
        assert source.shard_loaded_first is False
        assert (report.added, report.deleted, report.unchanged, report.plans) == (2, 2, 34, 3)
        fast = state(index)
    with reopened(tmp_path, HashingEmbedder()) as index:
        index.drop()
    with reopened(tmp_path, HashingEmbedder()) as index:
        index.sync(index.source([root]))
        assert state(index) == fast


def test_a_failure_before_the_writes_stops_the_early_parse_thread(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import planvec.index

    root = write_plans(tmp_path / "plans", copies=2)
    with reopened(tmp_path, HashingEmbedder()) as index:
        index.sync(index.source([root]))
    (root / "plan0.md").write_text("# Plan\n\n- [ ] une autre tâche\n", encoding="utf-8")

    def damaged(*_: Any) -> None:
        raise EmbedError("the shard is damaged")  # any error between start and run

    monkeypatch.setattr(planvec.index, "sample_points", damaged)
    with reopened(tmp_path, HashingEmbedder()) as index:
        with pytest.raises(EmbedError, match="damaged"):
            index.sync(index.source([root]))
        assert index.count() == 24  # nothing was written
    assert not [t for t in threading.enumerate() if t.name == "planvec-parse" and t.is_alive()]
