"""Sync semantics: exactly what changed is written, and the result equals a clean run."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from planvec.embedding_recipe import VOLATILE_FIELDS
from planvec.index import Index, sources_for

IndexFactory = Callable[..., Index]


def snapshot(index: Index) -> dict[str, tuple[Any, ...]]:
    """Every point: payload without volatile fields, its vector rounded, its sparse vector."""
    out = {}
    for p in index.points.scroll(with_vectors=True):
        payload = {k: v for k, v in p.payload.items() if k not in VOLATILE_FIELDS}
        assert p.vector is not None
        sparse = (
            (p.sparse.indices, tuple(round(v, 5) for v in p.sparse.values)) if p.sparse else None
        )
        out[str(p.id)] = (payload, tuple(round(x, 5) for x in p.vector), sparse)
    return out


def sync(index: Index, root: Path, **kw: Any) -> dict[str, Any]:
    return index.sync(sources_for([root]), **kw).to_dict()


def clean_state(root: Path, make_index: IndexFactory, tmp_path: Path) -> dict[str, Any]:
    from planvec.embed.hashing import HashingEmbedder
    from planvec.store import open_store
    from planvec.text.lexical import LexicalEncoder

    store = open_store(index_dir=tmp_path / "clean-index")
    try:
        index = Index(store, HashingEmbedder(), lexical=LexicalEncoder())
        sync(index, root)
        return snapshot(index)
    finally:
        store.close()


def test_first_run_adds_everything_and_rerun_is_a_noop(
    plan_tree: Path, make_index: IndexFactory
) -> None:
    index = make_index()
    first = sync(index, plan_tree)
    assert first["added"] == 9 and first["plans"] == 2
    assert first["embedded"] == 9
    assert index.count() == 9
    second = sync(index, plan_tree)
    assert second["unchanged"] == 9
    assert (second["added"], second["updated"], second["payload_only"], second["deleted"]) == (
        0,
        0,
        0,
        0,
    )
    assert second["embedded"] == 0


def test_text_edit_reembeds_one_task_and_keeps_its_id(
    plan_tree: Path, make_index: IndexFactory
) -> None:
    index = make_index()
    sync(index, plan_tree)
    before = snapshot(index)
    roadmap = plan_tree / "roadmap.md"
    roadmap.write_text(
        roadmap.read_text().replace("Write the API documentation", "Write the REST API reference"),
        encoding="utf-8",
    )
    report = sync(index, plan_tree)
    assert (report["updated"], report["embedded"], report["added"], report["deleted"]) == (
        1,
        1,
        0,
        0,
    )
    after = snapshot(index)
    assert before.keys() == after.keys()  # numbered task kept its id
    changed = [k for k in after if after[k] != before[k]]
    assert len(changed) == 1
    assert "REST API reference" in after[changed[0]][0]["text"]


def test_status_flip_rewrites_payload_only(plan_tree: Path, make_index: IndexFactory) -> None:
    index = make_index()
    sync(index, plan_tree)
    roadmap = plan_tree / "roadmap.md"
    roadmap.write_text(
        roadmap.read_text().replace("- [ ] **2.2**", "- [x] **2.2**"), encoding="utf-8"
    )
    before = snapshot(index)
    report = sync(index, plan_tree)
    assert report["payload_only"] == 1 and report["embedded"] == 0 and report["updated"] == 0
    after = snapshot(index)
    (flipped,) = [k for k in after if after[k][0] != before[k][0]]
    assert after[flipped][0]["status"] == "done"
    assert after[flipped][1] == before[flipped][1]  # vector untouched


def _shift_phase_2(text: str) -> str:
    """The plan with two lines of prose added above the Phase 2 tasks (their lines shift)."""
    return text.replace("## Phase 2 : API\n", "## Phase 2 : API\n\nIntro text.\n")


def test_moving_tasks_updates_lines_without_embedding(
    plan_tree: Path, make_index: IndexFactory, tmp_path: Path
) -> None:
    index = make_index()
    sync(index, plan_tree)
    roadmap = plan_tree / "roadmap.md"
    roadmap.write_text(_shift_phase_2(roadmap.read_text()), encoding="utf-8")
    report = sync(index, plan_tree)
    assert report["payload_only"] == 2 and report["embedded"] == 0
    # only the position fields were merged in: the result is still exactly a clean run's
    assert snapshot(index) == clean_state(plan_tree, make_index, tmp_path)
    assert sync(index, plan_tree)["unchanged"] == 9


def test_moved_and_flipped_task_gets_its_whole_payload(
    plan_tree: Path, make_index: IndexFactory, tmp_path: Path
) -> None:
    index = make_index()
    sync(index, plan_tree)
    roadmap = plan_tree / "roadmap.md"
    text = _shift_phase_2(roadmap.read_text())
    roadmap.write_text(text.replace("- [ ] **2.", "- [x] **2.", 1), encoding="utf-8")
    report = sync(index, plan_tree)
    assert report["payload_only"] == 2 and report["embedded"] == 0
    assert snapshot(index) == clean_state(plan_tree, make_index, tmp_path)


def test_deleted_task_and_deleted_plan_disappear(plan_tree: Path, make_index: IndexFactory) -> None:
    index = make_index()
    sync(index, plan_tree)
    roadmap = plan_tree / "roadmap.md"
    roadmap.write_text(
        roadmap.read_text().replace(
            "- [ ] **2.2** Add rate limiting to the public endpoints\n", ""
        ),
        encoding="utf-8",
    )
    (plan_tree / "sub" / "notes.md").unlink()
    report = sync(index, plan_tree)
    assert report["deleted"] == 3
    assert report["plans_deleted"] == ["sub/notes.md"]
    assert index.count() == 6
    texts = {p["text"] for p, *_ in snapshot(index).values()}
    assert not any("rate limiting" in t or "security" in t for t in texts)


def test_keep_missing_keeps_plans_not_given(plan_tree: Path, make_index: IndexFactory) -> None:
    index = make_index()
    sync(index, plan_tree)
    (plan_tree / "sub" / "notes.md").unlink()
    report = sync(index, plan_tree, delete_missing=False)
    assert report["deleted"] == 0 and index.count() == 9


def test_renamed_plan_moves_points_and_reuses_cached_vectors(
    plan_tree: Path, make_index: IndexFactory
) -> None:
    index = make_index()
    sync(index, plan_tree)
    (plan_tree / "sub" / "notes.md").rename(plan_tree / "sub" / "renamed.md")
    report = sync(index, plan_tree)
    assert report["added"] == 2 and report["deleted"] == 2
    assert report["embedded"] == 0  # same text: vectors come from the cache
    plans = {p["plan"] for p, *_ in snapshot(index).values()}
    assert plans == {"roadmap.md", "sub/renamed.md"}


def test_unparseable_file_keeps_its_indexed_tasks(
    plan_tree: Path, make_index: IndexFactory
) -> None:
    index = make_index()
    sync(index, plan_tree)
    (plan_tree / "sub" / "notes.md").write_bytes(b"\x00\x01\x02binary\x00" * 100)
    report = sync(index, plan_tree)
    assert report["failed"] == 1 and report["deleted"] == 0
    assert index.count() == 9


def test_dry_run_writes_nothing(plan_tree: Path, make_index: IndexFactory) -> None:
    index = make_index()
    plan = sync(index, plan_tree, dry_run=True)
    assert plan["added"] == 9 and plan["dry_run"]
    assert index.count() == 0
    sync(index, plan_tree)
    (plan_tree / "sub" / "notes.md").unlink()
    before = snapshot(index)
    plan = sync(index, plan_tree, dry_run=True)
    assert plan["deleted"] == 2
    assert {c["action"] for c in plan["changes"]} == {"delete-plan"}
    assert snapshot(index) == before


def test_incremental_history_equals_clean_run(
    plan_tree: Path, make_index: IndexFactory, tmp_path: Path
) -> None:
    index = make_index()
    sync(index, plan_tree)
    roadmap = plan_tree / "roadmap.md"
    text = roadmap.read_text()
    text = text.replace("- [ ] **1.2**", "- [x] **1.2**").replace(
        "Phase 2 : API", "Phase 2 : API REST"
    )
    text += "- [ ] **2.3** Publish the SDK\n"
    roadmap.write_text(text, encoding="utf-8")
    (plan_tree / "sub" / "notes.md").unlink()
    (plan_tree / "new.md").write_text("# New\n\n- [ ] A brand new task\n", encoding="utf-8")
    sync(index, plan_tree)
    assert snapshot(index) == clean_state(plan_tree, make_index, tmp_path)


def test_search_finds_and_filters(plan_tree: Path, make_index: IndexFactory) -> None:
    index = make_index()
    sync(index, plan_tree)
    hits = index.search("sauvegarde de la base de données", limit=3)
    assert hits and "sauvegarde de la base" in hits[0].text
    assert hits[0].plan == "roadmap.md" and hits[0].line == 5
    done = index.search("script dump", status="done", limit=10)
    assert done and all(h.status == "done" for h in done)
    only_notes = index.search("security policies", plan="sub/*", limit=10)
    assert only_notes and all(h.plan == "sub/notes.md" for h in only_notes)
    in_api = index.search("documentation", section="phase 2", limit=10)
    assert in_api and all("Phase 2" in " > ".join(h.section) for h in in_api)
    for mode in ("dense", "sparse", "hybrid"):
        got = index.search("rate limiting endpoints", mode=mode, limit=2)
        assert got[0].text.endswith("Add rate limiting to the public endpoints"), mode


@pytest.mark.parametrize("bad", ["", "   "])
def test_empty_query_is_a_clear_error(bad: str, plan_tree: Path, make_index: IndexFactory) -> None:
    from planvec.errors import ConfigError

    index = make_index()
    sync(index, plan_tree)
    with pytest.raises(ConfigError, match="empty"):
        index.search(bad)


def test_two_arguments_with_the_same_plan_name_are_refused(tmp_path: Path) -> None:
    from planvec.errors import ConfigError

    for side in ("a", "b"):
        (tmp_path / side).mkdir()
        (tmp_path / side / "plan.md").write_text(f"# {side}\n\n- [ ] task {side}\n")
    with pytest.raises(ConfigError, match=r"both be indexed as plan 'plan\.md'"):
        sources_for([tmp_path / "a", tmp_path / "b"])
