"""A persistent embedding cache: unchanged text is never embedded twice.

Vectors are keyed by ``(model_id, content_hash)`` in one SQLite file that lives in
planvec's cache directory (``<cache_dir>/embeddings.sqlite``), *outside* any index, so
deleting and rebuilding an index costs no embedding at all.

Kill safety: the file is in WAL mode and every ``put_many`` is one transaction, so a row
(key, dimension and vector together) is either fully there or absent. A process killed
with SIGKILL loses at most its uncommitted batch, never leaves a wrong vector; SQLite
ignores a torn WAL tail on the next open. ``synchronous=NORMAL`` is enough for that: it
can only lose the last commits on a power cut, which for a cache means "embed again".
Rows whose blob length does not match their dimension are treated as misses anyway.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from types import TracebackType

import numpy as np

from planvec.embed.base import (
    Embedder,
    QueryEmbedder,
    Vectors,
    embed_aside,
    embed_queries,
    embeds_outside_gil,
)
from planvec.errors import EmbedError
from planvec.records import content_hash

log = logging.getLogger(__name__)

CACHE_FILE = "embeddings.sqlite"
SCHEMA_VERSION = 1
#: Keys per SELECT: well under SQLite's host-parameter limit (999 on old builds).
_CHUNK = 500
_SCHEMA = """
CREATE TABLE IF NOT EXISTS vectors (
    model_id TEXT NOT NULL,
    content_hash TEXT NOT NULL,
    dim INTEGER NOT NULL,
    vector BLOB NOT NULL,
    PRIMARY KEY (model_id, content_hash)
) WITHOUT ROWID
"""


def default_cache_path(cache_dir: Path) -> Path:
    """The cache file under planvec's cache directory (``settings.cache_dir``)."""
    return Path(cache_dir).expanduser() / CACHE_FILE


class EmbeddingCache:
    """SQLite store of vectors keyed by (model id, content hash). Thread-safe."""

    def __init__(self, path: Path) -> None:
        """Open (creating if needed) the cache at ``path``.

        A file that is not a SQLite database (e.g. clobbered by hand) is moved aside to
        ``<name>.corrupt-<time>`` and a fresh cache is started: it is only a cache.

        Args:
            path: the SQLite file.

        Raises:
            EmbedError: the file cannot be created or opened (e.g. read-only directory).
        """
        self.path = Path(path).expanduser()
        self._lock = threading.RLock()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            try:
                self._conn = self._connect()
            except sqlite3.DatabaseError as exc:
                if isinstance(exc, sqlite3.OperationalError):
                    raise
                aside = self.path.with_name(f"{self.path.name}.corrupt-{int(time.time())}")
                log.warning("embedding cache %s is unreadable (%s): moved to %s", path, exc, aside)
                self.path.replace(aside)
                for suffix in ("-wal", "-shm"):
                    Path(str(self.path) + suffix).unlink(missing_ok=True)
                self._conn = self._connect()
        except (OSError, sqlite3.Error) as exc:
            raise EmbedError(
                f"cannot open the embedding cache {self.path}: {exc}; point --cache-dir "
                "(PLANVEC_CACHE_DIR) to a writable directory"
            ) from exc

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(
            self.path, timeout=30.0, check_same_thread=False, isolation_level=None
        )
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute(_SCHEMA)
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            if version == 0:
                conn.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
            elif version != SCHEMA_VERSION:
                raise EmbedError(
                    f"embedding cache {self.path} has schema {version}, this planvec "
                    f"expects {SCHEMA_VERSION}: delete the file (it is only a cache)"
                )
        except BaseException:
            conn.close()
            raise
        return conn

    def get_many(self, model_id: str, hashes: Iterable[str]) -> dict[str, Vectors]:
        """The cached vectors among ``hashes`` for ``model_id`` (missing keys are absent).

        Args:
            model_id: the embedder's ``model_id``.
            hashes: content hashes to look up.

        Returns:
            ``{content_hash: float32 vector}`` for the hits.
        """
        keys = list(dict.fromkeys(hashes))
        found: dict[str, Vectors] = {}
        with self._lock:
            try:
                for start in range(0, len(keys), _CHUNK):
                    chunk = keys[start : start + _CHUNK]
                    marks = ",".join("?" * len(chunk))
                    rows = self._conn.execute(
                        "SELECT content_hash, dim, vector FROM vectors "
                        f"WHERE model_id = ? AND content_hash IN ({marks})",
                        [model_id, *chunk],
                    ).fetchall()
                    for key, dim, blob in rows:
                        if len(blob) == 4 * dim:
                            found[key] = np.frombuffer(blob, dtype="<f4").astype(np.float32)
            except sqlite3.Error as exc:
                raise EmbedError(f"reading the embedding cache {self.path} failed: {exc}") from exc
        return found

    def put_many(self, model_id: str, items: Iterable[tuple[str, Vectors]]) -> int:
        """Store vectors, in one transaction (all of them or none).

        Args:
            model_id: the embedder's ``model_id``.
            items: ``(content_hash, vector)`` pairs.

        Returns:
            How many rows were written.
        """
        rows = [
            (model_id, key, int(vec.shape[0]), np.ascontiguousarray(vec, dtype="<f4").tobytes())
            for key, vec in items
        ]
        if not rows:
            return 0
        with self._lock:
            try:
                self._conn.execute("BEGIN IMMEDIATE")
                try:
                    self._conn.executemany(
                        "INSERT OR REPLACE INTO vectors (model_id, content_hash, dim, vector) "
                        "VALUES (?, ?, ?, ?)",
                        rows,
                    )
                except BaseException:
                    self._conn.execute("ROLLBACK")
                    raise
                self._conn.execute("COMMIT")
            except sqlite3.Error as exc:
                raise EmbedError(f"writing the embedding cache {self.path} failed: {exc}") from exc
        return len(rows)

    def count(self, model_id: str | None = None) -> int:
        """Number of cached vectors (of one model, or all)."""
        with self._lock:
            if model_id is None:
                row = self._conn.execute("SELECT COUNT(*) FROM vectors").fetchone()
            else:
                row = self._conn.execute(
                    "SELECT COUNT(*) FROM vectors WHERE model_id = ?", (model_id,)
                ).fetchone()
        return int(row[0])

    def close(self) -> None:
        """Close the connection (idempotent)."""
        with self._lock:
            self._conn.close()

    def __enter__(self) -> EmbeddingCache:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


