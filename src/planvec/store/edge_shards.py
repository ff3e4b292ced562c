"""The shard cache of the Edge backend: open, create, lay out, flush and close shards.

``EdgeStore`` (``planvec.store.edge``) builds the ``VectorStore`` calls on top of it; the
durability and locking rules are described there.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import threading
import time
from pathlib import Path
from typing import Any

from planvec.errors import (
    REBUILD_HINT,
    CollectionNotFound,
    IndexDamaged,
    IndexLocked,
    StoreError,
)
from planvec.store.base import (
    DENSE_VECTOR,
    SPARSE_VECTOR,
    CollectionInfo,
    CollectionSpec,
)
from planvec.store.common import Instrumented
from planvec.store.edge_convert import (
    SEGMENT_POINTS,
    check_name,
    edge_config,
    index_schemas,
    write_json_atomic,
)
from planvec.store.observe import Observer
from planvec.store.retry import RetryPolicy

#: bump when the closed-state stamp changes shape (older stamps are then ignored)
STAMP_FORMAT = 1


def files_signature(folder: Path) -> str:
    """A digest of every file under ``folder``: relative path, size, mtime, ctime, inode.

    Any write, replacement, deletion or restore of a file changes it (a restore from a
    backup keeps the mtime, never the ctime or the inode)."""
    digest = hashlib.sha256()
    for where, dirs, files in os.walk(folder):
        dirs.sort()
        for name in sorted(files):
            full = os.path.join(where, name)
            st = os.stat(full)
            rel = os.path.relpath(full, folder)
            digest.update(
                f"{rel}\0{st.st_size}\0{st.st_mtime_ns}\0{st.st_ctime_ns}\0{st.st_ino}\n".encode(
                    "utf-8", "surrogateescape"
                )
            )
    return digest.hexdigest()


class EdgeShards(Instrumented):
    """Open Edge shards by collection name, their layouts, and the flush policy."""

    def __init__(
        self,
        index_dir: Path,
        *,
        policy: RetryPolicy | None = None,
        observer: Observer | None = None,
        batch_points: int = 1024,
        durable_writes: bool = False,
        flush_interval: float = 30.0,
        segment_points: int | None = SEGMENT_POINTS,
    ) -> None:
        """Open (lazily) the collections under ``index_dir``.

        Args:
            index_dir: the index directory (created on first write).
            policy: retry policy (Edge failures are rarely transient; faults can be injected).
            observer: receives one event per operation.
            batch_points: most points per update call.
            durable_writes: flush after every write call (power-loss safe, slow).
            flush_interval: otherwise flush when this many seconds passed since the last.
            segment_points: optimize a shard as soon as this many points were upserted into
                it since this store last optimized it (``None``: only when asked), which
                bounds the heap its appendable segment takes (see ``_after_write``).
        """
        self.index_dir = Path(index_dir)
        self.root = self.index_dir / "collections"
        self.location = str(self.index_dir)
        self.policy = policy or RetryPolicy(attempts=1)
        self.observer = observer
        self.batch_points = batch_points
        self._shards: dict[str, Any] = {}
        self._layouts: dict[str, dict[str, Any]] = {}
        self._lock = threading.RLock()
        self._closed = False
        self.durable_writes = durable_writes
        self.flush_interval = flush_interval
        self._last_flush = time.monotonic()
        self._dirty: set[int] = set()
        self.segment_points = segment_points
        self._unsealed: dict[int, int] = {}

    def _after_write(self, shard: Any, upserted: int = 0) -> None:
        """Flush when writes must be durable or the last flush is old (bounds WAL replay).

        Every upserted point lands in the shard's one appendable segment, whose id tracker,
        sparse index and payload indexes live on the heap (~3.5 KB a point measured) until
        an optimize turns it into an indexed, memory-mapped segment and opens a fresh one;
        Edge has no background optimizer. So after ``segment_points`` upserted points the
        shard is optimized here, in the writer's call: a first index of 1M tasks builds
        ten bounded segments instead of holding 1M points on the heap and then indexing
        them in one build (docs/store.md, "Edge: memory").
        """
        now = time.monotonic()
        if self.durable_writes or now - self._last_flush >= self.flush_interval:
            shard.flush()
            self._last_flush = now
            self._dirty.discard(id(shard))
        else:
            self._dirty.add(id(shard))
        if upserted and self.segment_points:
            unsealed = self._unsealed.get(id(shard), 0) + upserted
            if unsealed >= self.segment_points:
                self._observe("optimize", shard.optimize, lambda _: unsealed)
                unsealed = 0
            self._unsealed[id(shard)] = unsealed

    def _path(self, name: str) -> Path:
        return self.root / check_name(name)

    def _manifest_path(self, name: str) -> Path:
        return self.root / f"{check_name(name)}.manifest.json"

    def _stamp_path(self, name: str) -> Path:
        # a leading dot: no collection name can start with one, so no directory collides
        return self.root / f".{check_name(name)}.closed.json"

    def closed_count(self, name: str) -> int | None:
        """The point count of ``name`` without loading its shard, when that is known for sure.

        Each clean ``close`` records the count with a signature of the shard's files
        (``files_signature``); while the files are exactly as that close left them, the
        count still holds. ``None`` when the collection is open here, was never closed
        cleanly, or anything touched its files since (another process loading or writing
        it, a crash, a restore): then only loading the shard tells.
        """
        if name in self._shards:
            return None
        try:
            stamp = json.loads(self._stamp_path(name).read_text(encoding="utf-8"))
            if not isinstance(stamp, dict) or stamp.get("format") != STAMP_FORMAT:
                return None
            if stamp.get("files") != files_signature(self._path(name)):
                return None
            points = stamp.get("points")
        except (OSError, ValueError):
            return None
        return points if isinstance(points, int) and points >= 0 else None

    def _close_shard(self, name: str, shard: Any, dirty: bool) -> None:
        """Flush (if written) and close one shard; stamp its count when all went well."""
        import qdrant_edge as qe

        points: int | None = None
        with contextlib.suppress(Exception):
            points = int(shard.count(qe.CountRequest(exact=True, filter=None)))
        if dirty:
            try:
                shard.flush()
            except Exception:
                points = None  # not on disk as counted: no stamp
        try:
            shard.close()
        except Exception:
            return
        if points is None:
            return
        with contextlib.suppress(OSError, ValueError):
            signature = files_signature(self._path(name))
            write_json_atomic(
                self._stamp_path(name),
                {"format": STAMP_FORMAT, "points": points, "files": signature},
            )

    def _forget_stamp(self, name: str) -> None:
        """The shard is about to be loaded, created or dropped: its stamp no longer holds."""
        with contextlib.suppress(OSError):
            self._stamp_path(name).unlink(missing_ok=True)

    def _layout(self, name: str) -> dict[str, Any] | None:
        if name in self._layouts:
            return self._layouts[name]
        config = self._path(name) / "edge_config.json"
        try:
            data = json.loads(config.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as exc:
            raise IndexDamaged(f"cannot read {config}: {exc}; {REBUILD_HINT}") from exc
        if not isinstance(data, dict):
            raise IndexDamaged(f"{config} is not a JSON object; {REBUILD_HINT}")
        self._layouts[name] = data
        return data

    def _open(self, name: str) -> Any:
        if self._closed:
            raise StoreError("the store is closed")
        with self._lock:
            shard = self._shards.get(name)
            if shard is not None:
                return shard
            if self._layout(name) is None:
                raise CollectionNotFound(
                    f"collection {name!r} does not exist in {self.index_dir}: run `planvec index`"
                    " first or check --index/--collection"
                )
            import qdrant_edge as qe

            self._forget_stamp(name)
            try:
                shard = qe.EdgeShard.load(str(self._path(name)))
            except Exception as exc:
                raise self._open_error(name, exc) from exc
            self._shards[name] = shard
            self._unsealed.pop(id(shard), None)  # ids of closed shards get reused
            return shard

    def _open_error(self, name: str, exc: Exception) -> Exception:
        text = str(exc)
        if "WouldBlock" in text or "lock" in text.lower():
            return IndexLocked(
                f"collection {name!r} in {self.index_dir} is open in another process:"
                " wait for it to finish or use another --index"
            )
        return IndexDamaged(
            f"cannot open collection {name!r} in {self.index_dir}, its files are damaged "
            f"({text}); {REBUILD_HINT}"
        )

    def _create(self, name: str, spec: CollectionSpec) -> None:
        import qdrant_edge as qe

        path = self._path(name)
        path.parent.mkdir(parents=True, exist_ok=True)
        with self._lock:
            self._forget_stamp(name)
            try:
                shard = qe.EdgeShard.create(str(path), edge_config(spec))
            except Exception as exc:
                raise self._open_error(name, exc) from exc
            self._shards[name] = shard
            self._unsealed.pop(id(shard), None)
            self._layouts.pop(name, None)

    def _ensure_indexes(self, name: str, spec: CollectionSpec) -> None:
        import qdrant_edge as qe

        shard = self._open(name)
        existing = set(shard.info().payload_schema)
        missing = [(f, schema) for f, schema in index_schemas(spec) if f not in existing]
        if not missing:
            return

        def apply() -> None:
            for field_name, schema in missing:
                shard.update(qe.UpdateOperation.create_field_index(field_name, schema))
            shard.flush()

        self._call("ensure_collection", apply)

    def _static_info(self, name: str) -> CollectionInfo | None:
        """Dimension/distance/sparse from ``edge_config.json`` (points left at 0)."""
        layout = self._layout(name)
        if layout is None:
            return None
        vectors = layout.get("vectors") or {}
        dense: dict[str, Any] = (
            vectors.get(DENSE_VECTOR) or vectors.get("") or next(iter(vectors.values()), {})
        )
        return CollectionInfo(
            name=name,
            points=0,
            dimension=int(dense.get("size", 0)),
            distance=str(dense.get("distance", "")).lower(),
            sparse=SPARSE_VECTOR in (layout.get("sparse_vectors") or {}),
            named_vectors="" not in vectors,
        )

    def flush(self) -> None:
        """Flush every open shard to disk (fsync); ``close`` does it too."""
        with self._lock:
            for shard in self._shards.values():
                shard.flush()
            self._dirty.clear()
            self._last_flush = time.monotonic()

    def close(self) -> None:
        """Flush and close every shard; idempotent."""
        with self._lock:
            shards, self._shards = self._shards, {}
            self._closed = True
            self._unsealed.clear()
            for name, shard in shards.items():
                # a read-only session skips the costly flush
                self._close_shard(name, shard, id(shard) in self._dirty)
            self._dirty.clear()
