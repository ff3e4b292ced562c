"""Plumbing shared by ``bench/run.py`` and ``bench/compare.py``: logging, the time budget,
running a benchmark process, and the facts recorded with every result (machine, versions,
commit, load average)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from _common import REPO, cpu_model

BENCH = REPO / "bench"
PEERS_VENV = BENCH / ".venv-peers"
PEERS_PY = PEERS_VENV / "bin" / "python"
#: Exported ONNX models, kept between runs (like ~/.cache/planvec for a user).
MODEL_CACHE = BENCH / "out" / "model-cache"


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def ensure_peers_venv() -> Path | None:
    """The peers venv's python, creating the venv on first use; None when it cannot be."""
    if PEERS_PY.exists():
        return PEERS_PY
    log("creating bench/.venv-peers (one time, a few minutes)")
    try:
        subprocess.run([sys.executable, "-m", "venv", str(PEERS_VENV)], check=True)
        subprocess.run(
            [
                str(PEERS_PY),
                "-m",
                "pip",
                "install",
                "--quiet",
                "-r",
                str(BENCH / "peers" / "requirements.txt"),
            ],
            check=True,
        )
    except (subprocess.CalledProcessError, OSError) as exc:
        log(f"peers venv could not be created ({exc}); peers are skipped")
        shutil.rmtree(PEERS_VENV, ignore_errors=True)
        return None
    return PEERS_PY


def versions(python: Path, names: Sequence[str]) -> dict[str, str]:
    code = (
        "import json,sys,importlib.metadata as m\nout={}\nfor n in sys.argv[1:]:\n"
        "    try: out[n]=m.version(n)\n    except m.PackageNotFoundError: pass\nprint(json.dumps(out))"
    )
    res = subprocess.run([str(python), "-c", code, *names], capture_output=True, text=True)
    return json.loads(res.stdout) if res.returncode == 0 else {}


def machine_info() -> dict[str, Any]:
    import platform

    cpu = cpu_model()
    mem = ""
    try:
        kb = int(Path("/proc/meminfo").read_text().split()[1])
        mem = f"{kb / 1024 / 1024:.0f} GiB RAM"
    except (OSError, ValueError, IndexError):
        pass
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory": mem,
        "python": platform.python_version(),
        "os": platform.platform(terse=True),
        "load_start": os.getloadavg()[0],
    }


def commit_info() -> dict[str, Any]:
    """The commit the benchmark ran on, and whether the work tree had local changes."""

    def git(*args: str) -> str:
        res = subprocess.run(["git", "-C", str(REPO), *args], capture_output=True, text=True)
        return res.stdout.strip() if res.returncode == 0 else ""

    return {"commit": git("rev-parse", "HEAD"), "dirty": bool(git("status", "--porcelain"))}


#: Epoch seconds after which no work is started and running work is cut (``--deadline``).
DEADLINE: list[float] = [float("inf")]


def budget(default: float) -> float:
    """Seconds a stage may take: its default, or what is left before the deadline."""
    return max(0.0, min(default, DEADLINE[0] - time.time()))


def run_json(cmd: list[str], log_file: Path, timeout: float) -> dict[str, Any] | None:
    """Run a contender; its last stdout line is its JSON result. Failures are reported."""
    start = time.perf_counter()
    env = dict(
        os.environ, HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", TOKENIZERS_PARALLELISM="false"
    )
    try:
        res = subprocess.run(
            cmd, capture_output=True, text=True, timeout=timeout, env=env, cwd=str(BENCH)
        )
    except subprocess.TimeoutExpired as exc:
        err = exc.stderr.decode() if isinstance(exc.stderr, bytes) else exc.stderr or ""
        log_file.write_text(f"timeout after {timeout}s\n{err}", encoding="utf-8")
        text = exc.stdout.decode() if isinstance(exc.stdout, bytes) else exc.stdout or ""
        partial = [ln for ln in text.splitlines() if ln.startswith("{")]
        cut = f"cut after {timeout:.0f} s (time budget of this run)"
        if partial:
            return {**json.loads(partial[-1]), "incomplete": cut}
        return {"error": cut}
    log_file.write_text(res.stderr, encoding="utf-8")
    lines = [ln for ln in res.stdout.splitlines() if ln.startswith("{")]
    if res.returncode != 0 or not lines:
        tail = res.stderr.strip().splitlines()[-3:]
        return {"error": f"exit {res.returncode}: {' | '.join(tail)}"}
    out: dict[str, Any] = json.loads(lines[-1])
    out["wall_seconds"] = time.perf_counter() - start
    return out