class CachedEmbedder:
    """An ``Embedder`` that asks the cache first and embeds only the misses.

    Misses are embedded and stored in chunks of ``chunk_size`` texts, so a long run that
    is interrupted keeps what it computed.
    """

    def __init__(self, embedder: Embedder, cache: EmbeddingCache, chunk_size: int = 256) -> None:
        """Wrap ``embedder`` with ``cache``.

        Args:
            embedder: the real embedder (its ``model_id`` is half of the key).
            cache: where vectors are kept.
            chunk_size: misses embedded (and committed) per step.
        """
        self.inner = embedder
        self.cache = cache
        self.chunk_size = max(1, chunk_size)
        self.model_id = embedder.model_id
        self.family = embedder.family
        self.dimension = embedder.dimension
        self.releases_gil = embeds_outside_gil(embedder)
        #: vectors computed by ``compute`` whose ``remember`` has not run yet
        self._held: dict[str, Vectors] = {}
        self._held_lock = threading.Lock()

    def embed(self, texts: Sequence[str]) -> Vectors:
        """Embed texts, keyed by ``content_hash(text)`` (see ``planvec.embed.base``)."""
        vectors, _ = self.embed_hashed([(content_hash(text), text) for text in texts])
        return vectors

    def lookup(self, keys: Sequence[str]) -> dict[str, Vectors]:
        """The vectors among ``keys`` held in memory (computed, being written) or cached.

        Args:
            keys: content hashes.

        Returns:
            ``{content_hash: vector}`` for the keys found.
        """
        with self._held_lock:
            found = {key: self._held[key] for key in keys if key in self._held}
        rest = [key for key in keys if key not in found]
        if rest:
            for key, vec in self.cache.get_many(self.model_id, rest).items():
                if vec.shape[0] == self.dimension:
                    found[key] = vec
        return found

    def compute(self, items: Sequence[tuple[str, str]], aside: bool = False) -> Vectors:
        """Embed ``(content_hash, text)`` pairs with the model; hold the vectors until
        ``remember`` stores them (``lookup`` finds them meanwhile).

        Args:
            items: distinct content hashes and their texts.
            aside: embed on one core (``embed_aside``; the same vectors).

        Returns:
            The ``(len(items), dimension)`` vectors in order.
        """
        texts = [text for _, text in items]
        vectors = embed_aside(self.inner, texts) if aside else self.inner.embed(texts)
        with self._held_lock:
            self._held.update(zip((key for key, _ in items), vectors, strict=True))
        return vectors

    def remember(self, keys: Sequence[str], vectors: Vectors) -> None:
        """Write computed vectors to the cache (one transaction), then stop holding them."""
        try:
            self.cache.put_many(self.model_id, zip(keys, vectors, strict=True))
        finally:
            with self._held_lock:
                for key in keys:
                    self._held.pop(key, None)

    def embed_queries_alone(self, texts: Sequence[str]) -> Vectors:
        """``embed_queries`` on every core, when the model has such a side (never cached)."""
        return embed_queries(self.inner, texts, alone=True)

    def embed_queries(self, texts: Sequence[str]) -> Vectors:
        """Embed search queries: a query side (``QueryEmbedder``) is never cached.

        The cache holds document vectors (``planvec.embed.base``): a query vector stored
        under the text's hash would later be served as the document vector of a task with
        the same text. An embedder without a query side embeds a query as a document like
        any other (``embed``).
        """
        if isinstance(self.inner, QueryEmbedder):
            return embed_queries(self.inner, texts)
        return self.embed(texts)

    def embed_hashed(self, items: Sequence[tuple[str, str]]) -> tuple[Vectors, int]:
        """Embed ``(content_hash, text)`` pairs, reusing cached vectors.

        The hash must identify exactly the text that is embedded. Identical hashes in
        one call are embedded once.

        Args:
            items: ``(content_hash, text)`` pairs.

        Returns:
            The ``(len(items), dimension)`` vectors in order, and how many texts were
            actually embedded (the rest came from the cache or were duplicates).
        """
        out = np.zeros((len(items), self.dimension), dtype=np.float32)
        if not items:
            return out, 0
        first_text: dict[str, str] = {}
        for key, text in items:
            first_text.setdefault(key, text)
        known = {
            key: vec
            for key, vec in self.cache.get_many(self.model_id, first_text).items()
            if vec.shape[0] == self.dimension
        }
        missing = [key for key in first_text if key not in known]
        for start in range(0, len(missing), self.chunk_size):
            keys = missing[start : start + self.chunk_size]
            fresh = self.inner.embed([first_text[key] for key in keys])
            self.cache.put_many(self.model_id, zip(keys, fresh, strict=True))
            known.update(zip(keys, fresh, strict=True))
        for row, (key, _) in enumerate(items):
            out[row] = known[key]
        return out, len(missing)
