"""The portable archive of one collection: format, writing, reading and verification.

An archive is a plain (uncompressed) tar file, mode 0600, whose members are::

    points/000000.jsonl.gz   points, 2,048 per chunk, one JSON object per line:
                             {"id": "<uuid>"|int, "vector": "<base64 float32 LE>",
                              "sparse": {"indices": [...], "values": "<base64 float64 LE>"},
                              "payload": {...}}
    manifest.json            {"collection", "physical", "info": {dimension, distance, sparse,
                              named_vectors}, "manifest": <index manifest or null>}
    sync_state.json          payload schema, embedding recipe, lexical analyzer, plans, last sync
    embedding_cache.json     which embedding cache entries the vectors correspond to
    SHA256SUMS               "<sha256>  <size>  <member>" for every member above
    planvec-archive.json     the header: format, archive_version, counts, the sha256 of
                             SHA256SUMS (the whole-archive digest) and ``content_digest``

``content_digest`` hashes every point's id and payload (sorted by id), so an import can prove
the target holds exactly the archived points whatever the backend's scroll order.

Reading never trusts the file: member names are checked (no absolute path, no ``..``, only
regular files with the expected names, no duplicates), sizes are bounded, every member is
hashed against SHA256SUMS, SHA256SUMS against the header, and every point line is parsed and
validated, all before the caller writes anything. A newer ``archive_version`` is refused.
API keys are never written: an archive holds points and the manifest only.

The format itself (names, limits, point encoding, safe tar reading) is in
``planvec.backup.archive_format``.
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import io
import json
import os
import tarfile
import tempfile
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from planvec.backup.archive_format import (
    _JSON_MEMBERS,
    ARCHIVE_VERSION,
    CACHE_REF,
    CHECKSUMS,
    CHUNK_POINTS,
    FORMAT,
    HEADER,
    MANIFEST,
    MAX_CHUNK_BYTES,
    MAX_JSON_BYTES,
    SYNC_STATE,
    _checked_members,
    _json,
    _open_tar,
    _parse_chunk,
    _parse_sums,
    _read_member,
    content_digest,
    encode_point,
    point_digest,
)
from planvec.errors import ArchiveError, ConfigError
from planvec.manifest import SCHEMA_VERSION, now_iso
from planvec.store.base import PointRecord


@dataclass
class ArchiveWriter:
    """Writes an archive to a temp file beside ``path``; ``commit`` renames it into place."""

    path: Path
    members: dict[str, tuple[str, int]] = field(default_factory=dict)
    points: int = 0
    chunks: int = 0
    _digests: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.path = Path(self.path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(
                prefix=self.path.name + ".", suffix=".tmp", dir=self.path.parent
            )
        except OSError as exc:
            raise ConfigError(
                f"cannot write the archive {self.path}: {exc.strerror or exc}; choose a"
                " writable file path"
            ) from exc
        os.fchmod(fd, 0o600)
        self._tmp = Path(tmp)
        self._file: IO[bytes] = os.fdopen(fd, "wb")  # closed by commit/abort
        self._tar = tarfile.open(  # noqa: SIM115 - closed by commit/abort
            fileobj=self._file, mode="w", format=tarfile.PAX_FORMAT
        )

    def _add(self, name: str, data: bytes) -> None:
        info = tarfile.TarInfo(name)
        info.size = len(data)
        info.mode = 0o600
        info.mtime = 0
        self._tar.addfile(info, io.BytesIO(data))
        self.members[name] = (hashlib.sha256(data).hexdigest(), len(data))

    def add_json(self, name: str, value: Any) -> None:
        """Add a JSON member (sorted keys, UTF-8)."""
        self._add(name, json.dumps(value, ensure_ascii=False, sort_keys=True, indent=1).encode())

    def add_points(self, points: Iterable[PointRecord]) -> None:
        """Add points, ``CHUNK_POINTS`` per gzip member."""
        chunk: list[bytes] = []
        for point in points:
            chunk.append(json.dumps(encode_point(point), ensure_ascii=False).encode() + b"\n")
            self._digests.append(point_digest(point.id, point.payload))
            if len(chunk) >= CHUNK_POINTS:
                self._flush_chunk(chunk)
        if chunk:
            self._flush_chunk(chunk)

    def _flush_chunk(self, chunk: list[bytes]) -> None:
        data = gzip.compress(b"".join(chunk), compresslevel=6, mtime=0)
        self._add(f"points/{self.chunks:06d}.jsonl.gz", data)
        self.points += len(chunk)
        self.chunks += 1
        chunk.clear()

    def commit(self, header: Mapping[str, Any]) -> dict[str, Any]:
        """Write SHA256SUMS and the header, fsync, rename into place; returns the header."""
        sums = "".join(
            f"{digest}  {size}  {name}\n" for name, (digest, size) in sorted(self.members.items())
        ).encode()
        self._add(CHECKSUMS, sums)
        full = {
            **header,
            "format": FORMAT,
            "archive_version": ARCHIVE_VERSION,
            "created_at": now_iso(),
            "points": self.points,
            "chunks": self.chunks,
            "checksums_sha256": hashlib.sha256(sums).hexdigest(),
            "content_digest": content_digest(self._digests),
        }
        self.add_json(HEADER, full)
        self._tar.close()
        self._file.flush()
        os.fsync(self._file.fileno())
        self._file.close()
        os.replace(self._tmp, self.path)
        return full

    def abort(self) -> None:
        """Drop the temp file (after an error)."""
        with contextlib.suppress(Exception):
            self._tar.close()
        with contextlib.suppress(Exception):
            self._file.close()
        self._tmp.unlink(missing_ok=True)


# -- reading ----------------------------------------------------------------------------------


@dataclass
class Archive:
    """A verified archive: its small JSON members, and its point chunks to read again."""

    path: Path
    header: dict[str, Any]
    manifest: dict[str, Any]
    sync_state: dict[str, Any]
    cache_ref: dict[str, Any]
    chunk_sums: dict[str, str]

    @property
    def dimension(self) -> int:
        return int(self.manifest["info"]["dimension"])

    @property
    def points(self) -> int:
        return int(self.header["points"])

    def iter_chunks(self) -> Iterator[list[PointRecord]]:
        """Each chunk's points, re-hashed on this read too (the file may change meanwhile)."""
        with _open_tar(self.path) as tar:
            members = _checked_members(tar)
            for name in sorted(self.chunk_sums):
                data = _read_member(tar, members[name], MAX_CHUNK_BYTES)
                if hashlib.sha256(data).hexdigest() != self.chunk_sums[name]:
                    raise ArchiveError(f"{self.path}: {name} changed since it was verified")
                yield _parse_chunk(data, name, self.dimension)


