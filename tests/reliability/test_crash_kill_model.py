"""The crash loop with the real model and the embedding cache (``model`` + ``slow``).

Same loop as ``test_crash_kill.py`` (SIGKILL ``planvec index`` at random moments while it
alternates between two versions of a plan tree, then rerun), but with the real
all-MiniLM-L6-v2 model (ONNX, the default ``auto`` embedder) and its SQLite embedding
cache, which the killed runs write into. The crashy index must end equal to a clean index
built with another, fresh cache: same ids and payloads, vectors equal to 1e-4 (batches of
different shapes give float noise). Then ``planvec index --rebuild`` rebuilds it entirely
from the cache (nothing embedded) to the same state, and a cache-only rerun is a no-op.

Not in ``make test`` (minutes on 2 cores): ``make test-slow`` or ``make test-reliability``.
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

import numpy as np
import pytest

from planvec.embedding_recipe import VOLATILE_FIELDS
from planvec.store import open_store

from .conftest import Figures, full_run
from .helpers import versions

pytestmark = [pytest.mark.reliability, pytest.mark.model, pytest.mark.slow]


def _spawn(target: Path, index: Path, cache: Path, *extra: str) -> subprocess.Popen[bytes]:
    env = dict(os.environ, XDG_CACHE_HOME=str(cache), HF_HUB_OFFLINE="1")
    env.pop("PLANVEC_EMBEDDER", None)
    cmd = [sys.executable, "-m", "planvec", "index", str(target), "--index", str(index)]
    cmd += ["--json", "--root", str(target), "--allow-delete", "--silent", *extra]
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)


def _run(target: Path, index: Path, cache: Path, *extra: str) -> dict[str, Any]:
    proc = _spawn(target, index, cache, *extra)
    out, err = proc.communicate(timeout=1800)
    if proc.returncode == 1 and (b"ModelNotAvailable" in err or b"not installed" in err):
        pytest.skip("the real model is not installed")
    assert proc.returncode == 0, err.decode()
    report: dict[str, Any] = json.loads(out)
    return report


def _state(index: Path) -> dict[str, tuple[dict[str, Any], np.ndarray]]:
    store = open_store(index_dir=index)
    try:
        return {
            str(p.id): (
                {k: v for k, v in p.payload.items() if k not in VOLATILE_FIELDS},
                np.asarray(p.vector, dtype=np.float32),
            )
            for p in store.scroll("planvec_tasks", with_vectors=True)
        }
    finally:
        store.close()


def _differing(expected: dict[str, Any], got: dict[str, Any]) -> int:
    return sum(
        1
        for k in expected.keys() & got.keys()
        if got[k][0] != expected[k][0] or not np.allclose(got[k][1], expected[k][1], atol=1e-4)
    )


def test_killed_runs_with_the_real_model_and_cache_converge(
    tmp_path: Path, request: pytest.FixtureRequest, figures: Figures
) -> None:
    kills = 12 if full_run(request) else 4
    version_a, version_b = versions(tmp_path / "src", files=4 if full_run(request) else 2)
    warm = tmp_path / "warm-cache"
    _run(version_a, tmp_path / "warm", warm)  # loads (and exports) the model once

    def fresh_cache(name: str) -> Path:
        """An empty embedding cache holding only the exported model (not what is tested)."""
        exported, dest = warm / "planvec" / "onnx", tmp_path / name
        if exported.is_dir():
            shutil.copytree(exported, dest / "planvec" / "onnx")
        return dest

    clean_cache, crash_cache = fresh_cache("clean-cache"), fresh_cache("crash-cache")
    started = time.perf_counter()
    clean_report = _run(version_b, tmp_path / "clean", clean_cache)
    seconds = time.perf_counter() - started
    assert 0 < clean_report["embedded"] <= clean_report["added"]  # equal texts embed once
    expected = _state(tmp_path / "clean")

    # from an empty index and an empty cache: the first kills land in the embedding and the
    # cache writes; later runs, served mostly by the cache, get killed in the other phases
    crashy = tmp_path / "crashy"
    rng = random.Random(4321)
    killed, estimate = 0, seconds
    for attempt in range(kills):
        target = version_b if attempt % 2 == 0 else version_a
        proc = _spawn(target, crashy, crash_cache)
        time.sleep(rng.uniform(0.3, 0.9) * estimate)
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            killed += 1
        else:  # served by the cache, runs get shorter: aim the next kills earlier
            estimate = max(1.5, estimate * 0.6)
        proc.communicate(timeout=600)

    final = _run(version_b, crashy, crash_cache)
    got = _state(crashy)
    lost, orphaned = len(expected.keys() - got.keys()), len(got.keys() - expected.keys())
    figures.add("crash_kill_model", "attempts", kills)
    figures.add("crash_kill_model", "kills", killed)
    figures.add("crash_kill_model", "points_lost", lost)
    figures.add("crash_kill_model", "points_orphaned", orphaned)
    figures.add("crash_kill_model", "points_differing", _differing(expected, got))
    figures.note("crash_kill_model", "points_expected", len(expected))
    assert final["failed"] == 0 and killed >= 1
    assert (lost, orphaned) == (0, 0), "lost or orphaned points"
    assert _differing(expected, got) == 0, "payloads or vectors differ from a clean run"

    rebuilt = _run(version_b, crashy, crash_cache, "--rebuild")
    assert rebuilt["added"] == len(expected) and rebuilt["embedded"] == 0, "all from the cache"
    assert _differing(expected, _state(crashy)) == 0
    again = _run(version_b, crashy, crash_cache)
    assert again["unchanged"] == len(expected) and again["embedded"] == 0
