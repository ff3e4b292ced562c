"""Stable plan identity: plan names are relative to the root recorded in the index.

Through the real CLI (click runner) on an embedded Edge index with the hashing embedder.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from planvec.cli.main import cli
from planvec.embed.hashing import HashingEmbedder
from planvec.index import Index, sources_for
from planvec.roots import project_root, resolve_root
from planvec.store import open_store
from planvec.text.lexical import LexicalEncoder

PHASE = "# Phase {n}\n\n- [ ] Tâche A de la phase {n}\n- [ ] Tâche B de la phase {n}\n"


def invoke(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args))
    assert "Traceback" not in result.stderr
    return result.exit_code, result.stdout, result.stderr


def index(path: Path, idx: Path, *extra: str) -> tuple[int, dict[str, Any], str]:
    code, out, err = invoke("index", str(path), "--index", str(idx), "--offline", "--json", *extra)
    return code, (json.loads(out) if out.strip() else {}), err


def stored(idx: Path) -> tuple[set[str], dict[str, Any]]:
    store = open_store(index_dir=idx)
    try:
        plans = {p.payload["plan"] for p in store.scroll("planvec_tasks", with_payload=("plan",))}
        return plans, store.read_manifest("planvec_tasks") or {}
    finally:
        store.close()


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """plans/phase-1/a.md, plans/phase-2/b.md, plans/phase-2/c.md (2 tasks each)."""
    root = tmp_path / "plans"
    for rel, n in (("phase-1/a.md", 1), ("phase-2/b.md", 2), ("phase-2/c.md", 3)):
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(PHASE.format(n=n), encoding="utf-8")
    return root


def test_indexing_a_subfolder_addresses_the_same_plans(tree: Path, tmp_path: Path) -> None:
    """The issue's example: a subfolder run renamed every plan (wipe and re-add)."""
    idx = tmp_path / "idx"
    assert index(tree, idx)[0] == 0
    before, manifest = stored(idx)
    assert before == {"phase-1/a.md", "phase-2/b.md", "phase-2/c.md"}
    assert manifest["root"] == str(tree)
    (tree / "phase-2" / "b.md").write_text(PHASE.format(n=2) + "- [ ] Nouvelle\n", "utf-8")
    code, report, _ = index(tree / "phase-2", idx)
    assert code == 0
    assert (report["added"], report["deleted"], report["unchanged"]) == (1, 0, 4)
    assert stored(idx)[0] == before
    code, report, _ = index(tree / "phase-2", idx, "--keep-missing")
    assert code == 0 and report["added"] == 0 and report["unchanged"] == 5  # no duplicates


def test_a_subset_run_deletes_only_inside_its_paths(tree: Path, tmp_path: Path) -> None:
    idx = tmp_path / "idx"
    assert index(tree, idx)[0] == 0
    (tree / "phase-2" / "c.md").unlink()
    code, report, _ = index(tree / "phase-2" / "b.md", idx)  # a single file argument
    assert code == 0 and report["deleted"] == 0, "c.md lies outside the given paths"
    code, report, _ = index(tree / "phase-2", idx)
    assert code == 0 and report["plans_deleted"] == ["phase-2/c.md"]
    assert stored(idx)[0] == {"phase-1/a.md", "phase-2/b.md"}


def test_a_path_outside_the_root_is_a_clear_error(tree: Path, tmp_path: Path) -> None:
    idx = tmp_path / "idx"
    assert index(tree / "phase-2", idx)[0] == 0
    code, _, err = index(tree / "phase-1", idx)
    assert code == 2 and "outside the root of this index" in err and "--root" in err
    code, _, err = invoke("check", str(tree / "phase-1"), "--index", str(idx), "--offline")
    assert code == 2 and "outside the root" in err
    assert stored(idx)[0] == {"b.md", "c.md"}


