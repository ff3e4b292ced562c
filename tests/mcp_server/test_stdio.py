"""`planvec mcp` over stdio, driven by the MCP SDK's own client (`mcp.Client`).

One server process per test (the real command, hashing embedder, Edge index of the example
plans copied to a temp dir): every tool is listed and called, a plan resource is read, bad
input gives tool errors while the server keeps answering, and `sync` exists only with
`--allow-write`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from mcp import Client
from mcp.shared.exceptions import MCPError
from mcp.types import CallToolResult, TextResourceContents

from planvec.index import sources_for
from planvec.records import Plan

from .conftest import DUPLICATE_TEXT, Project, drive, stdio_params

pytestmark = pytest.mark.timeout(120)

READ_TOOLS = {
    "search_tasks", "get_task", "plan_progress", "list_plans", "find_similar_tasks", "check_index",
}  # fmt: skip


def _ok(result: CallToolResult) -> dict[str, Any]:
    text = result.content[0].text if result.content else ""  # type: ignore[union-attr]
    assert not result.is_error, text
    assert result.structured_content is not None
    return result.structured_content


def _error(result: CallToolResult) -> str:
    assert result.is_error
    text: str = result.content[0].text  # type: ignore[union-attr]
    return text


def _parsed(plans: Path) -> dict[str, Plan]:
    return {f"plans/{p.path}": p for p in sources_for([plans]).iter_plans() if isinstance(p, Plan)}


def test_tools_resources_and_errors_over_stdio(shared_project: Project) -> None:
    async def scenario(client: Client) -> dict[str, Any]:
        out: dict[str, Any] = {}
        tools = (await client.list_tools()).tools
        out["tools"] = {t.name: t for t in tools}
        out["search"] = await client.call_tool(
            "search_tasks", {"query": "sauvegarde de la base de données", "limit": 5}
        )
        first = _ok(out["search"])["hits"][0]["id"]
        out["task"] = await client.call_tool("get_task", {"id": first})
        out["progress"] = await client.call_tool("plan_progress", {})
        out["one_plan"] = await client.call_tool(
            "plan_progress", {"plan": "plans/roadmap-v3-plateforme.md"}
        )
        out["plans"] = await client.call_tool("list_plans", {})
        out["similar_text"] = await client.call_tool(
            "find_similar_tasks", {"text": DUPLICATE_TEXT, "limit": 5}
        )
        out["check"] = await client.call_tool("check_index", {})
        out["resources"] = (await client.list_resources()).resources
        out["resource"] = await client.read_resource("plan://plans/notes-ops.md")
        out["glob"] = await client.call_tool(
            "search_tasks",
            {"query": "migrations", "plan": "plans/roadmap-*", "status": "in-progress"},
        )
        out["filtered"] = await client.call_tool(
            "search_tasks",
            {"query": "sauvegarde", "status": "done", "plan": "plans/roadmap-v3-plateforme.md"},
        )
        return out

    out = drive(stdio_params(shared_project), scenario)
    parsed = _parsed(shared_project.plans)

    assert set(out["tools"]) == READ_TOOLS  # no sync without --allow-write
    search_schema = out["tools"]["search_tasks"].input_schema
    assert search_schema["required"] == ["query"]
    assert {"query", "plan", "status", "section", "kind", "limit"} <= set(
        search_schema["properties"]
    )
    assert all(t.description and len(t.description) > 40 for t in out["tools"].values())

    hits = _ok(out["search"])["hits"]
    assert 1 <= len(hits) <= 5
    assert "sauvegarde" in hits[0]["text"].lower()
    assert hits[0]["id"] in out["search"].content[0].text  # the compact text names the id

    task = _ok(out["task"])
    assert task["task"]["id"] == hits[0]["id"]
    for parent in task["parents"]:  # the chain is real: each parent is in the same plan
        assert parent["plan"] == task["task"]["plan"] and parent["line"] < task["task"]["line"]

    progress = _ok(out["progress"])["plans"]
    assert {p["plan"]: (p["tasks"], p["done"]) for p in progress} == {
        name: (len(plan.tasks), plan.done) for name, plan in parsed.items()
    }
    roadmap = _ok(out["one_plan"])["plans"][0]
    expected = [
        (s.title, s.tasks, s.done) for s in parsed["plans/roadmap-v3-plateforme.md"].sections
    ]
    assert [(s["title"], s["tasks"], s["done"]) for s in roadmap["sections"]] == expected
    assert "Phase 1" in out["one_plan"].content[0].text

    listed = _ok(out["plans"])
    assert listed["total"]["tasks"] == sum(len(p.tasks) for p in parsed.values())
    assert Path(listed["root"]) == shared_project.root.resolve()

    similar = _ok(out["similar_text"])
    exact_plans = {e["plan"] for e in similar["exact"]}
    assert exact_plans == {"plans/notes-ops.md", "plans/sub/doublons.md"}

    check = _ok(out["check"])
    assert check["status"] == "ok" and check["plans_checked"] == len(parsed), check

    assert {r.uri for r in out["resources"]} == {f"plan://{name}" for name in parsed}
    (content,) = out["resource"].contents
    assert isinstance(content, TextResourceContents)
    assert content.text == (shared_project.plans / "notes-ops.md").read_text(encoding="utf-8")

    globbed = _ok(out["glob"])["hits"]  # status spelled as in the plans' legend
    assert globbed and all(h["status"] == "in_progress" for h in globbed)
    assert {h["plan"] for h in globbed} == {"plans/roadmap-v3-plateforme.md"}
    filtered = _ok(out["filtered"])["hits"]
    assert filtered and all(h["status"] == "done" for h in filtered)
    assert all(h["plan"] == "plans/roadmap-v3-plateforme.md" for h in filtered)


def test_similar_by_id_excludes_the_task_itself(shared_project: Project) -> None:
    async def scenario(client: Client) -> dict[str, Any]:
        hits = _ok(await client.call_tool("search_tasks", {"query": DUPLICATE_TEXT}))["hits"]
        hit = next(h for h in hits if h["text"] == DUPLICATE_TEXT)
        ids = {hit["id"], *(o["id"] for o in hit["also_in"])}
        mine = sorted(ids)[0]
        result = _ok(await client.call_tool("find_similar_tasks", {"id": mine}))
        return {"mine": mine, "ids": ids, "result": result}

    out = drive(stdio_params(shared_project), scenario)
    result = out["result"]
    assert len(out["ids"]) == 2  # the example task and its copy, collapsed into one hit
    assert result["of"]["id"] == out["mine"]
    assert [e["id"] for e in result["exact"]] == sorted(out["ids"] - {out["mine"]})
    assert out["mine"] not in {s["id"] for s in result["similar"]}
    assert all(s["text"] != DUPLICATE_TEXT for s in result["similar"])


def test_bad_input_is_a_tool_error_and_the_server_keeps_answering(shared_project: Project) -> None:
    calls = [
        ("get_task", {"id": "nope"}, "not a task id"),
        ("get_task", {"id": "00000000-0000-0000-0000-000000000000"}, "no task with id"),
        ("search_tasks", {"query": "   "}, "query is empty"),
        ("search_tasks", {"query": "api", "limit": 100000}, "from 1 to 50"),
        ("search_tasks", {"query": "api", "kind": "manager"}, "only 'task'"),
        ("search_tasks", {"query": "api", "status": "finished"}, "status='finished'"),
        ("plan_progress", {"plan": "nope.md"}, "no plan 'nope.md'"),
        ("find_similar_tasks", {}, "exactly one of text or id"),
        ("sync", {}, "sync"),  # not offered without --allow-write
    ]

    async def scenario(client: Client) -> dict[str, Any]:
        errors = [await client.call_tool(name, args) for name, args, _ in calls]
        refused = []
        for uri in ("plan://plans/missing.md", "plan://../../etc/passwd"):
            try:
                await client.read_resource(uri)
                refused.append(None)
            except MCPError as exc:
                refused.append(str(exc))
        after = await client.call_tool("list_plans", {})
        return {"errors": errors, "refused": refused, "after": after}

    out = drive(stdio_params(shared_project), scenario)
    for (name, _, expected), result in zip(calls, out["errors"], strict=True):
        assert expected in _error(result), (name, _error(result))
    assert out["refused"][0] is not None and "no plan 'plans/missing.md'" in out["refused"][0]
    assert out["refused"][1] is not None  # a path escaping the root is never read
    assert _ok(out["after"])["total"]["plans"] == 4  # still serving


def test_sync_only_with_allow_write(project: Project) -> None:
    new_task = "Chiffrer les sauvegardes avec une clé tournante"
    with (project.plans / "notes-ops.md").open("a", encoding="utf-8") as plan:
        plan.write(f"- [ ] {new_task}\n")

    async def scenario(client: Client) -> dict[str, Any]:
        names = {t.name for t in (await client.list_tools()).tools}
        escape = await client.call_tool("sync", {"paths": ["../outside"]})
        synced = await client.call_tool("sync", {"paths": ["plans/notes-ops.md"]})
        hits = await client.call_tool("search_tasks", {"query": new_task, "limit": 1})
        return {"names": names, "escape": escape, "synced": synced, "hits": hits}

    out = drive(stdio_params(project, "--allow-write"), scenario)
    assert out["names"] == READ_TOOLS | {"sync"}
    assert "outside the index root" in _error(out["escape"])
    report = _ok(out["synced"])
    assert (report["added"], report["deleted"], report["failed"]) == (1, 0, 0), report
    assert _ok(out["hits"])["hits"][0]["text"] == new_task
