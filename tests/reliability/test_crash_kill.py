"""Crash safety: ``planvec index`` killed with SIGKILL at random moments, then rerun,
ends in exactly the state a clean full run gives (ids, payloads, vectors).

``make test`` runs a shortened loop; ``make test-reliability`` (``--reliability-full``) runs
at least 50 kills. Uses a slice of the shared corpus (real, messy plans) when present, else
the bundled example plans.
"""

from __future__ import annotations

import json
import os
import random
import re
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
CORPUS = REPO.parent / "shared" / "corpus" / "plans"

pytestmark = pytest.mark.reliability


def _planvec(*args: str, index: Path) -> subprocess.Popen[bytes]:
    env = dict(os.environ, PLANVEC_EMBEDDER="hashing")
    cmd = [sys.executable, "-m", "planvec", "index", *args, "--index", str(index), "--json"]
    cmd += ["--root", args[0], "--allow-delete"]  # versions A and B: one tree, two states
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)


def _run(*args: str, index: Path) -> dict[str, Any]:
    proc = _planvec(*args, index=index)
    out, errout = proc.communicate(timeout=600)
    assert proc.returncode in (0, 1), errout.decode()
    report: dict[str, Any] = json.loads(out)
    return report


def _snapshot(index: Path) -> dict[str, Any]:
    store = open_store(index_dir=index)
    try:
        out = {}
        for p in store.scroll("planvec_tasks", with_vectors=True):
            payload = {k: v for k, v in p.payload.items() if k not in VOLATILE_FIELDS}
            out[str(p.id)] = (payload, [round(x, 5) for x in p.vector or []], p.sparse)
        return out
    finally:
        store.close()


def _make_versions(tmp: Path) -> tuple[Path, Path]:
    """Version A (to start from) and version B (to converge to) of one plan tree."""
    a, b = tmp / "a" / "plans", tmp / "b" / "plans"
    if CORPUS.is_dir():
        files = sorted(p for p in CORPUS.rglob("*.md") if p.stat().st_size > 20_000)[:6]
        base = CORPUS
    else:
        base = REPO / "examples" / "plans"
        files = sorted(base.rglob("*.md"))
    for f in files:
        for root in (a, b):
            dest = root / f.relative_to(base)
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(f, dest)
    rng = random.Random(7)
    victims = sorted(b.rglob("*.md"))
    victims[-1].unlink()  # a whole plan disappears
    for f in victims[:-1]:
        lines = f.read_text(encoding="utf-8").splitlines(keepends=True)
        for i, line in enumerate(lines):
            if re.match(r"\s*[-*+] \[ \]", line) and rng.random() < 0.05:
                lines[i] = line.replace("[ ]", "[x]", 1)  # status flip
            elif re.match(r"\s*[-*+] \[[ x]\]", line) and rng.random() < 0.05:
                lines[i] = line.rstrip("\n") + " (révisé)\n"  # text edit
            elif re.match(r"\s*[-*+] \[[ x]\]", line) and rng.random() < 0.03:
                lines[i] = ""  # task deleted
        f.write_text("".join(lines), encoding="utf-8")
    (b / "added.md").write_text("# Ajout\n\n- [ ] Une tâche ajoutée\n", encoding="utf-8")
    return a, b


def test_killed_index_runs_converge_to_a_clean_run(
    tmp_path: Path, request: pytest.FixtureRequest, figures: Figures
) -> None:
    kills = 50 if request.config.getoption("--reliability-full") else 4
    version_a, version_b = _make_versions(tmp_path)
    clean, crashy = tmp_path / "clean", tmp_path / "crashy"

    started = time.perf_counter()
    clean_report = _run(str(version_b), index=clean)
    full_seconds = time.perf_counter() - started
    assert clean_report["added"] > 0
    expected = _snapshot(clean)

    _run(str(version_a), index=crashy)
    rng = random.Random(1234)
    killed = 0
    for attempt in range(kills):
        # alternate between syncing to B and back to A so every kind of write gets killed
        target = version_b if attempt % 2 == 0 else version_a
        proc = _planvec(str(target), index=crashy)
        time.sleep(rng.uniform(0.0, full_seconds))
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            killed += 1
        proc.communicate(timeout=60)

    final = _run(str(version_b), index=crashy)
    assert final["failed"] == 0
    got = _snapshot(crashy)
    figures.add("crash_kill_random", "attempts", kills)
    figures.add("crash_kill_random", "kills", killed)
    figures.add("crash_kill_random", "points_lost", len(expected.keys() - got.keys()))
    figures.add("crash_kill_random", "points_orphaned", len(got.keys() - expected.keys()))
    figures.add(
        "crash_kill_random",
        "points_differing",
        sum(got[k] != expected[k] for k in expected.keys() & got.keys()),
    )
    figures.note("crash_kill_random", "points_expected", len(expected))
    assert got.keys() == expected.keys(), "lost or orphaned points"
    assert got == expected, "payloads or vectors differ from a clean run"
    again = _run(str(version_b), index=crashy)
    assert again["added"] + again["updated"] + again["payload_only"] + again["deleted"] == 0
    assert killed >= 1
