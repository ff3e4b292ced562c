"""The ``qdrant-client`` backends: a Qdrant server/cluster, ``memory://`` and local-disk mode.

* ``server``: ``http(s)://`` URL, API key (never logged), TLS verification, timeouts, optional
  gRPC; one client per store so HTTP connections are pooled and reused. Batches are uploaded
  by several threads (``parallel``) with ``wait=True``: a call returns only once every batch is
  acknowledged as applied.
* ``memory``: qdrant-client's in-memory engine, for tests; gone when the store closes.
* ``local``: qdrant-client's local mode on disk (``QdrantClient(path=...)``); one process per
  folder; used by benchmarks and to read collections written by the legacy scripts.

Manifests live in a side collection ``<name>__planvec_meta`` (one point, 1-d vector, payload
``{"manifest": "<json>"}``): upserting one point is atomic on every client backend, unlike
collection metadata, which merges keys.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import FIRST_EXCEPTION, Future, ThreadPoolExecutor, wait
from functools import partial
from typing import Any

from planvec.errors import CollectionNotFound, StoreError
from planvec.store.base import (
    CollectionInfo,
    CollectionSpec,
    Filter,
    PointId,
    PointRecord,
    StoreHealth,
)
from planvec.store.client_base import META_SUFFIX, ClientStoreBase
from planvec.store.client_convert import (
    client_filter,
    client_point,
    collection_config,
    index_schemas,
)
from planvec.store.common import batched, check_spec, normalize_id, observed
from planvec.store.retry import translate

_META_ID = 1


class QdrantServerStore(ClientStoreBase):
    """``VectorStore`` on ``qdrant-client`` (server, in-memory or local-disk mode)."""

    # -- collections ------------------------------------------------------------------------

    @observed("ensure_collection")
    def ensure_collection(self, name: str, spec: CollectionSpec) -> None:
        """Create ``name`` (named dense + sparse IDF vectors, payload indexes) or check it."""
        info = self._info(name, required=False)
        if info is not None:
            check_spec(name, info, spec)
        else:
            self._create_missing("ensure_collection", name, **collection_config(spec))
        existing = set(
            self._req("ensure_collection", lambda: self.client.get_collection(name)).payload_schema
            or {}
        )
        for field_name, schema in index_schemas(spec):
            if field_name not in existing:
                self._req(
                    "ensure_collection",
                    partial(
                        self.client.create_payload_index,
                        name,
                        field_name=field_name,
                        field_schema=schema,
                        wait=True,
                    ),
                )

    def collection_info(self, name: str) -> CollectionInfo | None:
        """Facts about ``name`` or ``None``."""
        info = self._info(name, required=False)
        if info is None:
            return None
        points = self._req("collection_info", lambda: self.client.count(name, exact=True).count)
        return CollectionInfo(**{**info.__dict__, "points": int(points)})

    def list_collections(self) -> list[str]:
        """Names of the collections (side manifest collections hidden)."""
        names = self._req(
            "list_collections", lambda: [c.name for c in self.client.get_collections().collections]
        )
        return sorted(n for n in names if not n.endswith(META_SUFFIX))

    @observed("drop_collection")
    def drop_collection(self, name: str) -> None:
        """Delete ``name`` and its manifest collection."""
        self._infos.pop(name, None)
        for target in (name, name + META_SUFFIX):
            if self._req("drop_collection", partial(self.client.collection_exists, target)):
                self._req("drop_collection", partial(self.client.delete_collection, target))

    @observed("set_alias")
    def set_alias(self, alias: str, name: str) -> None:
        """Point ``alias`` at collection ``name`` atomically (blue/green rebuilds).

        Args:
            alias: the alias readers use.
            name: the collection it should resolve to.
        """
        from qdrant_client import models

        ops = [
            models.DeleteAliasOperation(delete_alias=models.DeleteAlias(alias_name=alias)),
            models.CreateAliasOperation(
                create_alias=models.CreateAlias(collection_name=name, alias_name=alias)
            ),
        ]
        existing = {a.alias_name for a in self.client.get_aliases().aliases}
        if alias not in existing:
            ops = ops[1:]
        self._req("set_alias", lambda: self.client.update_collection_aliases(ops))
        self._infos.pop(alias, None)

    def aliases(self) -> dict[str, str]:
        """``{alias: collection}`` for every alias."""
        found = self._req("aliases", lambda: self.client.get_aliases().aliases)
        return {a.alias_name: a.collection_name for a in found}

    # -- points -----------------------------------------------------------------------------

    @observed("upsert", points=lambda written, *_, **__: int(written))
    def upsert(self, name: str, points: Iterable[PointRecord]) -> int:
        """Insert or replace points; batches by count and size, ``parallel`` upload threads."""

        def send(batch: list[Any]) -> int:
            self._req("upsert", lambda: self.client.upsert(name, points=batch, wait=True))
            return len(batch)

        info = self._info(name)
        assert info is not None
        converted = (
            [client_point(name, p, info) for p in batch]
            for batch in batched(points, self.batch_points)
        )
        if self.parallel == 1:
            return sum(send(batch) for batch in converted)
        return self._parallel(send, converted)

    def _parallel(self, send: Callable[[list[Any]], int], batches: Iterator[list[Any]]) -> int:
        """Upload batches on ``parallel`` threads; raise the first error after in-flight ends."""
        total = 0
        with ThreadPoolExecutor(self.parallel, thread_name_prefix="planvec-upsert") as pool:
            inflight: set[Future[int]] = set()
            for batch in batches:
                inflight.add(pool.submit(send, batch))
                if len(inflight) >= 2 * self.parallel:
                    done, inflight = wait(inflight, return_when=FIRST_EXCEPTION)
                    for fut in done:
                        total += fut.result()
            for fut in inflight:
                total += fut.result()
        return total

    @observed("delete", points=lambda _, *__, ids=None, **___: len(ids or ()))
    def delete(
        self, name: str, *, ids: Sequence[PointId] | None = None, filter: Filter | None = None
    ) -> None:
        """Delete by ids and/or filter (``wait=True``)."""
        from qdrant_client import models

        wanted: list[Any] = [normalize_id(i) for i in ids or ()]
        self._info(name)
        if wanted:
            selector = models.PointIdsList(points=wanted)
            self._req("delete", lambda: self.client.delete(name, selector, wait=True))
        if filter:
            by_filter = models.FilterSelector(filter=client_filter(filter))
            self._req("delete", lambda: self.client.delete(name, by_filter, wait=True))

    @observed("set_payload", points=lambda _, __, payloads, **___: len(payloads))
    def set_payload(
        self, name: str, payloads: Mapping[PointId, dict[str, Any]], *, merge: bool = False
    ) -> None:
        """Overwrite (or ``merge`` into) payloads of existing points, in batch requests."""
        from qdrant_client import models

        items = [(normalize_id(k), v) for k, v in payloads.items()]
        if not items:
            return
        self._info(name)
        found = self._req(
            "set_payload",
            lambda: self.client.retrieve(
                name, ids=[pid for pid, _ in items], with_payload=False, with_vectors=False
            ),
        )
        present = {normalize_id(r.id) for r in found}

        def operation(pid: Any, payload: dict[str, Any]) -> Any:
            body = models.SetPayload(payload=dict(payload), points=[pid])
            if merge:
                return models.SetPayloadOperation(set_payload=body)
            return models.OverwritePayloadOperation(overwrite_payload=body)

        ops = [operation(pid, payload) for pid, payload in items if pid in present]
        for start in range(0, len(ops), self.batch_points):
            chunk = ops[start : start + self.batch_points]
            self._req(
                "set_payload", partial(self.client.batch_update_points, name, chunk, wait=True)
            )

    # -- manifests, health, close -----------------------------------------------------------

    @observed("read_manifest")
    def read_manifest(self, name: str) -> dict[str, Any] | None:
        """The manifest from the side collection, or ``None``."""
        meta = name + META_SUFFIX
        if not self._req("read_manifest", lambda: self.client.collection_exists(meta)):
            return None
        try:
            found = self._req(
                "read_manifest",
                lambda: self.client.retrieve(meta, ids=[_META_ID], with_payload=True),
            )
        except CollectionNotFound:  # dropped since the check (a drop or a model switch)
            return None
        if not found:
            return None
        try:
            data = json.loads((found[0].payload or {}).get("manifest", "null"))
        except ValueError as exc:
            raise StoreError(f"manifest of {name!r} is damaged: re-run `planvec index`") from exc
        return data if isinstance(data, dict) else None

    @observed("write_manifest")
    def write_manifest(self, name: str, manifest: Mapping[str, Any]) -> None:
        """Store the manifest as one point (atomic upsert) in ``<name>__planvec_meta``."""
        from qdrant_client import models

        meta = name + META_SUFFIX
        text = json.dumps(dict(manifest), ensure_ascii=False, sort_keys=True)
        params = models.VectorParams(size=1, distance=models.Distance.DOT)
        self._create_missing("write_manifest", meta, vectors_config=params)
        point = models.PointStruct(id=_META_ID, vector=[1.0], payload={"manifest": text})
        self._req("write_manifest", lambda: self.client.upsert(meta, [point], wait=True))

    def health(self) -> StoreHealth:
        """One ``get_collections`` call without retries; never raises."""
        try:
            with self._quiet():
                names = [c.name for c in self.client.get_collections().collections]
        except Exception as exc:
            error = translate(exc, backend=self.backend, location=self.location, operation="health")
            return StoreHealth(
                ok=False, backend=self.backend, location=self.location, detail=str(error)
            )
        return StoreHealth(
            ok=True,
            backend=self.backend,
            location=self.location,
            collections=tuple(sorted(n for n in names if not n.endswith(META_SUFFIX))),
        )

    def close(self) -> None:
        """Close the client (connections, local-mode files); idempotent."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
        with contextlib.suppress(Exception):  # closing must not fail a shutdown path
            self.client.close()

    @observed("delete_alias")
    def delete_alias(self, alias: str) -> None:
        """Remove ``alias`` (no error when missing); the collection stays."""
        from qdrant_client import models

        if alias in self.aliases():
            op = models.DeleteAliasOperation(delete_alias=models.DeleteAlias(alias_name=alias))
            self._req("delete_alias", lambda: self.client.update_collection_aliases([op]))
        self._infos.pop(alias, None)
