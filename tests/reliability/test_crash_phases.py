"""Crash loop aimed at each phase of a sync: startup/parse, diff, embed+upsert, delete, final
state write. A run killed with SIGKILL in any of them, then rerun, must end exactly like a
clean run: no lost, duplicated or orphaned point, identical payloads and vectors.

No hook in product code says "kill me now". Instead the test watches the child's own DEBUG
log (``planvec -vv`` logs every store operation as it completes): kill number ``i`` aims at
phase ``i % 5`` by waiting for the log line that opens it (first ``ensure_collection``, first
``upsert``, first full-scan page after a write, ...) and then a random extra delay, so it
lands inside the following operation. After the kill, the phase that was really running is
read back from the killed process's log (the last store operation it completed), so the
figures count what was hit, not what was aimed at.

``make test`` runs 3 kills on a small slice; ``--reliability-full`` runs 60 on a larger one.
"""

from __future__ import annotations

import os
import random
import re
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pytest

from .conftest import Figures, full_run
from .helpers import versions
from .test_crash_kill import _snapshot

pytestmark = pytest.mark.reliability

PHASES = ("startup+parse", "diff", "embed+upsert", "delete", "state write")
_OP = re.compile(r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}) DEBUG planvec\.store store op=(\w+)")
_WRITES = ("upsert", "delete", "set_payload")


@dataclass
class Run:
    proc: subprocess.Popen[bytes]
    started: float  # wall clock (time.time) at spawn
    log: Path


def _spawn(target: Path, index: Path, log: Path) -> Run:
    env = dict(os.environ, PLANVEC_EMBEDDER="hashing")
    cmd = [sys.executable, "-m", "planvec", "-vv", "index", str(target), "--index", str(index)]
    cmd += ["--json", "--root", str(target), "--allow-delete"]  # A, B: one tree, two versions
    with log.open("wb") as errfile:  # a file, not a pipe: a full pipe would stall the child
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=errfile, env=env)
    return Run(proc, time.time(), log)


def _finish(run: Run) -> int:
    return run.proc.wait(timeout=600)


def _ops(log: Path) -> list[tuple[float, str, int]]:
    """(wall-clock time, operation, points) of each store operation the process completed."""
    out = []
    for line in log.read_text(encoding="utf-8", errors="replace").splitlines():
        match = _OP.match(line)
        if match:
            stamp = datetime.strptime(match.group(1), "%Y-%m-%d %H:%M:%S,%f").timestamp()
            points = re.search(r" points=(\d+)", line)
            out.append((stamp, match.group(2), int(points.group(1)) if points else 0))
    return out


def phase_of(ops: list[tuple[str, int]], total: int) -> str:
    """The phase a process was in, from the store operations it completed before dying.

    Args:
        ops: (operation, points) of each completed store operation, in order.
        total: about how many points the index holds; a run of scrolls that returned most
            of them is the final full scan (vanished plans, plan counts) before the manifest.
    """
    if not ops:
        return "startup+parse"
    last = ops[-1][0]
    wrote = any(op in _WRITES for op, _ in ops)
    if last == "upsert":
        return "embed+upsert"
    if last in ("delete", "set_payload"):
        return "delete"  # payload-only rewrites and deletes follow a plan's upserts
    if last == "write_manifest":
        return "state write" if wrote or len(ops) > 2 else "diff"
    if last == "scroll":
        trailing = 0
        for op, points in reversed(ops):
            if op != "scroll":
                break
            trailing += points
        return "state write" if trailing >= 0.9 * total else "diff"
    return "diff"  # opening: ensure_collection, first manifest


