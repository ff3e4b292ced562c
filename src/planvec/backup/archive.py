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
"""

from __future__ import annotations

import base64
import contextlib
import gzip
import hashlib
import io
import json
import os
import re
import tarfile
import tempfile
import zlib
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import numpy as np

from planvec.errors import ArchiveError, ConfigError
from planvec.manifest import SCHEMA_VERSION, now_iso
from planvec.records import stable_json
from planvec.store.base import PointId, PointRecord, SparseVector

FORMAT = "planvec-archive"
#: Bump when the layout changes; readers refuse archives with a larger version.
ARCHIVE_VERSION = 1
HEADER = "planvec-archive.json"
CHECKSUMS = "SHA256SUMS"
MANIFEST = "manifest.json"
SYNC_STATE = "sync_state.json"
CACHE_REF = "embedding_cache.json"
CHUNK_POINTS = 2048
_CHUNK_NAME = re.compile(r"^points/(\d{6})\.jsonl\.gz$")
_JSON_MEMBERS = (HEADER, CHECKSUMS, MANIFEST, SYNC_STATE, CACHE_REF)
#: Bounds that stop a hostile archive from exhausting memory.
MAX_JSON_BYTES = 64 << 20
MAX_CHUNK_BYTES = 512 << 20
MAX_CHUNK_INFLATED = 1 << 30


# -- encoding ---------------------------------------------------------------------------------


def _b64_floats(values: Iterable[float], dtype: str = "<f4") -> str:
    return base64.b64encode(np.asarray(list(values), dtype=dtype).tobytes()).decode("ascii")


def _floats_b64(text: Any, where: str, dtype: str = "<f4") -> list[float]:
    if not isinstance(text, str):
        raise ArchiveError(f"{where}: vector is not base64 text")
    try:
        raw = base64.b64decode(text.encode("ascii"), validate=True)
    except (ValueError, UnicodeEncodeError) as exc:
        raise ArchiveError(f"{where}: vector is not valid base64") from exc
    width = np.dtype(dtype).itemsize
    if len(raw) % width:
        raise ArchiveError(f"{where}: vector bytes are not a whole number of floats")
    return np.frombuffer(raw, dtype=dtype).tolist()  # type: ignore[no-any-return]


def encode_point(point: PointRecord) -> dict[str, Any]:
    """The JSON object of one point in a chunk."""
    out: dict[str, Any] = {"id": point.id, "payload": point.payload}
    if point.vector is not None:
        out["vector"] = _b64_floats(point.vector)
    if point.sparse is not None:
        out["sparse"] = {
            "indices": list(point.sparse.indices),
            "values": _b64_floats(point.sparse.values, "<f8"),
        }
    return out


def decode_point(obj: Any, where: str, dimension: int) -> PointRecord:
    """A ``PointRecord`` from one chunk line, validated; ``ArchiveError`` otherwise."""
    if not isinstance(obj, dict):
        raise ArchiveError(f"{where}: a point line is not a JSON object")
    pid = obj.get("id")
    if (
        isinstance(pid, bool)
        or not isinstance(pid, (str, int))
        or (isinstance(pid, int) and pid < 0)
    ):
        raise ArchiveError(f"{where}: invalid point id {pid!r}")
    payload = obj.get("payload")
    if not isinstance(payload, dict):
        raise ArchiveError(f"{where}: point {pid} has no payload object")
    vector = None
    if "vector" in obj:
        vector = _floats_b64(obj["vector"], where)
        if len(vector) != dimension:
            raise ArchiveError(
                f"{where}: point {pid} has a {len(vector)}-d vector, the archive says {dimension}"
            )
    sparse = None
    if obj.get("sparse") is not None:
        sp = obj["sparse"]
        indices = sp.get("indices") if isinstance(sp, dict) else None
        if not isinstance(indices, list) or not all(
            isinstance(i, int) and not isinstance(i, bool) and 0 <= i < 2**32 for i in indices
        ):
            raise ArchiveError(f"{where}: point {pid} has invalid sparse indices")
        values = _floats_b64(sp.get("values"), where, "<f8")
        if len(values) != len(indices):
            raise ArchiveError(f"{where}: point {pid} sparse indices/values differ in length")
        sparse = SparseVector(tuple(indices), tuple(values))
    return PointRecord(id=pid, vector=vector, payload=payload, sparse=sparse)


def point_digest(pid: PointId, payload: Mapping[str, Any]) -> str:
    """Hash of one point's id and payload (the unit of ``content_digest``)."""
    return hashlib.sha256(f"{pid}\x00{stable_json(dict(payload))}".encode()).hexdigest()


def content_digest(digests: Iterable[str]) -> str:
    """Order-independent digest of a collection: sha256 of its sorted point digests."""
    total = hashlib.sha256()
    for item in sorted(digests):
        total.update(item.encode("ascii"))
    return total.hexdigest()


# -- writing ----------------------------------------------------------------------------------


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


@contextlib.contextmanager
def _open_tar(path: Path) -> Iterator[tarfile.TarFile]:
    try:
        with tarfile.open(path, mode="r:") as tar:
            yield tar
    except FileNotFoundError as exc:
        raise ArchiveError(f"archive {path} does not exist") from exc
    except (tarfile.TarError, EOFError, OSError, zlib.error) as exc:
        raise ArchiveError(
            f"{path} is truncated or not a planvec archive ({exc}): use the complete file "
            "written by `planvec export`"
        ) from exc


