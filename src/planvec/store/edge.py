"""The embedded backend: Qdrant Edge (``qdrant-edge-py``), in-process, on disk.

Layout under the index directory::

    <index_dir>/collections/<name>/                one Edge shard (segments/, wal/, config)
    <index_dir>/collections/<name>.manifest.json   the manifest, replaced atomically

Durability: Edge appends every update to its write-ahead log (in the OS page cache) and
replays it when the shard is loaded again, so a write that returned survives a *process*
crash (SIGKILL, OOM). ``flush()`` (segments to disk, fsync) costs 0.1-0.5 s here, so it runs
at most every ``flush_interval`` seconds and on ``flush()``/``close()``; with
``durable_writes=True`` every write call flushes (survives power loss; ~50x slower sync).
See docs/store.md.

Exclusive access: an open shard holds a lock on its WAL; a second process opening the same
collection fails (translated to ``IndexLocked``). One process per index directory.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import threading
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import replace
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
    Filter,
    PointId,
    PointRecord,
    ScoredPoint,
    SearchRequest,
    StoreHealth,
)
from planvec.store.common import Instrumented, batched, check_spec, normalize_id
from planvec.store.edge_convert import (
    check_name,
    edge_config,
    edge_filter,
    edge_hit,
    edge_point,
    edge_query,
    edge_record,
    index_schemas,
    write_json_atomic,
)
from planvec.store.observe import Observer
from planvec.store.retry import RetryPolicy


class EdgeStore(Instrumented):
    """``VectorStore`` on Qdrant Edge: one shard directory per collection."""

    backend = "edge"

    def __init__(
        self,
        index_dir: Path,
        *,
        policy: RetryPolicy | None = None,
        observer: Observer | None = None,
        batch_points: int = 1024,
        durable_writes: bool = False,
        flush_interval: float = 30.0,
    ) -> None:
        """Open (lazily) the collections under ``index_dir``.

        Args:
            index_dir: the index directory (created on first write).
            policy: retry policy (Edge failures are rarely transient; faults can be injected).
            observer: receives one event per operation.
            batch_points: most points per update call.
            durable_writes: flush after every write call (power-loss safe, slow).
            flush_interval: otherwise flush when this many seconds passed since the last.
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

    def _after_write(self, shard: Any) -> None:
        """Flush when writes must be durable or the last flush is old (bounds WAL replay)."""
        now = time.monotonic()
        if self.durable_writes or now - self._last_flush >= self.flush_interval:
            shard.flush()
            self._last_flush = now
            self._dirty.discard(id(shard))
        else:
            self._dirty.add(id(shard))

    # -- shards -----------------------------------------------------------------------------

    def _path(self, name: str) -> Path:
        return self.root / check_name(name)

    def _manifest_path(self, name: str) -> Path:
        return self.root / f"{check_name(name)}.manifest.json"

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

            try:
                shard = qe.EdgeShard.load(str(self._path(name)))
            except Exception as exc:
                raise self._open_error(name, exc) from exc
            self._shards[name] = shard
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

    # -- collections ------------------------------------------------------------------------

    def ensure_collection(self, name: str, spec: CollectionSpec) -> None:
        """Create ``name`` (named dense + sparse IDF vectors, payload indexes) or check it."""

        def run() -> None:
            info = self.collection_info(name)
            if info is None:
                self._create(name, spec)
            else:
                check_spec(name, info, spec)
            self._ensure_indexes(name, spec)

        self._observe("ensure_collection", run, lambda _: 0)

    def _create(self, name: str, spec: CollectionSpec) -> None:
        import qdrant_edge as qe

        path = self._path(name)
        path.parent.mkdir(parents=True, exist_ok=True)
        with self._lock:
            try:
                shard = qe.EdgeShard.create(str(path), edge_config(spec))
            except Exception as exc:
                raise self._open_error(name, exc) from exc
            self._shards[name] = shard
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

    def collection_info(self, name: str) -> CollectionInfo | None:
        """Facts about ``name`` or ``None``."""
        info = self._static_info(name)
        if info is None:
            return None
        shard = self._open(name)
        points = self._call("collection_info", lambda: shard.info().points_count)
        return replace(info, points=int(points))

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

    def list_collections(self) -> list[str]:
        """Names of the shard directories under ``<index_dir>/collections``."""
        if not self.root.is_dir():
            return []
        return sorted(p.name for p in self.root.iterdir() if (p / "edge_config.json").is_file())

    def drop_collection(self, name: str) -> None:
        """Close and delete the shard directory and the manifest."""
        path = self._path(name)

        def run() -> None:
            with self._lock:
                shard = self._shards.pop(name, None)
                self._layouts.pop(name, None)
                if shard is not None:
                    shard.close()
                if path.exists():
                    shutil.rmtree(path)
                self._manifest_path(name).unlink(missing_ok=True)

        self._observe("drop_collection", run, lambda _: 0)

    # -- points -----------------------------------------------------------------------------

    def upsert(self, name: str, points: Iterable[PointRecord]) -> int:
        """Insert or replace points in batches (WAL-logged); one flush before returning."""
        import qdrant_edge as qe

        def run() -> int:
            info = self._static_info(name)
            if info is None:
                raise CollectionNotFound(f"collection {name!r} does not exist: ensure it first")
            shard = self._open(name)
            total = 0
            for batch in batched(points, self.batch_points):
                converted = [edge_point(name, p, info) for p in batch]

                def apply(converted: list[Any] = converted) -> None:
                    shard.update(qe.UpdateOperation.upsert_points(converted))

                self._call("upsert", apply)
                total += len(batch)
            self._call("upsert", lambda: self._after_write(shard))
            return total

        return self._observe("upsert", run, lambda n: n)

    def retrieve(
        self, name: str, ids: Sequence[PointId], *, with_vectors: bool = False
    ) -> list[PointRecord]:
        """The existing points among ``ids``."""
        wanted: list[Any] = [normalize_id(i) for i in ids]

        def run() -> list[PointRecord]:
            if not wanted:
                return []
            shard = self._open(name)
            records = self._call(
                "retrieve",
                lambda: shard.retrieve(wanted, with_payload=True, with_vector=with_vectors),
            )
            return [edge_record(r) for r in records]

        return self._observe("retrieve", run, len)

    def delete(
        self, name: str, *, ids: Sequence[PointId] | None = None, filter: Filter | None = None
    ) -> None:
        """Delete by ids and/or filter, then flush."""
        import qdrant_edge as qe

        wanted: list[Any] = [normalize_id(i) for i in ids or ()]

        def run() -> None:
            shard = self._open(name)
            if not wanted and not filter:
                return

            def apply() -> None:
                if wanted:
                    shard.update(qe.UpdateOperation.delete_points(wanted))
                if filter:
                    shard.update(qe.UpdateOperation.delete_points_by_filter(edge_filter(filter)))
                self._after_write(shard)

            self._call("delete", apply)

        self._observe("delete", run, lambda _: len(wanted))

    def set_payload(
        self, name: str, payloads: Mapping[PointId, dict[str, Any]], *, merge: bool = False
    ) -> None:
        """Overwrite (or ``merge`` into) payloads of existing points (missing ids skipped)."""
        import qdrant_edge as qe

        items = [(normalize_id(k), v) for k, v in payloads.items()]

        def run() -> None:
            if not items:
                return
            shard = self._open(name)
            present = {
                normalize_id(r.id)
                for r in self._call(
                    "set_payload",
                    lambda: shard.retrieve(
                        [pid for pid, _ in items], with_payload=False, with_vector=False
                    ),
                )
            }

            operation = (
                qe.UpdateOperation.set_payload if merge else qe.UpdateOperation.overwrite_payload
            )

            def apply() -> None:
                for pid, payload in items:
                    if pid in present:
                        shard.update(operation([pid], dict(payload)))
                self._after_write(shard)

            self._call("set_payload", apply)

        self._observe("set_payload", run, lambda _: len(items))

    def search(self, name: str, request: SearchRequest) -> list[ScoredPoint]:
        """Dense, sparse or hybrid (Edge's weighted RRF) search with filters."""
        return self._observe("search", lambda: self._search(name, request), len)

    def _search(self, name: str, request: SearchRequest) -> list[ScoredPoint]:
        if request.dense is None and request.sparse is None:
            raise StoreError("search needs a dense vector, a sparse vector, or both")
        if request.limit <= 0:
            return []
        info = self._static_info(name)
        if info is None:
            raise CollectionNotFound(f"collection {name!r} does not exist: run `planvec index`")
        query = edge_query(name, request, info)
        if query is None:
            return []
        shard = self._open(name)
        hits = self._call("search", lambda: shard.query(query))
        return [edge_hit(hit, request.with_vectors) for hit in hits]

    def scroll(
        self,
        name: str,
        *,
        filter: Filter | None = None,
        with_vectors: bool = False,
        with_payload: bool | Sequence[str] = True,
        batch_size: int = 1024,
    ) -> Iterator[PointRecord]:
        """Every point matching ``filter``, page by page."""
        import qdrant_edge as qe

        shard = self._open(name)
        flt = edge_filter(filter)
        payload_sel: Any = with_payload if isinstance(with_payload, bool) else list(with_payload)
        offset: Any = None
        while True:
            request = qe.ScrollRequest(
                offset=offset,
                limit=batch_size,
                filter=flt,
                with_payload=payload_sel,
                with_vector=with_vectors,
            )
            page, offset = self._scroll_page(shard, request)
            for rec in page:
                yield edge_record(rec)
            if offset is None or not page:
                return

    def _scroll_page(self, shard: Any, request: Any) -> tuple[list[Any], Any]:
        def page() -> tuple[list[Any], Any]:
            found: tuple[list[Any], Any] = self._call("scroll", lambda: shard.scroll(request))
            return found

        return self._observe("scroll", page, lambda result: len(result[0]))

    def count(self, name: str, filter: Filter | None = None) -> int:
        """Exact count of points matching ``filter``."""
        import qdrant_edge as qe

        def run() -> int:
            shard = self._open(name)
            request = qe.CountRequest(exact=True, filter=edge_filter(filter))
            return int(self._call("count", lambda: shard.count(request)))

        return self._observe("count", run, lambda _: 0)

    # -- manifests, health, close -----------------------------------------------------------

    def read_manifest(self, name: str) -> dict[str, Any] | None:
        """The manifest JSON beside the shard, or ``None``."""
        path = self._manifest_path(name)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as exc:
            raise IndexDamaged(f"manifest {path} is unreadable ({exc}); {REBUILD_HINT}") from exc
        return data if isinstance(data, dict) else None

    def write_manifest(self, name: str, manifest: Mapping[str, Any]) -> None:
        """Replace the manifest atomically (temp file, fsync, rename)."""
        path = self._manifest_path(name)

        def run() -> None:
            try:
                write_json_atomic(path, manifest)
            except OSError as exc:
                raise StoreError(f"cannot write manifest {path}: {exc.strerror}") from exc

        self._observe("write_manifest", run, lambda _: 0)

    def health(self) -> StoreHealth:
        """Whether the index directory is usable and which collections it holds."""
        try:
            collections = tuple(self.list_collections())
            if self.index_dir.exists():
                ok = os.access(self.index_dir, os.R_OK | os.W_OK)
                detail = "" if ok else f"{self.index_dir} is not readable and writable"
            else:
                ok, detail = True, f"{self.index_dir} does not exist yet (created on first index)"
            return StoreHealth(
                ok=ok,
                backend=self.backend,
                location=self.location,
                detail=detail,
                collections=collections,
            )
        except Exception as exc:
            return StoreHealth(
                ok=False, backend=self.backend, location=self.location, detail=str(exc)
            )

    def flush(self) -> None:
        """Flush every open shard to disk (fsync); ``close`` does it too."""
        with self._lock:
            for shard in self._shards.values():
                shard.flush()
            self._dirty.clear()
            self._last_flush = time.monotonic()

    def optimize(self, name: str) -> bool:
        """Build HNSW/merge segments of ``name`` (Edge has no background optimizer).

        Returns:
            Whether anything was optimized.
        """
        shard = self._open(name)
        return bool(self._observe("optimize", lambda: shard.optimize(), lambda _: 0))

    def close(self) -> None:
        """Flush and close every shard; idempotent."""
        with self._lock:
            shards, self._shards = self._shards, {}
            self._closed = True
            for shard in shards.values():
                if id(shard) in self._dirty:  # a read-only session skips the costly flush
                    with contextlib.suppress(Exception):
                        shard.flush()
                with contextlib.suppress(Exception):
                    shard.close()
            self._dirty.clear()

    # -- aliases (see planvec.store.aliases; used by `planvec migrate-model`) ---------------

    def aliases(self) -> dict[str, str]:
        """``{alias: collection}`` from ``<index_dir>/collections/aliases.json``."""
        from planvec.store.aliases import read_alias_file

        return read_alias_file(self.root)

    def set_alias(self, alias: str, name: str) -> None:
        """Point ``alias`` at collection ``name`` (one atomic file replace).

        Unlike a server, an alias may shadow a collection directory of the same name: that
        is how an index created before aliases is switched without copying it.
        """
        from planvec.store.aliases import ALIAS_FILE, read_alias_file

        check_name(alias)
        if self._layout(name) is None:
            raise CollectionNotFound(f"cannot point alias {alias!r} at missing collection {name!r}")

        def run() -> None:
            with self._lock:
                mapping = read_alias_file(self.root)
                if name in mapping:
                    raise StoreError(f"{name!r} is an alias: point {alias!r} at a collection")
                mapping[alias] = name
                write_json_atomic(self.root / ALIAS_FILE, {"aliases": mapping})

        self._observe("set_alias", run, lambda _: 0)

    def delete_alias(self, alias: str) -> None:
        """Remove ``alias`` from the alias file (no error when missing)."""
        from planvec.store.aliases import ALIAS_FILE, read_alias_file

        def run() -> None:
            with self._lock:
                mapping = read_alias_file(self.root)
                if mapping.pop(alias, None) is not None:
                    write_json_atomic(self.root / ALIAS_FILE, {"aliases": mapping})

        self._observe("delete_alias", run, lambda _: 0)
