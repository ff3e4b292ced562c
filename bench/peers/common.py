"""Shared by the peer runners (peers venv): the job file, the model, timing, the result line."""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from verify import load_state, peak_rss_mb, verify


def load_job() -> dict[str, Any]:
    """The job written by ``bench/run.py``: work dir, model path, scenarios."""
    return json.loads(Path(sys.argv[1]).read_text(encoding="utf-8"))


def sentence_model(path: str) -> Any:
    """all-MiniLM-L6-v2 from the same weights planvec uses, torch fp32 on CPU."""
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(path, device="cpu")
    model.encode(["warm up"])
    return model


def run_scenarios(
    name: str,
    job: dict[str, Any],
    one_run: Callable[[list[dict[str, Any]]], int | None],
    read_back: Callable[[], list[tuple[str, str]]],
) -> None:
    """Time ``one_run`` on each scenario's tasks, verify, print one JSON result line."""
    rows = []
    for sc in job["scenarios"]:
        tasks = load_state(Path(sc["state"]))
        start = time.perf_counter()
        embedded = one_run(tasks)
        seconds = time.perf_counter() - start
        check = verify(
            read_back(), {t["id"]: t["text"] for t in tasks}, sc["deleted"], sc["edited"]
        )
        rows.append(
            {
                "scenario": sc["name"],
                "seconds": seconds,
                "tasks": len(tasks),
                "embedded": embedded,
                "rss_mb": peak_rss_mb(),
                **check,
            }
        )
        print(f"{name} {sc['name']}: {seconds:.2f}s {check}", file=sys.stderr, flush=True)
        # Cumulative result after every scenario: a run cut at the deadline still reports.
        print(json.dumps({"contender": name, "rows": rows}), flush=True)
