"""Export a collection to an archive, and import an archive into any backend, verified.

``export_collection`` streams the points (with vectors) out of the store into an archive
(see ``planvec.backup.archive``). ``import_archive`` verifies the whole archive first, refuses
to overwrite a non-empty collection unless ``force``, writes the points and the manifest, then
proves the result: the target's count and ``content_digest`` (ids + payloads) equal the
archive's, and every vector and sparse vector equals the archived one (float tolerance 1e-5:
a cosine collection may renormalise vectors on insert). Embedded -> server -> embedded is a
plain export then import.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from planvec.backup.archive import Archive, ArchiveWriter, read_archive
from planvec.backup.archive_format import (
    CACHE_REF,
    MANIFEST,
    SYNC_STATE,
    content_digest,
    point_digest,
)
from planvec.backup.point_compare import compare_points
from planvec.embedding_recipe import (
    BOOL_FIELDS,
    EMBED_RECIPE,
    INTEGER_FIELDS,
    KEYWORD_FIELDS,
    PAYLOAD_SCHEMA,
    TEXT_FIELDS,
)
from planvec.errors import ArchiveError, CollectionNotFound, ConfigError
from planvec.manifest import now_iso
from planvec.store.aliases import resolve_collection
from planvec.store.base import (
    CollectionInfo,
    CollectionSpec,
    PointRecord,
    SupportsAliases,
    VectorStore,
)

log = logging.getLogger(__name__)


@dataclass
class ExportReport:
    """What ``export_collection`` wrote."""

    archive: str
    collection: str
    physical: str
    points: int
    chunks: int
    bytes: int
    sha256: str
    content_digest: str
    seconds: float

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__, seconds=round(self.seconds, 3))


@dataclass
class ImportReport:
    """What ``import_archive`` restored, and whether the verification passed."""

    archive: str
    collection: str
    backend: str
    points: int = 0
    expected_points: int = 0
    content_digest_ok: bool = False
    vectors_checked: int = 0
    mismatches: list[str] = field(default_factory=list)
    replaced: bool = False
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return (
            self.points == self.expected_points and self.content_digest_ok and not self.mismatches
        )

    def to_dict(self) -> dict[str, Any]:
        out = dict(self.__dict__, seconds=round(self.seconds, 3), ok=self.ok)
        out["mismatches"] = self.mismatches[:50]
        return out


def _file_sha256(path: Path) -> str:
    import hashlib

    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def export_collection(
    store: VectorStore,
    collection: str,
    out: Path,
    *,
    logical: str | None = None,
    cache_entries: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> ExportReport:
    """Write every point of ``collection`` (vectors, sparse vectors, payloads) to ``out``.

    Args:
        store: the store to read.
        collection: the physical collection.
        logical: the name users know it by (an alias), recorded for the import.
        cache_entries: entries of the embedding cache for this model, when known.
        progress: called as ``progress(points written, points in the collection)`` every
            thousand points (a progress display).

    Returns:
        The report; the archive is complete (renamed into place) when this returns.

    Raises:
        CollectionNotFound: ``collection`` does not exist.
    """
    started = time.perf_counter()
    info = store.collection_info(collection)
    if info is None:
        raise CollectionNotFound(f"collection {collection!r} does not exist: nothing to export")
    manifest = store.read_manifest(collection)
    writer = ArchiveWriter(Path(out))
    try:
        points = store.scroll(collection, with_vectors=True)
        writer.add_points(points if progress is None else _counted(points, info.points, progress))
        writer.add_json(
            MANIFEST, _manifest_member(store, collection, logical or collection, info, manifest)
        )
        writer.add_json(SYNC_STATE, _sync_state(manifest))
        writer.add_json(CACHE_REF, _cache_ref(manifest, cache_entries))
        header = writer.commit({"collection": logical or collection})
    except BaseException:
        writer.abort()
        raise
    path = Path(out)
    return ExportReport(
        archive=str(path),
        collection=logical or collection,
        physical=collection,
        points=int(header["points"]),
        chunks=int(header["chunks"]),
        bytes=path.stat().st_size,
        sha256=_file_sha256(path),
        content_digest=str(header["content_digest"]),
        seconds=time.perf_counter() - started,
    )


def _counted(
    points: Iterable[PointRecord], total: int, progress: Callable[[int, int], None]
) -> Iterator[PointRecord]:
    """``points``, calling ``progress(done, total)`` every thousand and at the end."""
    done = 0
    for point in points:
        yield point
        done += 1
        if done % 1000 == 0:
            progress(done, total)
    progress(done, total)


def _manifest_member(
    store: VectorStore,
    collection: str,
    logical: str,
    info: CollectionInfo,
    manifest: Mapping[str, Any] | None,
) -> dict[str, Any]:
    """The archive's ``manifest.json``: names, collection shape and the index manifest."""
    return {
        "collection": logical,
        "physical": collection,
        "backend": store.backend,
        "info": {
            "dimension": info.dimension,
            "distance": info.distance,
            "sparse": info.sparse,
            "named_vectors": info.named_vectors,
        },
        "manifest": manifest,
    }