def _safe_name(name: str) -> bool:
    if name.startswith(("/", "\\")) or "\\" in name or "\x00" in name:
        return False
    parts = name.split("/")
    if any(p in ("", ".", "..") for p in parts):
        return False
    return name in _JSON_MEMBERS or bool(_CHUNK_NAME.match(name))


def _checked_members(tar: tarfile.TarFile) -> dict[str, tarfile.TarInfo]:
    """Every member, after checking names, types and sizes; ``ArchiveError`` otherwise."""
    members: dict[str, tarfile.TarInfo] = {}
    for info in tar.getmembers():
        if not _safe_name(info.name):
            raise ArchiveError(
                f"archive member {info.name!r} is not allowed (absolute path, '..', or an "
                "unknown name): refusing the archive"
            )
        if not info.isreg():
            raise ArchiveError(
                f"archive member {info.name!r} is a link, device or directory: refusing it"
            )
        if info.name in members:
            raise ArchiveError(f"archive member {info.name!r} occurs twice: refusing it")
        limit = MAX_JSON_BYTES if info.name in _JSON_MEMBERS else MAX_CHUNK_BYTES
        if info.size > limit:
            raise ArchiveError(f"archive member {info.name!r} is too large ({info.size} bytes)")
        members[info.name] = info
    return members


def _read_member(tar: tarfile.TarFile, info: tarfile.TarInfo, limit: int) -> bytes:
    handle = tar.extractfile(info)
    if handle is None:
        raise ArchiveError(f"archive member {info.name!r} cannot be read")
    data = handle.read(limit + 1)
    if len(data) != info.size:
        raise ArchiveError(f"archive member {info.name!r} is truncated")
    return data


def _json(data: bytes, name: str) -> dict[str, Any]:
    try:
        value = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise ArchiveError(f"archive member {name} is not valid JSON") from exc
    if not isinstance(value, dict):
        raise ArchiveError(f"archive member {name} is not a JSON object")
    return value


def _inflate(data: bytes, name: str) -> bytes:
    inflater = zlib.decompressobj(wbits=31)
    try:
        out = inflater.decompress(data, MAX_CHUNK_INFLATED)
    except zlib.error as exc:
        raise ArchiveError(f"archive member {name} is not valid gzip") from exc
    if inflater.unconsumed_tail or not inflater.eof:
        raise ArchiveError(f"archive member {name} is truncated or too large once inflated")
    return out


def _parse_chunk(data: bytes, name: str, dimension: int) -> list[PointRecord]:
    points = []
    for number, line in enumerate(_inflate(data, name).splitlines(), 1):
        where = f"{name} line {number}"
        try:
            obj = json.loads(line)
        except ValueError as exc:
            raise ArchiveError(f"{where}: not valid JSON") from exc
        points.append(decode_point(obj, where, dimension))
    return points


def _parse_sums(data: bytes) -> dict[str, tuple[str, int]]:
    sums: dict[str, tuple[str, int]] = {}
    for line in data.decode("ascii", "replace").splitlines():
        parts = line.split("  ")
        if len(parts) != 3 or not re.fullmatch(r"[0-9a-f]{64}", parts[0]):
            raise ArchiveError(f"{CHECKSUMS} has a malformed line: {line[:80]!r}")
        if not parts[1].isdigit() or not _safe_name(parts[2]):
            raise ArchiveError(f"{CHECKSUMS} has a malformed line: {line[:80]!r}")
        sums[parts[2]] = (parts[0], int(parts[1]))
    return sums


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
        sums = _parse_sums(sums_data)
        listed = set(sums) | {HEADER, CHECKSUMS}
        if set(members) != listed:
            extra = sorted(set(members) ^ listed)
            raise ArchiveError(f"{path}: members and {CHECKSUMS} disagree ({', '.join(extra[:5])})")
        small: dict[str, dict[str, Any]] = {}
        chunk_sums: dict[str, str] = {}
        for name, (digest, size) in sorted(sums.items()):
            info = members[name]
            limit = MAX_JSON_BYTES if name in _JSON_MEMBERS else MAX_CHUNK_BYTES
            data = _read_member(tar, info, limit)
            if len(data) != size or hashlib.sha256(data).hexdigest() != digest:
                raise ArchiveError(f"{path}: checksum of {name} does not match: tampered with")
            if name in _JSON_MEMBERS:
                small[name] = _json(data, name)
            else:
                chunk_sums[name] = digest
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
            for point in _parse_chunk(
                _read_member(tar, members[name], MAX_CHUNK_BYTES), name, archive.dimension
            ):
                count += 1
                digests.append(point_digest(point.id, point.payload))
    if count != archive.points or len(chunk_sums) != header.get("chunks"):
        raise ArchiveError(f"{path}: holds {count} points, its header says {archive.points}")
    if content_digest(digests) != header.get("content_digest"):
        raise ArchiveError(f"{path}: the points do not match the header digest: tampered with")
    return archive


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
