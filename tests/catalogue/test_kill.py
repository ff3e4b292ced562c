"""Crash safety: ``planvec catalogue sync`` killed with SIGKILL at random moments, then
rerun, ends with exactly the tables a clean run gives.

The default run kills a few times; ``make test-reliability`` (``--reliability-full``) many
more. Uses a slice of the shared corpus when present, else the bundled example plans.
"""

from __future__ import annotations

import json
import random
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from .conftest import catalogue_tasks, expected_tasks, query

REPO = Path(__file__).resolve().parents[2]
CORPUS = REPO.parent / "shared" / "corpus" / "plans"

pytestmark = pytest.mark.reliability


def _versions(tmp: Path) -> tuple[Path, Path]:
    """Version A (start) and B (converge to) of one plan tree: flips, edits, deletions."""
    a, b = tmp / "a", tmp / "b"
    if CORPUS.is_dir():
        base = CORPUS
        files = sorted(p for p in CORPUS.rglob("*.md") if p.stat().st_size > 20_000)[:8]
    else:
        base = REPO / "examples" / "plans"
        files = sorted(base.rglob("*.md"))
    for f in files:
        for root in (a, b):
            dest = root / f.relative_to(base)
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(f, dest)
    rng = random.Random(17)
    victims = sorted(b.rglob("*.md"))
    victims[-1].unlink()
    for f in victims[:-1]:
        lines = f.read_text(encoding="utf-8", errors="replace").splitlines(keepends=True)
        for i, line in enumerate(lines):
            if re.match(r"\s*[-*+] \[ \]", line) and rng.random() < 0.05:
                lines[i] = line.replace("[ ]", "[x]", 1)
            elif re.match(r"\s*[-*+] \[[ x]\]", line) and rng.random() < 0.05:
                lines[i] = line.rstrip("\n") + " (révisé)\n"
            elif re.match(r"\s*[-*+] \[[ x]\]", line) and rng.random() < 0.03:
                lines[i] = ""
        f.write_text("".join(lines), encoding="utf-8")
    (b / "added.md").write_text("# Ajout\n\n- [ ] Une tâche ajoutée\n", encoding="utf-8")
    return a, b


def _start(tree: Path, dsn: str, *extra: str) -> subprocess.Popen[bytes]:
    cmd = [sys.executable, "-m", "planvec", "catalogue", "sync", str(tree), "--dsn", dsn, "--json"]
    cmd += extra
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def _run(tree: Path, dsn: str, *extra: str) -> dict[str, Any]:
    proc = _start(tree, dsn, *extra)
    out, errout = proc.communicate(timeout=600)
    assert proc.returncode in (0, 1), errout.decode()
    report: dict[str, Any] = json.loads(out)
    return report


def _tables(dsn: str) -> tuple[dict[str, Any], list[tuple[Any, ...]]]:
    plans = query(dsn, "SELECT path, title, file_hash, tasks, done FROM planvec.plans ORDER BY 1")
    return catalogue_tasks(dsn), plans


def test_killed_catalogue_syncs_converge_to_a_clean_run(
    tmp_path: Path, new_dsn: Callable[[], str], request: pytest.FixtureRequest
) -> None:
    kills = 40 if request.config.getoption("--reliability-full") else 6
    version_a, version_b = _versions(tmp_path)
    clean, crashy = new_dsn(), new_dsn()
    started = time.perf_counter()
    _run(version_b, clean)
    full_seconds = time.perf_counter() - started
    expected = _tables(clean)
    assert expected[0] == expected_tasks([version_b])

    _run(version_a, crashy)
    rng = random.Random(4321)
    killed = 0
    for attempt in range(kills):
        proc = _start(version_b if attempt % 2 == 0 else version_a, crashy)
        time.sleep(rng.uniform(0.0, full_seconds))
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            killed += 1
        proc.communicate(timeout=60)

    final = _run(version_b, crashy)
    assert final["failures"] == []
    assert _tables(crashy) == expected
    again = _run(version_b, crashy)
    assert (again["added"], again["updated"], again["deleted"]) == (0, 0, 0)
    states = {r[0] for r in query(crashy, "SELECT state FROM planvec.sync_runs")}
    assert states <= {"ok", "interrupted"} and "running" not in states
    assert killed >= 1, "no run was killed: the loop proved nothing"


def _flip_statuses(dsn: str) -> int:
    """A dashboard's edits: every 20th todo/done task flipped (deterministic)."""
    rows = query(
        dsn,
        "WITH picked AS (SELECT id FROM (SELECT id, row_number() OVER (ORDER BY id) AS n"
        " FROM planvec.tasks WHERE status IN ('todo', 'done')) s WHERE mod(n, 20) = 0)"
        " UPDATE planvec.tasks t SET status = CASE t.status WHEN 'done' THEN 'todo'"
        " ELSE 'done' END FROM picked WHERE t.id = picked.id RETURNING t.id",
    )
    return len(rows)


def _tree_bytes(tree: Path) -> dict[str, bytes]:
    return {str(p.relative_to(tree)): p.read_bytes() for p in sorted(tree.rglob("*.md"))}


def test_killed_write_back_syncs_converge_to_a_clean_run(
    tmp_path: Path, new_dsn: Callable[[], str], request: pytest.FixtureRequest
) -> None:
    """Kills during write-backs: files and tables end as after one clean write-back run."""
    kills = 30 if request.config.getoption("--reliability-full") else 4
    tree, _ = _versions(tmp_path)
    clean_tree = tmp_path / "clean"
    shutil.copytree(tree, clean_tree)
    clean, crashy = new_dsn(), new_dsn()
    for dsn, root in ((clean, clean_tree), (crashy, tree)):
        _run(root, dsn)
        assert _flip_statuses(dsn) > 10
    started = time.perf_counter()
    assert _run(clean_tree, clean, "--write-back")["status_from_db"] > 10
    full_seconds = time.perf_counter() - started

    rng = random.Random(99)
    killed = 0
    for _ in range(kills):
        proc = _start(tree, crashy, "--write-back")
        time.sleep(rng.uniform(0.0, full_seconds))
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            killed += 1
        proc.communicate(timeout=60)
    _run(tree, crashy, "--write-back")

    assert _tree_bytes(tree) == _tree_bytes(clean_tree)
    clean_tasks, crashy_tasks = catalogue_tasks(clean), catalogue_tasks(crashy)
    assert crashy_tasks == clean_tasks
    assert query(crashy, "SELECT count(*) FROM planvec.status_edits") == [(0,)]
    assert not list(tree.rglob(".*.planvec-tmp")), "a temp file was left behind"