def _sync_state(manifest: Mapping[str, Any] | None) -> dict[str, Any]:
    """Sync state lives in the points (embed/payload/lexical hashes); this is its context."""
    m = manifest or {}
    return {
        "payload_schema": PAYLOAD_SCHEMA,
        "embed_recipe": EMBED_RECIPE,
        "lexical": m.get("lexical"),
        "plans": m.get("plans"),
        "last_sync": m.get("last_sync"),
        "per_point_fields": ["embed_hash", "payload_hash", "lexical_hash", "content_hash"],
    }


def _cache_ref(manifest: Mapping[str, Any] | None, entries: int | None) -> dict[str, Any]:
    m = manifest or {}
    return {
        "file": "embeddings.sqlite",
        "model": m.get("model"),
        "model_id": m.get("model_id"),
        "key": "payload.embed_hash = content_hash(embed_recipe, model family, text)",
        "embed_recipe": EMBED_RECIPE,
        "entries_for_model": entries,
        "note": "vectors are in the points; the cache is only a speed-up and is not archived",
    }


def archive_spec(archive: Archive) -> CollectionSpec:
    """The collection spec to restore an archive into (payload indexes for planvec data)."""
    info = archive.manifest["info"]
    planvec_data = isinstance(archive.manifest.get("manifest"), dict)
    return CollectionSpec(
        dimension=int(info["dimension"]),
        distance=info["distance"],
        sparse=bool(info.get("sparse", True)) or planvec_data,
        keyword_fields=KEYWORD_FIELDS if planvec_data else (),
        integer_fields=INTEGER_FIELDS if planvec_data else (),
        bool_fields=BOOL_FIELDS if planvec_data else (),
        text_fields=TEXT_FIELDS if planvec_data else (),
    )


def import_archive(
    store: VectorStore,
    archive_path: Path,
    *,
    collection: str | None = None,
    force: bool = False,
    progress: Callable[[int], None] | None = None,
) -> ImportReport:
    """Restore an archive into ``collection`` of ``store`` and verify the result.

    Args:
        store: the target store (any backend).
        archive_path: the archive written by ``export_collection``.
        collection: target name (default: the archived collection's name).
        force: replace a non-empty target collection (after the archive is verified).
        progress: called with the number of points written so far.

    Returns:
        The report; ``report.ok`` tells whether counts, digest and vectors all match.

    Raises:
        ArchiveError: the archive is invalid (nothing was written).
        ConfigError: the target holds points and ``force`` is not set.
    """
    started = time.perf_counter()
    archive = read_archive(Path(archive_path))
    logical = collection or str(archive.manifest.get("collection") or archive.header["collection"])
    # an alias (planvec migrate-model) is restored into the collection it names, and kept
    target = resolve_collection(store, logical)
    report = ImportReport(
        archive=str(archive_path),
        collection=logical,
        backend=store.backend,
        expected_points=archive.points,
    )
    report.replaced = _prepare_target(store, target, logical, archive, force=force)
    written = 0
    for chunk in archive.iter_chunks():  # each chunk is read back right after it is written
        written += store.upsert(target, chunk)
        _verify_chunk(store, target, chunk, report, _is_cosine(archive))
        if progress is not None:
            progress(written)
    _restore_manifest(store, target, archive)
    aliases = store if isinstance(store, SupportsAliases) else None
    if target != logical and aliases is not None and aliases.aliases().get(logical) != target:
        aliases.set_alias(logical, target)  # a server drops aliases with their collection
    _verify_totals(store, target, archive, report)
    report.seconds = time.perf_counter() - started
    return report


