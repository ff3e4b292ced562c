"""The archive format: member names and limits, point encoding, digests, safe tar reading.

See ``planvec.backup.archive`` for the layout of an archive and what reading checks.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import re
import tarfile
import zlib
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from planvec.errors import ArchiveError
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
