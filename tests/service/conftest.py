"""Fixtures for the service tests: plan trees, an in-process app, a real `planvec serve`.

The real owner is a `python -m planvec serve --offline` subprocess (hashing embedder, Edge
index in a temp dir) listening on 127.0.0.1 with port 0; tests find it through its discovery
file, as the CLI does. Every wait is bounded.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

pytest.importorskip("fastapi")
pytest.importorskip("uvicorn")

from planvec.service.discovery import OwnerInfo, discovery_path, read_discovery

ROADMAP = """\
# Roadmap v3

## Phase 1 : Fondations

- [ ] **1.1** Mettre en place la sauvegarde de la base de données
  - [x] **1.1.1** Écrire le script de dump PostgreSQL
  - [ ] **1.1.2** Planifier la rotation des sauvegardes
- [ ] **1.2** Configurer l'intégration continue
- [x] **1.3** Choisir le moteur de recherche vectorielle

## Phase 2 : API

- [ ] **2.1** Write the API documentation
- [ ] **2.2** Add rate limiting to the public endpoints
"""

NOTES = """\
# Notes

- [ ] Review security policies
- [x] Archive old dashboards
"""


def write_plans(root: Path) -> Path:
    (root / "sub").mkdir(parents=True, exist_ok=True)
    (root / "roadmap.md").write_text(ROADMAP, encoding="utf-8")
    (root / "sub" / "notes.md").write_text(NOTES, encoding="utf-8")
    return root


def big_plan(tasks: int, seed: str = "") -> str:
    """A plan with ``tasks`` tasks in sections of 50 (for syncs that take a while)."""
    lines = ["# Big plan", ""]
    for i in range(tasks):
        if i % 50 == 0:
            lines += ["", f"## Section {i // 50}", ""]
        lines.append(f"- [{' x'[i % 3 == 0]}] **{i}.1** Tâche {seed} numéro {i} sauvegarde {i % 7}")
    return "\n".join(lines) + "\n"


@pytest.fixture
def plan_dir(tmp_path: Path) -> Path:
    return write_plans(tmp_path / "plans")


def cli_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PLANVEC_")}
    env.update({"PLANVEC_EMBEDDER": "hashing", "HF_HUB_OFFLINE": "1"}, **extra)
    return env


def run_cli(
    *args: str, cwd: Path, timeout: float = 120, **env: str
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "planvec", *args],
        cwd=cwd,
        env=cli_env(**env),
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@dataclass
class Owner:
    """A running `planvec serve` subprocess."""

    proc: subprocess.Popen[str]
    info: OwnerInfo
    index_dir: Path

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.info.token}"}

    def stop(self, timeout: float = 60) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=10)
            raise


def start_owner(
    cwd: Path, *args: str, index_dir: Path | None = None, wait: float = 60, **env: str
) -> Owner:
    given = str(index_dir) if index_dir else ".planvec"  # relative: as a user in cwd types it
    index_dir = index_dir or cwd / ".planvec"
    proc = subprocess.Popen(
        [sys.executable, "-m", "planvec", "serve", "--index", given, *args],
        cwd=cwd,
        env=cli_env(**env),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    path = discovery_path(index_dir, None, "planvec_tasks", Path("unused"))
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        info = read_discovery(path)
        if info is not None and info.pid == proc.pid:
            return Owner(proc, info, index_dir)
        if proc.poll() is not None:
            out, err = proc.communicate()
            raise AssertionError(f"planvec serve exited {proc.returncode}: {err}{out}")
        time.sleep(0.05)
    proc.kill()
    raise AssertionError("planvec serve did not announce itself in time")


@pytest.fixture
def owner_factory(tmp_path: Path) -> Iterator[list[Owner]]:
    """Owners started by a test are stopped (SIGTERM, then SIGKILL) when it ends."""
    owners: list[Owner] = []
    yield owners
    for owner in owners:
        if owner.proc.poll() is None:
            owner.proc.kill()
        owner.proc.wait(timeout=30)
        if owner.proc.stdout:
            owner.proc.stdout.close()
        if owner.proc.stderr:
            owner.proc.stderr.close()
