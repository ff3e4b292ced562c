"""Concurrency: two index runs, index + search, search during a model migration.

* Two ``planvec index`` processes on one index: one writes, the other fails fast with the
  ``IndexLocked`` message naming ``--wait``; with ``--wait`` both complete, correctly.
* Search from another process while the embedded (Edge) index is open for writing gets a
  clear "open in another process" error: a known limitation of Qdrant Edge (one process per
  directory). The workaround is server mode.
* Within one process (threads), searches running during syncs, or during a model migration,
  never see a half-applied point: every hit's payload hashes match its text, every point's
  vector is the embedding of its text, and a migrating alias only ever resolves to a complete
  collection.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from planvec.backup.model_migration import migrate_model
from planvec.embed.hashing import HashingEmbedder
from planvec.embedding_recipe import embedding_text_of, text_embed_hash
from planvec.errors import CollectionNotFound
from planvec.index import Index, sources_for
from planvec.lock import WriteLock, lock_path_for
from planvec.store import open_store
from planvec.store.aliases import resolve_collection
from planvec.store.base import VectorStore
from planvec.text.lexical import LexicalEncoder

from .conftest import Figures, full_run
from .helpers import diff_counts, make_index, plan_slice, snapshot
from .helpers import versions as plan_versions

pytestmark = pytest.mark.reliability


def _cli(*args: str, cwd: Path | None = None, **extra_env: str) -> subprocess.Popen[str]:
    env = dict(os.environ, PLANVEC_EMBEDDER="hashing", **extra_env)
    if args[0] == "index":  # versions A and B are two trees holding the same plans
        args = (*args, "--root", args[1], "--allow-delete")
    return subprocess.Popen(
        [sys.executable, "-m", "planvec", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=cwd,
    )


def _done(proc: subprocess.Popen[str]) -> tuple[int, str, str]:
    out, err = proc.communicate(timeout=600)
    return proc.returncode, out, err


@pytest.fixture(scope="module")
def versions(
    tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> tuple[Path, Path]:
    return plan_versions(tmp_path_factory.mktemp("versions"), 6 if full_run(request) else 2)


@pytest.fixture(scope="module")
def clean_b(versions: tuple[Path, Path], tmp_path_factory: pytest.TempPathFactory) -> Any:
    index = tmp_path_factory.mktemp("clean") / "idx"
    code, _, err = _done(_cli("index", str(versions[1]), "--index", str(index), "--json"))
    assert code in (0, 1), err
    store = open_store(index_dir=index)
    try:
        return snapshot(store)
    finally:
        store.close()


def _edge_state(index: Path) -> Any:
    store = open_store(index_dir=index)
    try:
        return snapshot(store)
    finally:
        store.close()


def test_second_writer_fails_fast_then_queues_with_wait(
    versions: tuple[Path, Path], clean_b: Any, tmp_path: Path, figures: Figures
) -> None:
    index = tmp_path / "idx"
    lock = WriteLock(lock_path_for(index, None, "planvec_tasks", tmp_path / "cache"))
    lock.acquire()  # another writer holds the index
    try:
        code, out, err = _done(_cli("index", str(versions[1]), "--index", str(index)))
        assert code == 2 and not out
        assert "another planvec process is writing this index" in err
        assert "--wait" in err and "Traceback" not in err
        waiting = _cli("index", str(versions[1]), "--index", str(index), "--wait", "--json")
        time.sleep(1.0)
        assert waiting.poll() is None, "--wait did not wait for the lock"
    finally:
        lock.release()
    code, _, err = _done(waiting)
    assert code in (0, 1), err
    assert diff_counts(clean_b, _edge_state(index)) == (0, 0, 0)
    figures.add("concurrency", "concurrent_index_runs", 2)


def test_two_index_runs_at_once(
    versions: tuple[Path, Path],
    clean_b: Any,
    tmp_path: Path,
    request: pytest.FixtureRequest,
    figures: Figures,
) -> None:
    rounds = 8 if full_run(request) else 1
    locked = 0
    for i in range(rounds):
        index = tmp_path / f"idx{i}"
        # without --wait: one wins, the other (if they overlapped) gets a clear message
        procs = [_cli("index", str(versions[1]), "--index", str(index), "--json") for _ in "ab"]
        results = [_done(p) for p in procs]
        assert any(code in (0, 1) for code, _, _ in results), results
        for code, _, err in results:
            assert "Traceback" not in err
            if "another planvec process" in err:
                assert code == 2 and "--wait" in err, (code, err)
                locked += 1
            else:
                assert code in (0, 1), err
        assert diff_counts(clean_b, _edge_state(index)) == (0, 0, 0)
        # with --wait, started together from an older state: both complete, in turn
        index = tmp_path / f"queued{i}"
        assert _done(_cli("index", str(versions[0]), "--index", str(index)))[0] in (0, 1)
        procs = [
            _cli("index", str(versions[1]), "--index", str(index), "--wait", "--json") for _ in "ab"
        ]
        codes = [_done(p)[0] for p in procs]
        assert all(code in (0, 1) for code in codes), codes
        assert diff_counts(clean_b, _edge_state(index)) == (0, 0, 0)
    figures.add("concurrency", "concurrent_index_runs", 4 * rounds)
    figures.add("concurrency", "index_runs_refused_with_lock_message", locked)


def test_search_while_edge_index_is_open_elsewhere_is_a_clear_error(
    versions: tuple[Path, Path], tmp_path: Path, figures: Figures
) -> None:
    index = tmp_path / "idx"
    assert _done(_cli("index", str(versions[0]), "--index", str(index)))[0] in (0, 1)
    holder = open_store(index_dir=index)  # a writer in another process holds the shard
    try:
        holder.count("planvec_tasks")
        # no bounded wait for the holder (tests/service covers the wait itself)
        search = _cli("search", "sauvegarde", "--index", str(index), PLANVEC_WAIT_HELD="0")
        code, out, err = _done(search)
    finally:
        holder.close()
    assert code != 0 and not out
    assert "open in another process" in err and "Traceback" not in err
    code, out, _ = _done(_cli("search", "sauvegarde", "--index", str(index), "--json"))
    assert code == 0 and out.startswith("[")  # once the writer is gone, search works
    figures.add("concurrency", "search_during_edge_write_refused_clearly", 1)


# -- threads: searches during syncs and during a model migration -------------------------------


def _consistent(store: VectorStore, collection: str, embedder: HashingEmbedder) -> list[str]:
    """Problems of the points of ``collection`` (hash vs text, vector vs text)."""
    problems = []
    records = list(store.scroll(collection, with_vectors=True))
    for rec in records:
        raw = str(rec.payload.get("text", ""))
        if rec.payload.get("embed_hash") != text_embed_hash(raw, embedder.family):
            problems.append(f"{rec.id}: embed_hash does not match its text")
        expected = embedder.embed([embedding_text_of(raw)])[0]
        if not np.allclose(np.asarray(rec.vector), expected, atol=1e-5):
            problems.append(f"{rec.id}: vector does not match its text")
    return problems


def _hits_consistent(hits: list[Any], family: str) -> list[str]:
    return [
        f"{h.id}: hit payload is half-applied"
        for h in hits
        if h.payload.get("embed_hash") != text_embed_hash(h.text, family)
    ]


@pytest.mark.parametrize("backend", ["memory", "edge"])
def test_searches_during_syncs_never_see_half_applied_points(
    versions: tuple[Path, Path],
    tmp_path: Path,
    backend: str,
    request: pytest.FixtureRequest,
    figures: Figures,
) -> None:
    store = open_store(
        index_dir=tmp_path / "idx", qdrant_url=None if backend == "edge" else "memory://"
    )
    writer = make_index(store)
    writer.sync(sources_for([versions[0]]))
    reader = make_index(store)
    syncs = 6 if full_run(request) else 2
    stop = threading.Event()
    problems: list[str] = []
    searches = [0]
    errors: list[BaseException] = []

    def search_loop() -> None:
        queries = ["sauvegarde de la base", "documentation API", "tests", "déploiement"]
        try:
            while not stop.is_set():
                for q in queries:
                    hits = reader.search(q, limit=20)
                    problems.extend(_hits_consistent(hits, reader.embedder.family))
                    searches[0] += 1
        except BaseException as exc:  # reported by the main thread
            errors.append(exc)

    threads = [threading.Thread(target=search_loop) for _ in range(2)]
    for t in threads:
        t.start()
    try:
        for i in range(syncs):
            writer.sync(sources_for([versions[1] if i % 2 == 0 else versions[0]]))
    finally:
        stop.set()
        for t in threads:
            t.join(60)
    try:
        assert not errors, errors
        assert not problems, problems[:5]
        assert searches[0] >= 4
        assert not _consistent(store, "planvec_tasks", HashingEmbedder())
    finally:
        store.close()
    figures.add("concurrency", "searches_during_syncs", searches[0])
    figures.add("concurrency", "syncs_with_concurrent_searches", syncs)


def test_searches_during_model_migration_see_one_complete_collection(
    tmp_path: Path, figures: Figures
) -> None:
    old, new = HashingEmbedder(384), HashingEmbedder(512)
    store = open_store(index_dir=tmp_path / "idx", qdrant_url="memory://")
    lexical = LexicalEncoder()
    Index(store, old, lexical=lexical).sync(sources_for([plan_slice(tmp_path / "plans", files=2)]))
    total = store.count("planvec_tasks")
    stop = threading.Event()
    seen: dict[str, int] = {}
    problems: list[str] = []
    errors: list[BaseException] = []

    # a reader opened before the switch (an old-model `planvec search` process that stays up)
    steady = Index(store, old, collection="planvec_tasks", lexical=lexical, logical="planvec_tasks")

    def search_loop() -> None:
        try:
            while not stop.is_set():
                # a reader opened now, as `open_index` does: resolve, pick the model, search
                live = resolve_collection(store, "planvec_tasks")
                manifest = store.read_manifest(live) or {}
                embedder = new if manifest.get("dimension") == 512 else old
                fresh = Index(
                    store, embedder, collection=live, lexical=lexical, logical="planvec_tasks"
                )
                for reader in (fresh, steady):
                    hits = reader.search("sauvegarde de la base", limit=10)
                    problems.extend(_hits_consistent(hits, reader.embedder.family))
                    if not hits:
                        problems.append(f"no hit from {reader.collection}")
                    try:
                        count = store.count(reader.collection)
                    except CollectionNotFound:  # the bare name, dropped just after the search
                        assert reader.collection == "planvec_tasks"
                        continue
                    if count != total:
                        problems.append(f"{reader.collection} holds {count}/{total} points")
                seen[fresh.collection] = seen.get(fresh.collection, 0) + 1
        except BaseException as exc:
            errors.append(exc)

    thread = threading.Thread(target=search_loop)
    thread.start()
    try:
        report = migrate_model(
            store, "planvec_tasks", new, apply=True, old_embedder=old, lexical=lexical,
            batch_size=16,
        )  # fmt: skip
        time.sleep(0.3)  # a few searches after the switch
    finally:
        stop.set()
        thread.join(60)
    try:
        assert report.switched, report.problems
        assert not errors, errors
        assert not problems, problems[:5]
        # searches ran on the old, then on the new collection
        assert "planvec_tasks" in seen and report.new_collection in seen, seen
        assert steady.collection != "planvec_tasks"  # the old reader now reads the kept copy
        assert report.new_collection and not _consistent(store, report.new_collection, new)
    finally:
        store.close()
    figures.add("concurrency", "searches_during_model_migration", sum(seen.values()))
