"""`planvec mcp --transport http` on 127.0.0.1, driven by the SDK's Streamable HTTP client."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from mcp import Client

from .conftest import Project, child_env, drive

pytestmark = pytest.mark.timeout(120)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _wait_listening(proc: subprocess.Popen[bytes], port: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, "planvec mcp --transport http exited early"
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise AssertionError(f"nothing listens on 127.0.0.1:{port} after {timeout}s")


def test_http_transport_on_loopback(shared_project: Project) -> None:
    port = _free_port()
    project = shared_project
    args = [sys.executable, "-m", "planvec", "mcp", "--index", str(project.index_dir),
            "--offline", "--transport", "http", "--port", str(port)]  # fmt: skip
    proc = subprocess.Popen(
        args, cwd=project.root, env=child_env(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    try:
        _wait_listening(proc, port)

        async def scenario(client: Client) -> dict[str, Any]:
            tools = {t.name for t in (await client.list_tools()).tools}
            progress = await client.call_tool("plan_progress", {"plan": "plans/notes-ops.md"})
            bad = await client.call_tool("get_task", {"id": "nope"})
            return {"tools": tools, "progress": progress, "bad": bad}

        out = drive(f"http://127.0.0.1:{port}/mcp", scenario)
    finally:
        proc.terminate()
        proc.communicate(timeout=30)  # reaps it and closes the stderr pipe
    assert "search_tasks" in out["tools"] and "sync" not in out["tools"]
    (plan,) = out["progress"].structured_content["plans"]
    assert (plan["plan"], plan["tasks"], plan["done"]) == ("plans/notes-ops.md", 6, 1)
    assert out["bad"].is_error


def test_http_refuses_a_non_loopback_host(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "planvec", "mcp", "--index", str(tmp_path / "idx"), "--offline",
         "--transport", "http", "--host", "0.0.0.0"],
        cwd=tmp_path, env=child_env(), capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode != 0
    assert "loopback only" in done.stderr
