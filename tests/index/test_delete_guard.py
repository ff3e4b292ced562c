"""The deletion guard: no sync silently deletes most of an index or of a plan.

Through the real CLI (click runner, embedded Edge index, hashing embedder) and the library.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
from click.testing import CliRunner

from planvec.cli.main import cli
from planvec.embed.hashing import HashingEmbedder
from planvec.errors import DeleteRefused
from planvec.guard import DeleteGuard, trips
from planvec.index import Index
from planvec.store import open_store
from planvec.text.lexical import LexicalEncoder

EXTRA = "# Extra\n\n" + "".join(f"- [ ] Tâche supplémentaire numéro {i}\n" for i in range(12))


def invoke(*args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args), env=env)
    assert "Traceback" not in result.stderr
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def project(plan_tree: Path) -> Path:
    """roadmap.md (7 tasks), sub/notes.md (2) and extra.md (12)."""
    (plan_tree / "extra.md").write_text(EXTRA, encoding="utf-8")
    return plan_tree


def index(plans: Path, idx: Path, *extra: str) -> tuple[int, dict[str, object], str]:
    code, out, err = invoke("index", str(plans), "--index", str(idx), "--offline", "--json", *extra)
    return code, (json.loads(out) if out.strip() else {}), err


def count(idx: Path) -> int:
    store = open_store(index_dir=idx)
    try:
        return store.count("planvec_tasks")
    finally:
        store.close()


def test_emptied_directory_is_refused_until_confirmed(project: Path, tmp_path: Path) -> None:
    """The issue's example: every plan gone from the indexed directory deleted every point."""
    idx = tmp_path / "idx"
    code, first, _ = index(project, idx)
    assert code == 0 and first["added"] == 21
    for path in sorted(project.rglob("*.md")):
        path.unlink()
    code, report, err = index(project, idx, "--dry-run")
    assert code == 2 and report["deleted"] == 21
    assert report["guard"]["refused"] and report["guard"]["points_before"] == 21
    assert "--allow-delete" in err
    code, report, err = index(project, idx)
    assert code == 2 and "would delete 21 of the 21" in err and "--allow-delete" in err
    assert count(idx) == 21, "nothing may be deleted"
    code, report, _ = index(project, idx, "--allow-delete")
    assert code == 0 and report["deleted"] == 21 and count(idx) == 0


def test_another_empty_directory_is_outside_the_root(project: Path, tmp_path: Path) -> None:
    idx = tmp_path / "idx"
    assert index(project, idx)[0] == 0
    empty = tmp_path / "empty"
    empty.mkdir()
    code, _, err = index(empty, idx)
    assert code == 2 and "outside the root" in err and "--root" in err
    assert count(idx) == 21


@pytest.mark.parametrize(
    "content",
    [
        b"",  # the example: a plan emptied
        "Brouillon sans aucune tâche.\n".encode(),  # overwritten by junk text
        bytes(random.Random(3).randrange(0x80, 0x100) for _ in range(3000)),  # undecodable
    ],
    ids=["emptied", "junk-text", "high-bytes"],
)
def test_a_plan_that_lost_most_tasks_is_held(content: bytes, project: Path, tmp_path: Path) -> None:
    idx = tmp_path / "idx"
    assert index(project, idx)[0] == 0
    (project / "extra.md").write_bytes(content)
    roadmap = project / "roadmap.md"
    roadmap.write_text(
        roadmap.read_text(encoding="utf-8") + "- [ ] **2.3** Ajouter un tableau de bord\n",
        encoding="utf-8",
    )
    code, report, err = index(project, idx)
    assert code == 2 and "plan extra.md would delete 12 of its 12" in err
    assert report["guard"]["held_plans"][0]["plan"] == "extra.md"
    assert report["added"] == 1, "the other plans are synced"
    assert count(idx) == 22, "the held plan keeps its 12 tasks"
    code, report, _ = index(project, idx, "--allow-delete")
    assert code == 0 and report["deleted"] == 12 and count(idx) == 10


@pytest.mark.parametrize(
    "content",
    [b"\x00\x01binary\x00" * 300, bytes(range(256)) * 40],
    ids=["nul-bytes", "all-bytes"],
)
def test_binary_junk_is_unreadable_and_keeps_its_tasks(
    content: bytes, project: Path, tmp_path: Path
) -> None:
    idx = tmp_path / "idx"
    assert index(project, idx)[0] == 0
    (project / "extra.md").write_bytes(content)
    code, report, err = index(project, idx)
    assert code == 1 and report["failed"] == 1 and report["deleted"] == 0
    assert "extra.md" in err and count(idx) == 21


def test_first_index_and_small_deletions_pass(project: Path, tmp_path: Path) -> None:
    idx = tmp_path / "idx"
    code, report, _ = index(project, idx)
    assert code == 0 and report["guard"]["points_before"] == 0
    (project / "sub" / "notes.md").unlink()  # 2 of 21: a normal edit
    code, report, _ = index(project, idx)
    assert code == 0 and report["deleted"] == 2 and not report["guard"]["refused"]


def test_threshold_from_flag_env_and_config(project: Path, tmp_path: Path) -> None:
    idx = tmp_path / "idx"
    assert index(project, idx)[0] == 0
    (project / "extra.md").unlink()  # 12 of 21 points: 57 %
    assert index(project, idx, "--dry-run")[0] == 2
    assert index(project, idx, "--dry-run", "--max-delete", "0.6")[0] == 0
    code, _, err = invoke(
        *("index", str(project), "--index", str(idx), "--offline", "--dry-run"),
        env={"PLANVEC_MAX_DELETE": "0.6"},
    )
    assert code == 0, err
    config = tmp_path / "planvec.toml"
    config.write_text("max_delete = 0.2\n", encoding="utf-8")
    (project / "extra.md").write_text(EXTRA, encoding="utf-8")
    (project / "sub" / "notes.md").unlink()
    (project / "roadmap.md").unlink()  # 7 + 2 of 21 = 43 %: over 20 %
    code, _, err = invoke(
        *("index", str(project), "--index", str(idx), "--offline", "--config", str(config))
    )
    assert code == 2 and "max_delete = 20%" in err
    code, _, err = invoke("index", str(project), "--index", str(idx), "--max-delete", "2")
    assert code == 2 and "--max-delete" in err


def test_library_guard_raises_with_the_report(project: Path, tmp_path: Path) -> None:
    store = open_store(index_dir=tmp_path / "idx")
    try:
        idx = Index(store, HashingEmbedder(), lexical=LexicalEncoder())
        idx.sync(idx.source([project]))
        for path in project.rglob("*.md"):
            path.write_text("# vide\n", encoding="utf-8")
        with pytest.raises(DeleteRefused) as caught:
            idx.sync(idx.source([project]))
        assert caught.value.exit_code == 2
        assert idx.count() == 21
        report = idx.sync(idx.source([project]), guard=DeleteGuard(allow=True))
        assert report.deleted == 21 and idx.count() == 0
        assert idx.manifest is not None and "sync_in_progress" not in idx.manifest
    finally:
        store.close()


def test_trips_rule() -> None:
    assert not trips(0, 100, 0.5)  # a first index
    assert not trips(4, 2, 0.5)  # not more than half
    assert not trips(2, 2, 0.5)  # below the floor
    assert trips(6, 4, 0.5) and trips(100, 51, 0.5) and not trips(100, 51, 0.6)
