"""Per-file fingerprints: unchanged files are neither parsed nor diffed, and the index stays
exactly what a full diff would make it (planvec.fingerprints).

Runs ``Index.sync`` over ``Index.source`` (the rooted Markdown source) on Qdrant Edge and on
qdrant-client's memory engine, with the hashing embedder. "Parsed" is observed by counting
calls of ``planvec.roots.parse_bytes``, the one place the fingerprinting source parses.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import planvec.roots
from planvec.embed.hashing import HashingEmbedder
from planvec.errors import DeleteRefused
from planvec.fingerprints import (
    MANIFEST_KEY,
    RACY_NS,
    FileFingerprint,
    fingerprint,
)
from planvec.guard import DeleteGuard
from planvec.index import Index, sources_for
from planvec.manifest import sync_started
from planvec.store import open_store

ROADMAP_TASKS, NOTES_TASKS = 7, 2


@pytest.fixture
def parsed(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The plan names the fingerprinting source parses, in order."""
    seen: list[str] = []
    real = planvec.roots.parse_bytes

    def counting(raw: bytes, name: str, sha256: str | None = None, memo: Any = None) -> Any:
        seen.append(name)
        return real(raw, name, sha256, memo)

    monkeypatch.setattr(planvec.roots, "parse_bytes", counting)
    return seen


def age(path: Path, seconds: float = 10.0) -> None:
    """Move the file's mtime into the past, so its fingerprint is not racy."""
    past = os.stat(path).st_mtime_ns - int(seconds * 1e9)
    os.utime(path, ns=(past, past))


def aged_tree(plan_tree: Path) -> Path:
    for f in plan_tree.rglob("*.md"):
        age(f)
    return plan_tree


def sync(index: Index, paths: Sequence[Path], **kw: Any) -> Any:
    return index.sync(index.source(list(paths)), **kw)


def state(index: Index) -> dict[str, tuple[Any, ...]]:
    """Every point's id -> (plan, hashes, line): what a full diff would have to agree with."""
    fields = ("plan", "embed_hash", "payload_hash", "lexical_hash", "line")
    return {
        str(p.id): tuple(p.payload.get(k) for k in fields)
        for p in index.points.scroll(with_payload=fields)
    }


class RefusingEmbedder(HashingEmbedder):
    """The hashing embedder that fails if asked to embed: proves a run loaded no model."""

    def embed(self, texts: Sequence[str]) -> Any:
        if texts:
            raise AssertionError(f"asked to embed {len(texts)} texts")
        return np.zeros((0, self.dimension), dtype=np.float32)


def test_noop_parses_nothing_and_embeds_nothing(
    make_index: Callable[..., Index], plan_tree: Path, parsed: list[str]
) -> None:
    index = make_index()
    first = sync(index, [aged_tree(plan_tree)])
    assert parsed == ["roadmap.md", "sub/notes.md"]
    before = state(index)
    manifest = index.manifest or {}
    assert set(manifest[MANIFEST_KEY]["entries"]) == {"roadmap.md", "sub/notes.md"}

    parsed.clear()
    quiet = Index(index._store, RefusingEmbedder(), lexical=index.lexical)
    again = sync(quiet, [plan_tree])
    assert parsed == []
    assert (again.plans, again.tasks, again.unchanged) == (2, first.tasks, first.tasks)
    assert again.written == 0 and again.embedded == 0
    assert state(quiet) == before
    assert (quiet.manifest or {})["plans"] == {"roadmap.md": ROADMAP_TASKS, "sub/notes.md": 2}


def test_edit_is_found_and_only_that_file_is_parsed(
    make_index: Callable[..., Index], plan_tree: Path, parsed: list[str]
) -> None:
    index = make_index()
    sync(index, [aged_tree(plan_tree)])
    parsed.clear()
    notes = plan_tree / "sub" / "notes.md"
    notes.write_text(notes.read_text(encoding="utf-8").replace("old", "new"), encoding="utf-8")
    report = sync(index, [plan_tree])
    assert parsed == ["sub/notes.md"]
    assert (report.added + report.updated, report.unchanged, report.plans) == (
        1,
        ROADMAP_TASKS + 1,
        2,
    )


def test_same_size_edit_with_restored_mtime_is_found(
    make_index: Callable[..., Index], plan_tree: Path, parsed: list[str]
) -> None:
    """``cp -p`` / ``rsync -t``: new bytes, same size, old mtime. ctime (which no tool can set
    back) breaks the short-cut and the hash decides."""
    index = make_index()
    notes = plan_tree / "sub" / "notes.md"
    sync(index, [aged_tree(plan_tree)])
    st = os.stat(notes)
    edited = notes.read_text(encoding="utf-8").replace("Archive old", "Archive new")
    assert len(edited.encode()) == st.st_size
    notes.write_text(edited, encoding="utf-8")
    os.utime(notes, ns=(st.st_atime_ns, st.st_mtime_ns))
    parsed.clear()
    report = sync(index, [plan_tree])
    assert parsed == ["sub/notes.md"] and (report.added, report.deleted) == (1, 1)


