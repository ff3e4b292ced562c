"""Library read operations shared by the HTTP service and the MCP server (planvec.operations)."""

from __future__ import annotations

from pathlib import Path

import pytest

from planvec.embed.hashing import HashingEmbedder
from planvec.errors import TaskNotFound
from planvec.index import Index, sources_for
from planvec.operations import get_task, list_plans, plan_progress
from planvec.records import Plan
from planvec.store import open_store
from planvec.text.lexical import LexicalEncoder


@pytest.fixture(params=["edge", "memory"])
def synced(request: pytest.FixtureRequest, plan_tree: Path, tmp_path: Path) -> Index:
    url = None if request.param == "edge" else "memory://"
    store = open_store(index_dir=tmp_path / "index", qdrant_url=url)
    index = Index(store, HashingEmbedder(dimension=64), lexical=LexicalEncoder())
    index.sync(sources_for([plan_tree]))
    return index


def _parsed(plan_tree: Path) -> dict[str, Plan]:
    return {
        item.path: item for item in sources_for([plan_tree]).iter_plans() if isinstance(item, Plan)
    }


def test_plan_progress_matches_what_parse_prints(synced: Index, plan_tree: Path) -> None:
    parsed = _parsed(plan_tree)
    progress = plan_progress(synced)
    assert [p.plan for p in progress] == sorted(parsed)
    for entry in progress:
        plan = parsed[entry.plan]
        assert (entry.tasks, entry.done) == (len(plan.tasks), plan.done)
        expected = [(s.title, s.tasks, s.done) for s in plan.sections]
        assert [(s.title, s.tasks, s.done) for s in entry.sections] == expected
    roadmap = next(p for p in progress if p.plan == "roadmap.md").to_dict()
    assert roadmap["sections"][0] == {
        "title": "Phase 1 : Fondations", "tasks": 5, "done": 2, "percent": 40.0,
    }  # fmt: skip
    assert roadmap["statuses"] == {"done": 2, "todo": 5}


def test_plan_progress_of_one_plan_and_unknown_plan(synced: Index) -> None:
    (only,) = plan_progress(synced, "sub/notes.md")
    assert (only.tasks, only.done, only.percent) == (2, 1, 50.0)
    with pytest.raises(TaskNotFound, match=r"no plan 'nope\.md'"):
        plan_progress(synced, "nope.md")


def test_list_plans_totals(synced: Index) -> None:
    listed = list_plans(synced)
    assert listed["total"] == {"plans": 2, "tasks": 9, "done": 3, "percent": 33.3}
    assert "sections" not in listed["plans"][0]


def test_get_task_with_parent_chain_and_children(synced: Index, plan_tree: Path) -> None:
    tasks = {t.key: t for p in _parsed(plan_tree).values() for t in p.tasks if t.key}
    parent, child = tasks["1.1"], tasks["1.1.2"]
    view = get_task(synced, child.id)
    assert view["task"]["text"] == child.text
    assert [p["id"] for p in view["parents"]] == [parent.id]
    assert view["children"] == [] and view["children_total"] == 0
    top = get_task(synced, parent.id.upper())  # ids are matched in canonical form
    assert [c["key"] for c in top["children"]] == ["1.1.1", "1.1.2"]
    assert top["parents"] == []


def test_get_task_unknown_or_malformed_id(synced: Index) -> None:
    with pytest.raises(TaskNotFound, match="no task with id"):
        get_task(synced, "00000000-0000-0000-0000-000000000000")
    with pytest.raises(TaskNotFound, match="not a task id"):
        get_task(synced, "../../etc/passwd")
