"""The embedded backend: Qdrant Edge (``qdrant-edge-py``), in-process, on disk.

Layout under the index directory::

    <index_dir>/collections/<name>/                one Edge shard (segments/, wal/, config)
    <index_dir>/collections/<name>.manifest.json   the manifest, replaced atomically
    <index_dir>/collections/.<name>.closed.json    the point count at the last clean close,
                                                   with a signature of the shard's files
                                                   (``closed_count``: a no-op re-run reads
                                                   it instead of loading the shard)

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

import functools
import json
import os
import shutil
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from planvec.errors import REBUILD_HINT, CollectionNotFound, IndexDamaged, StoreError
from planvec.store.base import (
    CollectionInfo,
    CollectionSpec,
    Filter,
    PointId,
    PointRecord,
    ScoredPoint,
    SearchRequest,
    StoreHealth,
)
from planvec.store.common import batched, check_spec, normalize_id, observed, payload_selector
from planvec.store.edge_aliases import EdgeAliases
from planvec.store.edge_convert import (
    edge_filter,
    edge_hit,
    edge_point,
    edge_query,
    edge_record,
    write_json_atomic,
)


class EdgeStore(EdgeAliases):
    """``VectorStore`` on Qdrant Edge: one shard directory per collection."""

    backend = "edge"

    # -- collections ---------------------------------------------------------------------------

    @observed("ensure_collection")
    def ensure_collection(self, name: str, spec: CollectionSpec) -> None:
        """Create ``name`` (named dense + sparse IDF vectors, payload indexes) or check it."""
        info = self.collection_info(name)
        if info is None:
            self._create(name, spec)
        else:
            check_spec(name, info, spec)
        self._ensure_indexes(name, spec)

    def collection_info(self, name: str) -> CollectionInfo | None:
        """Facts about ``name`` or ``None``."""
        info = self._static_info(name)
        if info is None:
            return None
        shard = self._open(name)
        points = self._call("collection_info", lambda: shard.info().points_count)
        return replace(info, points=int(points))

    def list_collections(self) -> list[str]:
        """Names of the shard directories under ``<index_dir>/collections``."""
        if not self.root.is_dir():
            return []
        return sorted(p.name for p in self.root.iterdir() if (p / "edge_config.json").is_file())

    def drop_collection(self, name: str) -> None:
        """Close and delete the shard directory and the manifest."""
        self._drop(self._path(name), name)

    @observed("drop_collection")
    def _drop(self, path: Path, name: str) -> None:
        with self._lock:
            shard = self._shards.pop(name, None)
            self._layouts.pop(name, None)
            if shard is not None:
                shard.close()
            self._forget_stamp(name)
            if path.exists():
                shutil.rmtree(path)
            self._manifest_path(name).unlink(missing_ok=True)

    # -- points --------------------------------------------------------------------------------

    @observed("upsert", points=lambda n, *_, **__: n)
    def upsert(self, name: str, points: Iterable[PointRecord]) -> int:
        """Insert or replace points in batches (WAL-logged); one flush before returning."""
        import qdrant_edge as qe

        info = self._static_info(name)
        if info is None:
            raise CollectionNotFound(f"collection {name!r} does not exist: ensure it first")
        shard = self._open(name)
        total = 0
        for batch in batched(points, self.batch_points, max_bytes=None):  # no request size
            converted = [edge_point(name, p, info) for p in batch]
            operation = qe.UpdateOperation.upsert_points(converted)
            self._call("upsert", functools.partial(shard.update, operation))
            total += len(batch)
        self._call("upsert", lambda: self._after_write(shard, total))
        return total

    def retrieve(
        self,
        name: str,
        ids: Sequence[PointId],
        *,
        with_vectors: bool = False,
        payload_fields: Sequence[str] | None = None,
    ) -> list[PointRecord]:
        """The existing points among ``ids`` (only ``payload_fields`` when given)."""
        wanted = [normalize_id(i) for i in ids]
        return self._retrieve(name, wanted, with_vectors, payload_selector(payload_fields))

    @observed("retrieve", points=lambda found, *_, **__: len(found))
    def _retrieve(
        self, name: str, wanted: list[Any], with_vectors: bool, with_payload: bool | list[str]
    ) -> list[PointRecord]:
        if not wanted:
            return []
        shard = self._open(name)
        records = self._call(
            "retrieve",
            lambda: shard.retrieve(wanted, with_payload=with_payload, with_vector=with_vectors),
        )
        return [edge_record(r) for r in records]

    def delete(
        self, name: str, *, ids: Sequence[PointId] | None = None, filter: Filter | None = None
    ) -> None:
        """Delete by ids and/or filter, then flush."""
        self._delete(name, [normalize_id(i) for i in ids or ()], filter)

    @observed("delete", points=lambda _, name, wanted, filter: len(wanted))
    def _delete(self, name: str, wanted: list[Any], filter: Filter | None) -> None:
        import qdrant_edge as qe

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

    def set_payload(
        self, name: str, payloads: Mapping[PointId, dict[str, Any]], *, merge: bool = False
    ) -> None:
        """Overwrite (or ``merge`` into) payloads of existing points (missing ids skipped)."""
        self._set_payload(name, [(normalize_id(k), v) for k, v in payloads.items()], merge)

    @observed("set_payload", points=lambda _, name, items, merge: len(items))
    def _set_payload(
        self, name: str, items: list[tuple[PointId, dict[str, Any]]], merge: bool
    ) -> None:
        import qdrant_edge as qe

        if not items:
            return
        shard = self._open(name)
        ids = [pid for pid, _ in items]
        found = self._call(
            "set_payload", lambda: shard.retrieve(ids, with_payload=False, with_vector=False)
        )
        present = {normalize_id(r.id) for r in found}
        operation = (
            qe.UpdateOperation.set_payload if merge else qe.UpdateOperation.overwrite_payload
        )

        def apply() -> None:
            for pid, payload in items:
                if pid in present:
                    shard.update(operation([pid], dict(payload)))
            self._after_write(shard)

        self._call("set_payload", apply)

    @observed("search", points=lambda hits, *_, **__: len(hits))
    def search(self, name: str, request: SearchRequest) -> list[ScoredPoint]:
        """Dense, sparse or hybrid (Edge's weighted RRF) search with filters."""
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

    def warm(
        self, name: str, stop: Callable[[], bool] | None = None, batch_size: int = 1024
    ) -> int:
        """Read every point's payload once, so that searches do not pay for it later.

        Why: a search reads the payloads of its ~60 candidates, and the first read of a
        point's payload in a process costs several times the next ones (Edge maps its payload
        pages on first use): at 100,000 tasks one search's candidate read took 4.9 ms at p50
        cold and 1.0 ms warm, measured. One pass over the payload store (~3 s at 100k, one
        core) pays that once, ahead of the searches; ``planvec serve`` runs it at start-up,
        on a background thread. Returns the points read (fewer when ``stop()`` said so, which
        is asked between pages).
        """
        # an empty key list still reads every payload (Qdrant's semantics): the point
        points = self.scroll(name, with_payload=(), batch_size=batch_size)
        read = 0
        while read % batch_size or stop is None or not stop():  # asked between pages
            if next(points, None) is None:
                break
            read += 1
        return read

    @observed("scroll", points=lambda page, *_, **__: len(page[0]))
    def _scroll_page(self, shard: Any, request: Any) -> tuple[list[Any], Any]:
        found: tuple[list[Any], Any] = self._call("scroll", lambda: shard.scroll(request))
        return found

    @observed("count")
    def count(self, name: str, filter: Filter | None = None) -> int:
        """Exact count of points matching ``filter``."""
        import qdrant_edge as qe

        shard = self._open(name)
        request = qe.CountRequest(exact=True, filter=edge_filter(filter))
        return int(self._call("count", lambda: shard.count(request)))

    # -- manifests, health ---------------------------------------------------------------------

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
        self._write_manifest(self._manifest_path(name), manifest)

    @observed("write_manifest")
    def _write_manifest(self, path: Path, manifest: Mapping[str, Any]) -> None:
        try:
            write_json_atomic(path, manifest)
        except OSError as exc:
            raise StoreError(f"cannot write manifest {path}: {exc.strerror}") from exc

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

    def optimize(self, name: str) -> bool:
        """Build HNSW/merge segments of ``name`` (Edge has no background optimizer).

        Returns:
            Whether anything was optimized.
        """
        shard = self._open(name)
        optimized = bool(self._observe("optimize", lambda: shard.optimize(), lambda _: 0))
        self._unsealed.pop(id(shard), None)
        return optimized