def _prepare_target(
    store: VectorStore, target: str, logical: str, archive: Archive, *, force: bool
) -> bool:
    """Create (or, with ``force``, empty) the target; whether existing points were replaced.

    Raises:
        ConfigError: the target holds points and ``force`` is not set.
    """
    existing = store.collection_info(target)
    replaced = False
    if existing is not None and existing.points > 0:
        if not force:
            raise ConfigError(
                f"collection {logical!r} already holds {existing.points} points: import into "
                "another --collection, or pass --force to replace it"
            )
        replaced = True
    if existing is not None and (force or existing.dimension != archive.dimension):
        store.drop_collection(target)
    store.ensure_collection(target, archive_spec(archive))
    return replaced


def _restore_manifest(store: VectorStore, target: str, archive: Archive) -> None:
    """The archived index manifest, with where it was restored from (planvec data only)."""
    index_manifest = archive.manifest.get("manifest")
    if isinstance(index_manifest, dict):
        restored = dict(index_manifest)
        restored["restored_from"] = {
            "archive_created_at": archive.header.get("created_at"),
            "content_digest": archive.header.get("content_digest"),
            "restored_at": now_iso(),
        }
        store.write_manifest(target, restored)


def verify_import(store: VectorStore, target: str, archive: Archive, report: ImportReport) -> None:
    """Fill ``report`` with the comparison of ``target`` against ``archive`` (all points)."""
    for chunk in archive.iter_chunks():
        _verify_chunk(store, target, chunk, report, _is_cosine(archive))
    _verify_totals(store, target, archive, report)


def _verify_totals(store: VectorStore, target: str, archive: Archive, report: ImportReport) -> None:
    """Count and content digest of the whole target (catches points the archive lacks)."""
    report.points = store.count(target)
    digests = [point_digest(p.id, p.payload) for p in store.scroll(target)]
    report.content_digest_ok = content_digest(digests) == archive.header.get("content_digest")


def _is_cosine(archive: Archive) -> bool:
    return str(archive.manifest.get("info", {}).get("distance", "")).lower() == "cosine"


def _verify_chunk(
    store: VectorStore,
    target: str,
    chunk: list[PointRecord],
    report: ImportReport,
    cosine: bool = False,
) -> None:
    """Read the chunk's points back and compare payloads, vectors and sparse vectors."""
    found = store.retrieve(target, [p.id for p in chunk], with_vectors=True)
    stored = {str(p.id): p for p in found}
    for expected in chunk:
        problem = compare_points(expected, stored.get(str(expected.id)), cosine)
        report.vectors_checked += 1
        if problem:
            report.mismatches.append(f"{expected.id}: {problem}")


def require_ok(report: ImportReport) -> None:
    """Raise ``ArchiveError`` when an import did not verify (used by migrations)."""
    if not report.ok:
        raise ArchiveError(
            f"import into {report.collection!r} did not verify: {report.points}/"
            f"{report.expected_points} points, digest {'ok' if report.content_digest_ok else 'bad'}"
            f", {len(report.mismatches)} mismatching points"
        )
