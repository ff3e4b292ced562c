"""EmbeddingCache / CachedEmbedder: hits and misses, persistence, dedupe, kill safety."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from planvec.embed import (
    CachedEmbedder,
    Embedder,
    EmbeddingCache,
    HashingEmbedder,
    Vectors,
    default_cache_path,
)
from planvec.errors import EmbedError
from planvec.records import content_hash


class Recording:
    """A real HashingEmbedder that also records which texts it was asked to embed."""

    def __init__(self) -> None:
        self.inner = HashingEmbedder()
        self.model_id = self.inner.model_id
        self.family = self.inner.family
        self.dimension = self.inner.dimension
        self.seen: list[str] = []

    def embed(self, texts: Sequence[str]) -> Vectors:
        self.seen.extend(texts)
        return self.inner.embed(texts)


def _items(texts: Sequence[str]) -> list[tuple[str, str]]:
    return [(content_hash(t), t) for t in texts]


def test_cached_embedder_is_an_embedder(tmp_path: Path) -> None:
    with EmbeddingCache(tmp_path / "c.sqlite") as cache:
        cached = CachedEmbedder(HashingEmbedder(), cache)
        assert isinstance(cached, Embedder)
        assert cached.model_id == "planvec-hashing-384"
        assert cached.embed([]).shape == (0, 384)


def test_hits_and_misses_are_counted(tmp_path: Path) -> None:
    recording = Recording()
    with EmbeddingCache(tmp_path / "c.sqlite") as cache:
        cached = CachedEmbedder(recording, cache)
        first, computed = cached.embed_hashed(_items(["a b", "c d", "e f"]))
        assert computed == 3
        second, computed = cached.embed_hashed(_items(["c d", "g h", "a b"]))
        assert computed == 1
        assert recording.seen == ["a b", "c d", "e f", "g h"]
        np.testing.assert_array_equal(second[0], first[1])
        np.testing.assert_array_equal(second[2], first[0])
        np.testing.assert_array_equal(second, HashingEmbedder().embed(["c d", "g h", "a b"]))
        assert cache.count() == 4
        assert cache.count(recording.model_id) == 4
        assert cache.count("other-model") == 0


def test_identical_hashes_in_one_batch_are_embedded_once(tmp_path: Path) -> None:
    recording = Recording()
    with EmbeddingCache(tmp_path / "c.sqlite") as cache:
        vectors, computed = CachedEmbedder(recording, cache).embed_hashed(
            _items(["same", "other", "same", "same"])
        )
    assert computed == 2
    assert recording.seen == ["same", "other"]
    np.testing.assert_array_equal(vectors[0], vectors[2])
    np.testing.assert_array_equal(vectors[0], vectors[3])


def test_survives_reopen_and_keys_by_model(tmp_path: Path) -> None:
    path = default_cache_path(tmp_path / "cache")
    assert path == tmp_path / "cache" / "embeddings.sqlite"
    with EmbeddingCache(path) as cache:
        CachedEmbedder(HashingEmbedder(), cache).embed(["persist me"])
    recording = Recording()
    with EmbeddingCache(path) as cache:
        _, computed = CachedEmbedder(recording, cache).embed_hashed(_items(["persist me"]))
        assert computed == 0 and recording.seen == []
        # Another model id (here: another dimension) never reuses those vectors.
        other = CachedEmbedder(HashingEmbedder(dimension=64), cache)
        vectors, computed = other.embed_hashed(_items(["persist me"]))
        assert computed == 1 and vectors.shape == (1, 64)


def test_many_keys_cross_the_sqlite_variable_limit(tmp_path: Path) -> None:
    texts = [f"tâche numéro {i}" for i in range(2500)]
    with EmbeddingCache(tmp_path / "c.sqlite") as cache:
        cached = CachedEmbedder(HashingEmbedder(dimension=16), cache, chunk_size=700)
        first, computed = cached.embed_hashed(_items(texts))
        assert computed == 2500
        again, computed = cached.embed_hashed(_items(texts))
        assert computed == 0
        np.testing.assert_array_equal(first, again)
        assert len(cache.get_many(cached.model_id, [content_hash(t) for t in texts])) == 2500


def test_usable_from_a_worker_thread(tmp_path: Path) -> None:
    with EmbeddingCache(tmp_path / "c.sqlite") as cache:
        cached = CachedEmbedder(HashingEmbedder(), cache)
        errors: list[BaseException] = []

        def work(offset: int) -> None:
            try:
                cached.embed([f"thread text {offset + i}" for i in range(50)])
            except BaseException as exc:  # surfaced below
                errors.append(exc)

        threads = [threading.Thread(target=work, args=(n * 25,)) for n in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert errors == []
        assert cache.count() == 125  # 4 x 50 texts, overlapping by 25


def test_truncated_blob_is_a_miss(tmp_path: Path) -> None:
    path = tmp_path / "c.sqlite"
    with EmbeddingCache(path) as cache:
        cache.put_many("m", [("h", np.ones(8, dtype=np.float32))])
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE vectors SET vector = substr(vector, 1, 10)")
    with EmbeddingCache(path) as cache:
        assert cache.get_many("m", ["h"]) == {}


def test_garbage_file_is_moved_aside(tmp_path: Path) -> None:
    path = tmp_path / "embeddings.sqlite"
    path.write_bytes(b"this is not a database at all" * 100)
    with EmbeddingCache(path) as cache:
        assert cache.count() == 0
        cache.put_many("m", [("h", np.ones(4, dtype=np.float32))])
    assert [p.name.split("-")[0] for p in tmp_path.glob("*.corrupt-*")] == [
        "embeddings.sqlite.corrupt"
    ]


def test_unwritable_location_is_a_clear_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(EmbedError, match="writable directory"):
        EmbeddingCache(blocker / "sub" / "embeddings.sqlite")


_WRITER = textwrap.dedent(
    """
    import sys, numpy as np
    from planvec.embed import EmbeddingCache
    cache = EmbeddingCache(sys.argv[1])
    start = int(sys.argv[2])
    print("ready", flush=True)
    for i in range(start, start + 100000):
        cache.put_many("m", [
            (f"{i}-{j}", np.random.default_rng([i, j]).standard_normal(96).astype(np.float32))
            for j in range(40)
        ])
    """
)


def _expected(key: str) -> np.ndarray:
    i, j = (int(part) for part in key.split("-"))
    return np.random.default_rng([i, j]).standard_normal(96).astype(np.float32)


def test_process_killed_mid_write_leaves_only_correct_vectors(tmp_path: Path) -> None:
    path = tmp_path / "embeddings.sqlite"
    for round_ in range(3):
        proc = subprocess.Popen(
            [sys.executable, "-c", _WRITER, str(path), str(round_ * 100000)],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
        time.sleep(0.3 + 0.2 * round_)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        proc.stdout.close()
    with EmbeddingCache(path) as cache:
        with sqlite3.connect(path) as conn:
            keys = [row[0] for row in conn.execute("SELECT content_hash FROM vectors")]
        assert len(keys) > 0
        assert len(keys) % 40 == 0, "a batch was only partly committed"
        stored = cache.get_many("m", keys)
        assert len(stored) == len(keys)
        for key, vector in stored.items():
            np.testing.assert_array_equal(vector, _expected(key))