# What each aimed kill waits for in the child's log before its random extra delay: the kill
# then lands in the operation that follows. ``None`` = no trigger (right after spawn).
AIMS: dict[str, tuple[tuple[str, ...] | None, float]] = {
    "startup+parse": (None, 2.5),  # imports, opening the store, the first plans parsed
    "diff": (("ensure_collection",), 0.15),  # manifest check, per-plan scrolls
    "embed+upsert": (("upsert",), 0.6),
    "delete": (("upsert", "delete", "set_payload"), 0.03),  # a plan's deletes follow its upserts
    "state write": (("full-scan",), 0.1),  # vanished plans, plan counts, manifest
}


def _triggered(run: Run, trigger: tuple[str, ...], total: int, deadline: float) -> bool:
    """Wait until the child logged one of ``trigger`` (``full-scan``: a page of a full scroll
    after a write); False if it ended or the deadline passed first."""
    while time.time() < deadline and run.proc.poll() is None:
        ops = _ops(run.log)
        for index, (_, op, points) in enumerate(ops):
            if op in trigger:
                return True
            wrote = any(o in _WRITES for _, o, _ in ops[:index])
            if "full-scan" in trigger and op == "scroll" and wrote and points >= min(total, 1024):
                return True
        time.sleep(0.005)
    return False


def test_kills_aimed_at_every_phase_converge(
    tmp_path: Path, request: pytest.FixtureRequest, figures: Figures
) -> None:
    full = full_run(request)
    kills = 60 if full else 3
    version_a, version_b = versions(tmp_path / "src", files=6 if full else 2)
    logs = tmp_path / "logs"
    logs.mkdir()
    clean, crashy = tmp_path / "clean", tmp_path / "crashy"

    for target, index, name in ((version_b, clean, "clean"), (version_a, crashy, "crashy-a")):
        run = _spawn(target, index, logs / f"{name}.log")
        assert _finish(run) in (0, 1), run.log.read_text()
    expected = _snapshot(clean)

    rng = random.Random(20261126)
    hit: dict[str, int] = {}
    killed = 0
    for attempt in range(kills):
        # alternate B and A so every kind of write (add, edit, flip, delete) gets killed
        target = version_b if attempt % 2 == 0 else version_a
        trigger, spread = AIMS[PHASES[attempt % len(PHASES)]]
        run = _spawn(target, crashy, logs / f"kill{attempt}.log")
        if trigger is None or _triggered(run, trigger, len(expected), time.time() + 120):
            time.sleep(rng.uniform(0.0, spread))
        if run.proc.poll() is None:
            run.proc.send_signal(signal.SIGKILL)
            killed += 1
            phase = phase_of([(op, n) for _, op, n in _ops(run.log)], len(expected))
            hit[phase] = hit.get(phase, 0) + 1
        _finish(run)

    final = _spawn(version_b, crashy, logs / "final.log")
    assert _finish(final) in (0, 1), final.log.read_text()
    got = _snapshot(crashy)
    lost = len(expected.keys() - got.keys())
    orphaned = len(got.keys() - expected.keys())
    differing = sum(1 for k in expected.keys() & got.keys() if got[k] != expected[k])
    figures.add("crash_kill_by_phase", "kills", killed)
    figures.add("crash_kill_by_phase", "attempts", kills)
    for phase, count in hit.items():
        figures.add("crash_kill_by_phase", f"phase {phase}", count)
    figures.add("crash_kill_by_phase", "points_lost", lost)
    figures.add("crash_kill_by_phase", "points_orphaned", orphaned)
    figures.add("crash_kill_by_phase", "points_differing", differing)
    figures.note("crash_kill_by_phase", "points_expected", len(expected))
    assert (lost, orphaned, differing) == (0, 0, 0)
    assert got == expected
    # converged for real: one more run finds nothing to do
    again = _spawn(version_b, crashy, logs / "again.log")
    assert _finish(again) in (0, 1)
    assert _ops(again.log) and not [op for _, op, _ in _ops(again.log) if op in _WRITES]
    assert killed >= 1
    if full:
        assert killed >= 50, f"only {killed} of {kills} runs were still alive when killed"
        assert len(hit) >= 4, f"phases hit: {hit}"
