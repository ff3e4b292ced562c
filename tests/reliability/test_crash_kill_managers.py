"""Crash safety per collection: ``planvec managers run`` killed with SIGKILL at random
moments, then rerun, ends in exactly the state a clean run gives (the dependency
manager's collection: ids, payloads, vectors), and the plans' collection is untouched.

``make test`` runs 2 kills; ``--reliability-full`` runs 50. Inputs: the real manifests of
tests/fixtures/manifests (version A) and an edited copy (version B: a dependency added, one
removed, a constraint changed, a manifest deleted, one added).
"""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from planvec.embedding_recipe import VOLATILE_FIELDS
from planvec.store import open_store

from .conftest import Figures

REPO = Path(__file__).resolve().parents[2]
MANIFESTS = REPO / "tests" / "fixtures" / "manifests"
COLLECTION = "planvec_dependencies"

pytestmark = pytest.mark.reliability


def _spawn(project: Path, index: Path) -> subprocess.Popen[bytes]:
    env = dict(os.environ, PLANVEC_EMBEDDER="hashing")
    cmd = [sys.executable, "-m", "planvec", "managers", "run", "dependencies", str(project)]
    cmd += ["--index", str(index), "--json", "--allow-delete"]
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)


def _run(project: Path, index: Path) -> dict[str, Any]:
    proc = _spawn(project, index)
    out, errout = proc.communicate(timeout=600)
    assert proc.returncode == 0, errout.decode()
    report: dict[str, Any] = json.loads(out)
    return report


def _snapshot(index: Path, collection: str = COLLECTION) -> dict[str, Any]:
    store = open_store(index_dir=index)
    try:
        out = {}
        for p in store.scroll(collection, with_vectors=True):
            payload = {k: v for k, v in p.payload.items() if k not in VOLATILE_FIELDS}
            out[str(p.id)] = (payload, [round(x, 5) for x in p.vector or []], p.sparse)
        return out
    finally:
        store.close()


def _versions(tmp: Path) -> tuple[Path, Path]:
    a = Path(shutil.copytree(MANIFESTS, tmp / "a" / "project"))
    b = Path(shutil.copytree(MANIFESTS, tmp / "b" / "project"))
    req = b / "api" / "requirements.txt"
    req.write_text(req.read_text().replace("flask==3.0.2", "flask==3.0.3") + "redis>=5\n")
    (b / "gateway" / "go.mod").unlink()
    pkg = b / "admin" / "package.json"
    pkg.write_text(pkg.read_text().replace('    "lodash": "4.17.21"\n', "").replace(
        '<2.0.0",', '<2.0.0"'))  # fmt: skip
    (b / "tools").mkdir()
    (b / "tools" / "requirements-dev.txt").write_text("ruff>=0.4\nmypy>=1.8\n")
    return a, b


def test_killed_managers_runs_converge_to_a_clean_run(
    tmp_path: Path, request: pytest.FixtureRequest, figures: Figures
) -> None:
    kills = 50 if request.config.getoption("--reliability-full") else 2
    version_a, version_b = _versions(tmp_path)
    clean, crashy = tmp_path / "clean", tmp_path / "crashy"

    started = time.perf_counter()
    _run(version_b, clean)
    full_seconds = time.perf_counter() - started
    expected = _snapshot(clean)
    assert len(expected) == 32 - 3 - 1 + 1 + 2  # go.mod's 3 and lodash gone; redis, ruff, mypy

    _run(version_a, crashy)
    rng = random.Random(4321)
    killed = 0
    for attempt in range(kills):
        proc = _spawn(version_b if attempt % 2 == 0 else version_a, crashy)
        time.sleep(rng.uniform(0.3 * full_seconds, full_seconds))  # past the interpreter start
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            killed += 1
        proc.communicate(timeout=60)

    final = _run(version_b, crashy)
    assert final["ok"] and final["failed"] == []
    got = _snapshot(crashy)
    figures.add("crash_kill_managers", "attempts", kills)
    figures.add("crash_kill_managers", "kills", killed)
    figures.add("crash_kill_managers", "points_lost", len(expected.keys() - got.keys()))
    figures.add("crash_kill_managers", "points_orphaned", len(got.keys() - expected.keys()))
    assert got.keys() == expected.keys(), "lost or orphaned points"
    assert got == expected, "payloads or vectors differ from a clean run"
    again = _run(version_b, crashy)["managers"][0]["sync"]
    assert again["added"] + again["updated"] + again["payload_only"] + again["deleted"] == 0
    assert killed >= 1