def read_archive(path: Path) -> Archive:
    """Open and fully verify an archive before anything is written anywhere.

    Args:
        path: the archive file.

    Returns:
        The verified ``Archive``.

    Raises:
        ArchiveError: truncated, tampered, unsafe member, from a newer planvec, or invalid.
    """
    path = Path(path)
    with _open_tar(path) as tar:
        members = _checked_members(tar)
        header, sums = _read_header(path, tar, members)
        small, chunk_sums = _verify_members(path, tar, members, sums)
        archive = Archive(
            path=path,
            header=header,
            manifest=small[MANIFEST],
            sync_state=small[SYNC_STATE],
            cache_ref=small[CACHE_REF],
            chunk_sums=chunk_sums,
        )
        _check_manifest(archive)
        count, digests = 0, []
        for name in sorted(chunk_sums):
            data = _read_member(tar, members[name], MAX_CHUNK_BYTES)
            for point in _parse_chunk(data, name, archive.dimension):
                count += 1
                digests.append(point_digest(point.id, point.payload))
    if count != archive.points or len(chunk_sums) != header.get("chunks"):
        raise ArchiveError(f"{path}: holds {count} points, its header says {archive.points}")
    if content_digest(digests) != header.get("content_digest"):
        raise ArchiveError(f"{path}: the points do not match the header digest: tampered with")
    return archive


def _read_header(
    path: Path, tar: tarfile.TarFile, members: dict[str, tarfile.TarInfo]
) -> tuple[dict[str, Any], dict[str, tuple[str, int]]]:
    """The header (format and version checked) and SHA256SUMS (checked against it)."""
    for required in _JSON_MEMBERS:
        if required not in members:
            raise ArchiveError(f"{path} has no {required}: truncated or not a planvec archive")
    header = _json(_read_member(tar, members[HEADER], MAX_JSON_BYTES), HEADER)
    if header.get("format") != FORMAT:
        raise ArchiveError(f"{path} is not a planvec archive (format {header.get('format')!r})")
    version = header.get("archive_version")
    if not isinstance(version, int) or version > ARCHIVE_VERSION:
        raise ArchiveError(
            f"{path} was written by a newer planvec (archive version {version}, this planvec "
            f"reads up to {ARCHIVE_VERSION}): upgrade planvec (pip install -U planvec)"
        )
    sums_data = _read_member(tar, members[CHECKSUMS], MAX_JSON_BYTES)
    if hashlib.sha256(sums_data).hexdigest() != header.get("checksums_sha256"):
        raise ArchiveError(f"{path}: {CHECKSUMS} does not match the header: tampered with")
    return header, _parse_sums(sums_data)


def _verify_members(
    path: Path,
    tar: tarfile.TarFile,
    members: dict[str, tarfile.TarInfo],
    sums: dict[str, tuple[str, int]],
) -> tuple[dict[str, dict[str, Any]], dict[str, str]]:
    """Every member hashed against SHA256SUMS: the small JSON ones, and the chunk digests."""
    listed = set(sums) | {HEADER, CHECKSUMS}
    if set(members) != listed:
        extra = sorted(set(members) ^ listed)
        raise ArchiveError(f"{path}: members and {CHECKSUMS} disagree ({', '.join(extra[:5])})")
    small: dict[str, dict[str, Any]] = {}
    chunk_sums: dict[str, str] = {}
    for name, (digest, size) in sorted(sums.items()):
        limit = MAX_JSON_BYTES if name in _JSON_MEMBERS else MAX_CHUNK_BYTES
        data = _read_member(tar, members[name], limit)
        if len(data) != size or hashlib.sha256(data).hexdigest() != digest:
            raise ArchiveError(f"{path}: checksum of {name} does not match: tampered with")
        if name in _JSON_MEMBERS:
            small[name] = _json(data, name)
        else:
            chunk_sums[name] = digest
    return small, chunk_sums


def _check_manifest(archive: Archive) -> None:
    info = archive.manifest.get("info")
    if not isinstance(info, dict) or not isinstance(info.get("dimension"), int):
        raise ArchiveError(f"{archive.path}: {MANIFEST} has no collection info")
    if info.get("distance") not in ("cosine", "dot", "euclid"):
        raise ArchiveError(f"{archive.path}: unknown distance {info.get('distance')!r}")
    index_manifest = archive.manifest.get("manifest")
    if isinstance(index_manifest, dict):
        schema = int(index_manifest.get("schema_version", 0))
        if schema > SCHEMA_VERSION:
            raise ArchiveError(
                f"{archive.path} holds an index of a newer planvec (manifest schema {schema}, "
                f"this planvec reads up to {SCHEMA_VERSION}): upgrade planvec"
            )