def test_touch_without_change_is_hashed_not_parsed(
    make_index: Callable[..., Index], plan_tree: Path, parsed: list[str]
) -> None:
    index = make_index()
    sync(index, [aged_tree(plan_tree)])
    roadmap = plan_tree / "roadmap.md"
    roadmap.write_bytes(roadmap.read_bytes())  # new mtime, same bytes
    age(roadmap, 5)
    parsed.clear()
    report = sync(index, [plan_tree])
    assert parsed == [] and report.written == 0
    recorded = (index.manifest or {})[MANIFEST_KEY]["entries"]["roadmap.md"]
    assert recorded[1] == os.stat(roadmap).st_mtime_ns  # refreshed: next run short-cuts


def test_racy_fingerprint_is_rehashed_next_time() -> None:
    """A file read within ``RACY_NS`` of its mtime may change again in the same tick."""
    st = os.stat(__file__)
    newest = max(st.st_mtime_ns, st.st_ctime_ns)
    racy = fingerprint(st, "h", newest + RACY_NS // 2)
    settled = fingerprint(st, "h", newest + RACY_NS)
    assert not racy.stat_matches(st)
    assert settled.stat_matches(st)
    assert FileFingerprint.from_json(racy.to_json()) == racy
    assert FileFingerprint.from_json(["bad"]) is None


def test_freshly_written_file_is_recorded_racy_and_hashed(
    make_index: Callable[..., Index], plan_tree: Path, parsed: list[str]
) -> None:
    index = make_index()
    sync(index, [plan_tree])  # files written just now: racy
    entries = (index.manifest or {})[MANIFEST_KEY]["entries"]
    assert entries["roadmap.md"][4] is False
    parsed.clear()
    report = sync(index, [plan_tree])
    assert parsed == [] and report.written == 0  # re-hashed, same bytes: not parsed


def test_deleted_file_deletes_its_tasks_and_fingerprint(
    make_index: Callable[..., Index], plan_tree: Path
) -> None:
    index = make_index()
    sync(index, [aged_tree(plan_tree)])
    (plan_tree / "sub" / "notes.md").unlink()
    report = sync(index, [plan_tree], guard=DeleteGuard(allow=True))
    assert report.plans_deleted == ["sub/notes.md"] and report.deleted == 2
    assert {v[0] for v in state(index).values()} == {"roadmap.md"}
    manifest = index.manifest or {}
    assert set(manifest[MANIFEST_KEY]["entries"]) == {"roadmap.md"}
    assert manifest["plans"] == {"roadmap.md": ROADMAP_TASKS}


def test_interrupted_sync_diffs_every_file_once(
    make_index: Callable[..., Index], plan_tree: Path, parsed: list[str]
) -> None:
    """A killed run may have half-written a file whose bytes are back to the recorded ones."""
    index = make_index()
    sync(index, [aged_tree(plan_tree)])
    damaged = index.points.retrieve([next(iter(state(index)))])[0]
    # a half-written run: one point rewritten with another payload hash, marker left behind
    index.admin.set_payload(
        index.collection, {damaged.id: {**damaged.payload, "payload_hash": "x"}}
    )
    index.admin.write_manifest(
        index.collection, sync_started(index.manifest or {}, pid=1, root=None)
    )
    index._manifest = None
    parsed.clear()
    report = sync(index, [plan_tree])
    assert sorted(parsed) == ["roadmap.md", "sub/notes.md"]
    assert report.payload_only == 1
    parsed.clear()
    assert sync(index, [plan_tree]).written == 0 and parsed == []


def test_manifest_without_fingerprints_is_migrated_by_one_full_diff(
    make_index: Callable[..., Index], plan_tree: Path, parsed: list[str]
) -> None:
    index = make_index()
    sync(index, [aged_tree(plan_tree)])
    old = {k: v for k, v in (index.manifest or {}).items() if k != MANIFEST_KEY}
    index.admin.write_manifest(index.collection, old)  # as written by an older planvec
    index._manifest = None
    parsed.clear()
    assert sync(index, [plan_tree]).written == 0
    assert len(parsed) == 2
    parsed.clear()
    sync(index, [plan_tree])
    assert parsed == []


def test_another_writer_voids_the_fingerprints(
    make_index: Callable[..., Index], plan_tree: Path, parsed: list[str]
) -> None:
    """Points deleted behind sync's back (here through ``index.points``, and straight in the
    store) come back on the next run instead of being hidden by the fingerprints."""
    index = make_index()
    sync(index, [aged_tree(plan_tree)])
    full = state(index)
    ids = sorted(full)
    index.points.delete(ids[:1])
    assert MANIFEST_KEY not in (index.manifest or {})
    assert sync(index, [plan_tree]).added == 1
    assert state(index) == full
    index.admin.delete(index.collection, ids=ids[1:2])  # the count no longer matches
    parsed.clear()
    assert sync(index, [plan_tree]).added == 1 and len(parsed) == 2
    assert state(index) == full


def test_guard_held_plan_gets_no_fingerprint(
    make_index: Callable[..., Index], plan_tree: Path, parsed: list[str]
) -> None:
    index = make_index()
    sync(index, [aged_tree(plan_tree)])
    roadmap = plan_tree / "roadmap.md"
    roadmap.write_text("# Roadmap v3\n\n- [ ] **2.1** Write the API documentation\n")
    age(roadmap)
    with pytest.raises(DeleteRefused):
        sync(index, [plan_tree], guard=DeleteGuard(max_delete=0.5))
    entries = (index.manifest or {})[MANIFEST_KEY]["entries"]
    assert "roadmap.md" not in entries and "sub/notes.md" in entries
    parsed.clear()
    report = sync(index, [plan_tree], guard=DeleteGuard(allow=True))
    assert parsed == ["roadmap.md"] and report.deleted == ROADMAP_TASKS - 1


def test_renamed_root_renames_plans_and_records_new_names(
    make_index: Callable[..., Index], plan_tree: Path
) -> None:
    index = make_index()
    sync(index, [aged_tree(plan_tree)])
    report = index.sync(
        index.source([plan_tree.parent], root=plan_tree.parent), guard=DeleteGuard(allow=True)
    )
    assert report.added == ROADMAP_TASKS + NOTES_TASKS
    entries = (index.manifest or {})[MANIFEST_KEY]["entries"]
    assert set(entries) == {"plans/roadmap.md", "plans/sub/notes.md"}
    assert {v[0] for v in state(index).values()} == {"plans/roadmap.md", "plans/sub/notes.md"}


def test_subfolder_run_keeps_the_other_fingerprints(
    make_index: Callable[..., Index], plan_tree: Path, parsed: list[str]
) -> None:
    index = make_index()
    sync(index, [aged_tree(plan_tree)])
    sync(index, [plan_tree / "sub"])
    assert set((index.manifest or {})[MANIFEST_KEY]["entries"]) == {"roadmap.md", "sub/notes.md"}
    parsed.clear()
    sync(index, [plan_tree])
    assert parsed == []


def test_source_without_fingerprints_records_none(
    make_index: Callable[..., Index], plan_tree: Path
) -> None:
    """Plugin sources (no ``iter_plans_since``) diff everything, and void recorded ones."""
    index = make_index()
    sync(index, [aged_tree(plan_tree)])
    report = index.sync(sources_for([plan_tree]))
    assert report.unchanged == ROADMAP_TASKS + NOTES_TASKS
    assert (index.manifest or {})[MANIFEST_KEY]["entries"] == {}


def test_incremental_runs_and_rebuild_match_a_fresh_index(
    make_index: Callable[..., Index], plan_tree: Path, tmp_path: Path
) -> None:
    index = make_index()
    sync(index, [aged_tree(plan_tree)])
    roadmap = plan_tree / "roadmap.md"
    roadmap.write_text(roadmap.read_text().replace("- [ ] **2.2**", "- [x] **2.2**"))
    (plan_tree / "extra.md").write_text("# Extra\n\n- [ ] Une tâche de plus\n")
    (plan_tree / "sub" / "notes.md").unlink()
    sync(index, [plan_tree], guard=DeleteGuard(allow=True))
    assert sync(index, [plan_tree]).written == 0
    fresh_store = open_store(index_dir=tmp_path / "fresh")
    try:
        fresh = Index(fresh_store, HashingEmbedder(), lexical=index.lexical)
        sync(fresh, [plan_tree])
        expected = state(fresh)
    finally:
        fresh_store.close()
    assert state(index) == expected and len(expected) == ROADMAP_TASKS + 1
    index.drop()  # what --rebuild does before syncing again
    assert sync(index, [plan_tree]).added == ROADMAP_TASKS + 1
    assert state(index) == expected


def test_fingerprints_without_plan_counts_are_not_trusted(
    make_index: Callable[..., Index], plan_tree: Path, parsed: list[str]
) -> None:
    """Skipping a file needs its recorded point count (and vanished plans need the list)."""
    index = make_index()
    sync(index, [aged_tree(plan_tree)])
    broken = {k: v for k, v in (index.manifest or {}).items() if k != "plans"}
    index.admin.write_manifest(index.collection, broken)
    index._manifest = None
    (plan_tree / "sub" / "notes.md").unlink()
    parsed.clear()
    report = sync(index, [plan_tree], guard=DeleteGuard(allow=True))
    assert parsed == ["roadmap.md"] and report.plans_deleted == ["sub/notes.md"]