def test_moving_the_root_renames_plans_behind_the_guard(tree: Path, tmp_path: Path) -> None:
    idx = tmp_path / "idx"
    assert index(tree / "phase-2", idx)[0] == 0
    code, _, err = index(tree, idx, "--root", str(tree))
    assert code == 2 and "--allow-delete" in err  # b.md and c.md would become phase-2/...
    code, report, _ = index(tree, idx, "--root", str(tree), "--allow-delete")
    assert code == 0 and report["embedded"] == 0  # same texts: vectors from the cache
    plans, manifest = stored(idx)
    assert plans == {"phase-1/a.md", "phase-2/b.md", "phase-2/c.md"}
    assert manifest["root"] == str(tree)


def test_an_index_without_a_root_keeps_its_plan_names(tree: Path, tmp_path: Path) -> None:
    """An index built before roots (names relative to the argument) is adopted, not renamed."""
    idx = tmp_path / "idx"
    store = open_store(index_dir=idx)
    try:
        Index(store, HashingEmbedder(), lexical=LexicalEncoder()).sync(sources_for([tree]))
    finally:
        store.close()
    assert "root" not in stored(idx)[1]
    code, report, _ = index(tree / "phase-2", idx)
    assert code == 0 and report["added"] == 0 and report["deleted"] == 0
    plans, manifest = stored(idx)
    assert plans == {"phase-1/a.md", "phase-2/b.md", "phase-2/c.md"}
    assert manifest["root"] == str(tree)


def test_new_index_root_is_the_config_folder_then_the_vcs_root(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = tmp_path / "project"
    plans = project / "docs" / "plans"
    plans.mkdir(parents=True)
    (plans / "a.md").write_text(PHASE.format(n=1), encoding="utf-8")
    assert project_root([plans]) == plans
    (project / ".git").mkdir()
    assert project_root([plans]) == project
    config = project / "docs" / "planvec.toml"
    config.write_text("", encoding="utf-8")
    assert project_root([plans], config_file=config) == project / "docs"
    assert project_root([plans / "a.md"], config_file=tmp_path / "other" / "p.toml") == project
    monkeypatch.chdir(project)
    code, _, _ = index(Path("docs/plans"), Path("idx"))
    assert code == 0
    assert stored(project / "idx")[0] == {"docs/plans/a.md"}


def test_root_in_config_file_is_relative_to_the_file(tree: Path, tmp_path: Path) -> None:
    config = tmp_path / "planvec.toml"
    config.write_text('root = "plans"\n', encoding="utf-8")
    idx = tmp_path / "idx"
    code, _, _ = index(tree / "phase-1", idx, "--config", str(config))
    assert code == 0 and stored(idx)[0] == {"phase-1/a.md"}


def test_resolve_root_prefers_explicit_then_recorded(tree: Path) -> None:
    recorded = {"root": str(tree)}
    assert resolve_root(recorded, [tree / "phase-1"]) == tree
    assert resolve_root(recorded, [tree / "phase-1"], explicit=tree / "phase-1") == tree / "phase-1"
    with pytest.raises(Exception, match="no longer exists"):
        resolve_root({"root": str(tree / "gone")}, [tree])


def test_check_and_repair_of_a_subfolder_leave_other_plans_alone(
    tree: Path, tmp_path: Path
) -> None:
    idx = tmp_path / "idx"
    assert index(tree, idx)[0] == 0
    base = ("--index", str(idx), "--offline")
    code, out, _ = invoke("check", str(tree / "phase-2"), *base, "--json")
    assert code == 0 and json.loads(out)["findings"] == []
    (tree / "phase-2" / "c.md").unlink()
    code, out, _ = invoke("check", str(tree / "phase-2"), *base, "--json")
    kinds = {(f["kind"], f["plan"]) for f in json.loads(out)["findings"]}
    assert code == 1 and kinds == {("orphan_plan", "phase-2/c.md")}
    assert invoke("repair", str(tree / "phase-2"), *base, "--apply")[0] == 0
    assert stored(idx)[0] == {"phase-1/a.md", "phase-2/b.md"}
