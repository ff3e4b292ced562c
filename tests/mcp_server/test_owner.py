"""`planvec mcp` next to a running owner (`planvec serve`): every call goes through it.

The owner holds the embedded index (one process at a time), and the MCP server is told not
to wait for a held index (PLANVEC_WAIT_HELD=0): a call that tried to open the index itself
would fail, so answers prove the routing.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from mcp import Client

from planvec.service.discovery import discovery_path, read_discovery

from .conftest import Project, child_env, drive, stdio_params

pytest.importorskip("fastapi")
pytest.importorskip("uvicorn")
pytestmark = pytest.mark.timeout(120)


def _start_owner(project: Project) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "planvec", "serve", "--index", str(project.index_dir), "--offline"],
        cwd=project.root, env=child_env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    path = discovery_path(project.index_dir, None, "planvec_tasks", Path("unused"))
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        info = read_discovery(path)
        if info is not None and info.pid == proc.pid:
            return proc
        assert proc.poll() is None, "planvec serve exited early"
        time.sleep(0.05)
    proc.kill()
    raise AssertionError("planvec serve did not announce itself in time")


def test_calls_go_through_the_running_owner(project: Project) -> None:
    new_task = "Tester la restauration depuis la copie hors site"
    with (project.plans / "notes-ops.md").open("a", encoding="utf-8") as plan:
        plan.write(f"- [ ] {new_task}\n")
    owner = _start_owner(project)
    params = stdio_params(project, "--allow-write")
    assert params.env is not None
    params.env.update(PLANVEC_OWNER="auto", PLANVEC_WAIT_HELD="0")

    async def scenario(client: Client) -> dict[str, Any]:
        calls = {
            "plans": ("list_plans", {}),
            "progress": ("plan_progress", {}),
            "search": ("search_tasks", {"query": "sauvegarde", "limit": 3}),
            "check": ("check_index", {}),
            "sync": ("sync", {"paths": ["plans/notes-ops.md"]}),
            "found": ("search_tasks", {"query": new_task, "limit": 1}),
            "check_after": ("check_index", {}),
        }
        out = {key: await client.call_tool(name, args) for key, (name, args) in calls.items()}
        hit = out["search"].structured_content["hits"][0]
        out["task"] = await client.call_tool("get_task", {"id": hit["id"]})
        out["resource"] = await client.read_resource("plan://plans/notes-ops.md")
        return out

    try:
        out = drive(params, scenario)
    finally:
        owner.terminate()
        owner.wait(timeout=60)
    for key, result in out.items():
        if key != "resource":
            assert not result.is_error, (key, result.content)
    assert out["plans"].structured_content["total"]["plans"] == 4
    assert all("sections" in p for p in out["progress"].structured_content["plans"])
    before = out["check"].structured_content  # the new task is on disk, not yet indexed
    assert before["status"] == "problems", before
    assert [f["kind"] for f in before["findings"]] == ["missing"], before["findings"]
    assert out["check_after"].structured_content["status"] == "ok"
    assert out["sync"].structured_content["added"] == 1
    assert out["found"].structured_content["hits"][0]["text"] == new_task
    assert new_task in out["resource"].contents[0].text
