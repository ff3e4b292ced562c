"""Round trips through an archive, and archives that must be refused without side effects."""

from __future__ import annotations

import hashlib
import io
import json
import stat
import tarfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from planvec.backup.archive import read_archive
from planvec.backup.archive_format import ARCHIVE_VERSION, CHECKSUMS, HEADER
from planvec.backup.transfer import export_collection, import_archive
from planvec.errors import ArchiveError, ConfigError
from planvec.index import Index, sources_for
from planvec.records import stable_json
from planvec.store.base import VectorStore

from .conftest import make_index

QUERIES = ("sauvegarde de la base", "API documentation", "rotation", "section")


def _points(
    store: VectorStore, collection: str = "planvec_tasks"
) -> dict[str, tuple[str, list[float], object]]:
    return {
        str(p.id): (stable_json(p.payload), list(p.vector or []), p.sparse)
        for p in store.scroll(collection, with_vectors=True)
    }


def _searches(index: Index) -> list[object]:
    """Every hit of each query (limit above the point count).

    Dense and sparse rankings are compared as "the same ids at each score" (equal scores may
    come back in any order). Hybrid fuses *ranks*, so two tied inputs that come back in the
    other order change fused scores: it is compared as the same ids (its inputs, dense and
    sparse, are compared exactly above).
    """
    out: list[object] = []
    for q in QUERIES:
        for mode in ("dense", "sparse"):
            groups: dict[float, set[str]] = {}
            for hit in index.search(q, limit=200, mode=mode):
                groups.setdefault(round(hit.score, 5), set()).add(hit.id)
            out.append(groups)
        hybrid = index.search(q, limit=200, mode="hybrid")
        out.append({h.id for h in hybrid})
    return out


@pytest.mark.parametrize("target", ["edge", "memory"])
def test_round_trip_gives_identical_points_and_searches(
    indexed: Index,
    store_at: Callable[[str, str], VectorStore],
    tmp_path: Path,
    target: str,
    plan_tree: Path,
) -> None:
    out = tmp_path / "backup.planvec.tar"
    exported = export_collection(indexed.admin, indexed.collection, out)
    assert exported.points == indexed.count() > 10
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    assert exported.sha256 == hashlib.sha256(out.read_bytes()).hexdigest()

    store = store_at(target, "restored")
    report = import_archive(store, out)
    assert report.ok, report.to_dict()
    assert report.points == exported.points and report.vectors_checked == exported.points

    before, after = _points(indexed.admin), _points(store)
    assert before.keys() == after.keys()
    for pid, (payload, vector, sparse) in before.items():
        assert after[pid][0] == payload
        assert np.allclose(after[pid][1], vector, atol=1e-6)
        got = after[pid][2]
        assert (got is None) == (sparse is None)
        if sparse is not None and got is not None:  # Edge keeps float32, memory float64
            assert got.indices == sparse.indices  # type: ignore[attr-defined]
            assert np.allclose(got.values, sparse.values, rtol=1e-6)  # type: ignore[attr-defined]
    restored = make_index(store)
    assert restored.manifest is not None
    assert restored.manifest["model_id"] == indexed.manifest["model_id"]  # type: ignore[index]
    assert _searches(restored) == _searches(indexed)
    # the sync state travelled with the points: re-indexing the same plans writes nothing
    again = restored.sync(sources_for([plan_tree]))
    assert (again.added, again.updated, again.payload_only, again.deleted, again.embedded) == (
        0,
        0,
        0,
        0,
        0,
    )


def test_import_refuses_a_non_empty_collection_unless_forced(
    good_archive: Path, store_at: Callable[[str, str], VectorStore]
) -> None:
    out = good_archive
    points = read_archive(out).points
    store = store_at("edge", "target")
    assert import_archive(store, out).ok
    with pytest.raises(ConfigError, match="--force"):
        import_archive(store, out)
    assert import_archive(store, out, collection="copy").ok  # a new name is fine
    forced = import_archive(store, out, force=True)
    assert forced.ok and forced.replaced
    assert store.count("planvec_tasks") == points


# -- hostile or damaged archives ---------------------------------------------------------------


def _members(path: Path) -> list[tuple[tarfile.TarInfo, bytes]]:
    with tarfile.open(path) as tar:
        return [(m, tar.extractfile(m).read() if m.isreg() else b"") for m in tar.getmembers()]  # type: ignore[union-attr]


def _write(path: Path, members: list[tuple[tarfile.TarInfo, bytes]]) -> Path:
    with tarfile.open(path, "w") as tar:
        for info, data in members:
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data) if info.isreg() else None)
    return path


def _resign(members: list[tuple[tarfile.TarInfo, bytes]]) -> list[tuple[tarfile.TarInfo, bytes]]:
    """Recompute SHA256SUMS and the header digest, as a careful attacker would."""
    body = {m.name: d for m, d in members if m.name not in (CHECKSUMS, HEADER)}
    sums = "".join(
        f"{hashlib.sha256(d).hexdigest()}  {len(d)}  {n}\n" for n, d in sorted(body.items())
    )
    out = []
    for info, data in members:
        if info.name == CHECKSUMS:
            data = sums.encode()
        elif info.name == HEADER:
            header = json.loads(data)
            header["checksums_sha256"] = hashlib.sha256(sums.encode()).hexdigest()
            data = json.dumps(header).encode()
        out.append((info, data))
    return out


@pytest.fixture
def good_archive(
    store_at: Callable[[str, str], VectorStore], plan_tree: Path, tmp_path: Path
) -> Path:
    index = make_index(store_at("memory", "good"))
    index.sync(sources_for([plan_tree]))
    out = tmp_path / "good.tar"
    export_collection(index.admin, index.collection, out)
    return out


