"""Fixtures for the MCP tests: the bundled example plans, indexed with the hashing embedder.

The server under test is the real command (`python -m planvec mcp --offline`) in a
subprocess, driven by the SDK's own client (`mcp.Client`) over stdio or Streamable HTTP on
127.0.0.1. Every wait is bounded (`anyio.fail_after`, pytest-timeout).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import pytest

pytest.importorskip("mcp.server.mcpserver")

import anyio
from mcp import Client, StdioServerParameters

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "examples" / "plans"
T = TypeVar("T")


@dataclass(frozen=True)
class Project:
    """A project folder (a VCS root) holding `plans/` and its index `.planvec`."""

    root: Path
    index_dir: Path

    @property
    def plans(self) -> Path:
        return self.root / "plans"


def child_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PLANVEC_")}
    env.update(HF_HUB_OFFLINE="1", PLANVEC_OWNER="off", PLANVEC_WAIT_HELD="10")
    return env


#: a plan repeating a task of notes-ops.md word for word (an exact duplicate across plans)
DUPLICATE_TEXT = "Rotate the TLS certificates on the load balancer"


def make_project(base: Path, *, with_duplicate: bool = True) -> Project:
    """Copy the example plans into ``base``/plans and index them (hashing embedder)."""
    (base / ".git").mkdir(parents=True)  # the project root: plan names are plans/<file>
    shutil.copytree(EXAMPLES, base / "plans")
    if with_duplicate:
        extra = f"# Doublons\n\n- [ ] {DUPLICATE_TEXT}\n- [ ] Nettoyer les vieux tableaux de bord\n"
        (base / "plans" / "sub").mkdir()
        (base / "plans" / "sub" / "doublons.md").write_text(extra, encoding="utf-8")
    project = Project(base, base / ".planvec")
    done = subprocess.run(
        [sys.executable, "-m", "planvec", "index", "plans", "--index", str(project.index_dir),
         "--offline", "--json"],
        cwd=base, env=child_env(), capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return project


@pytest.fixture(scope="session")
def shared_project(tmp_path_factory: pytest.TempPathFactory) -> Project:
    """Indexed once per session, for the tests that only read (the server never writes
    without --allow-write, and each of them checks what it reads against the files)."""
    return make_project(tmp_path_factory.mktemp("shared") / "project")


@pytest.fixture
def project(tmp_path: Path) -> Project:
    """A project of its own, for a test that writes."""
    return make_project(tmp_path / "project")


def stdio_params(project: Project, *extra: str) -> StdioServerParameters:
    args = ["-m", "planvec", "mcp", "--index", str(project.index_dir), "--offline", *extra]
    return StdioServerParameters(
        command=sys.executable, args=args, env=child_env(), cwd=str(project.root)
    )


def drive(server: Any, scenario: Callable[[Client], Awaitable[T]], timeout: float = 60) -> T:
    """Connect the SDK client to ``server``, run ``scenario``, all within ``timeout`` s."""

    async def main() -> T:
        with anyio.fail_after(timeout):
            async with Client(server, read_timeout_seconds=30) as client:
                return await scenario(client)

    return anyio.run(main)