def _assert_refused_untouched(archive: Path, store: VectorStore, match: str) -> None:
    with pytest.raises(ArchiveError, match=match):
        import_archive(store, archive, collection="target")
    assert store.collection_info("target") is None
    assert store.list_collections() == []


def _edit(
    members: list[tuple[tarfile.TarInfo, bytes]], name: str, func: Callable[[bytes], bytes]
) -> list[tuple[tarfile.TarInfo, bytes]]:
    return [(m, func(d) if m.name == name else d) for m, d in members]


def test_tampered_chunk_is_refused(
    good_archive: Path, store_at: Callable[[str, str], VectorStore], tmp_path: Path
) -> None:
    members = _members(good_archive)
    flipped = _edit(
        members, "points/000000.jsonl.gz", lambda d: d[:40] + bytes([d[40] ^ 1]) + d[41:]
    )
    _assert_refused_untouched(
        _write(tmp_path / "t.tar", flipped), store_at("edge", "t1"), "tampered"
    )


def test_tampered_header_or_checksums_are_refused(
    good_archive: Path, store_at: Callable[[str, str], VectorStore], tmp_path: Path
) -> None:
    members = _members(good_archive)
    sums = _edit(members, CHECKSUMS, lambda d: d.replace(d[:4], b"0000", 1))
    _assert_refused_untouched(_write(tmp_path / "s.tar", sums), store_at("edge", "t2"), "tampered")
    # a payload edited and every checksum recomputed: the header's content digest still differs
    import gzip

    def edit_payload(data: bytes) -> bytes:
        text = gzip.decompress(data).decode().replace("sauvegarde", "sauvegarxe", 1)
        return gzip.compress(text.encode())

    resigned = _resign(_edit(members, "points/000000.jsonl.gz", edit_payload))
    _assert_refused_untouched(
        _write(tmp_path / "r.tar", resigned), store_at("memory", "t3"), "digest"
    )


def test_truncated_archive_is_refused(
    good_archive: Path, store_at: Callable[[str, str], VectorStore], tmp_path: Path
) -> None:
    data = good_archive.read_bytes()
    store = store_at("edge", "t4")
    with tarfile.open(good_archive) as tar:
        last = max(tar.getmembers(), key=lambda m: m.offset_data)
    # inside the first member, mid-archive, and inside the last member's data
    for cut in (100, len(data) // 3, last.offset_data + last.size - 10):
        short = tmp_path / f"short{cut}.tar"
        short.write_bytes(data[:cut])
        _assert_refused_untouched(short, store, "truncated|not a planvec|no ")
    empty = tmp_path / "empty.tar"
    empty.write_bytes(b"")
    _assert_refused_untouched(empty, store, "truncated|not a planvec")


@pytest.mark.parametrize("kind", ["dotdot", "absolute", "symlink", "unknown"])
def test_unsafe_members_are_refused(
    good_archive: Path, store_at: Callable[[str, str], VectorStore], tmp_path: Path, kind: str
) -> None:
    members = _members(good_archive)
    if kind == "symlink":
        info = tarfile.TarInfo("points/000009.jsonl.gz")
        info.type = tarfile.SYMTYPE
        info.linkname = "/etc/passwd"
    else:
        info = tarfile.TarInfo(
            {"dotdot": "points/../../evil.sh", "absolute": "/tmp/evil.sh", "unknown": "run-me.sh"}[
                kind
            ]
        )
    members.insert(0, (info, b"" if kind == "symlink" else b"#!/bin/sh\necho owned\n"))
    _assert_refused_untouched(
        _write(tmp_path / f"{kind}.tar", members), store_at("edge", kind), "not allowed|link"
    )
    assert not (tmp_path / "evil.sh").exists()


def test_newer_archive_version_is_refused_clearly(
    good_archive: Path, store_at: Callable[[str, str], VectorStore], tmp_path: Path
) -> None:
    def bump(data: bytes) -> bytes:
        header = json.loads(data)
        header["archive_version"] = ARCHIVE_VERSION + 1
        return json.dumps(header).encode()

    newer = _write(tmp_path / "newer.tar", _edit(_members(good_archive), HEADER, bump))
    _assert_refused_untouched(newer, store_at("edge", "nv"), "newer planvec.*upgrade")


def test_newer_manifest_schema_and_bad_vectors_are_refused(
    good_archive: Path, store_at: Callable[[str, str], VectorStore], tmp_path: Path
) -> None:
    def newer_schema(data: bytes) -> bytes:
        doc = json.loads(data)
        doc["manifest"]["schema_version"] = 99
        return json.dumps(doc).encode()

    members = _members(good_archive)
    schema = _write(tmp_path / "schema.tar", _resign(_edit(members, "manifest.json", newer_schema)))
    _assert_refused_untouched(schema, store_at("edge", "ms"), "newer planvec")

    def wrong_dimension(data: bytes) -> bytes:
        doc = json.loads(data)
        doc["info"]["dimension"] = 7
        return json.dumps(doc).encode()

    dims = _write(tmp_path / "dims.tar", _resign(_edit(members, "manifest.json", wrong_dimension)))
    _assert_refused_untouched(dims, store_at("memory", "wd"), "7")


def test_read_archive_reports_counts(indexed: Index, tmp_path: Path) -> None:
    export_collection(indexed.admin, indexed.collection, tmp_path / "a.tar")
    archive = read_archive(tmp_path / "a.tar")
    assert archive.points == indexed.count()
    assert archive.dimension == 384
    assert archive.sync_state["embed_recipe"]
    assert archive.cache_ref["model_id"] == "planvec-hashing-384"
    assert sum(len(c) for c in archive.iter_chunks()) == archive.points
