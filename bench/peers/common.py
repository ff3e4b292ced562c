"""Shared by the peer runners (peers venv): the job file, the model, timing, the result line."""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from verify import load_state, peak_rss_mb, sample_vectors, verify, write_vector_sample


def load_job() -> dict[str, Any]:
    """The job written by ``bench/run.py``: work dir, model path, scenarios."""
    return json.loads(Path(sys.argv[1]).read_text(encoding="utf-8"))


def sentence_model(job: dict[str, Any]) -> Any:
    """all-MiniLM-L6-v2 from the same weights planvec uses, on the job's ``runtime``.

    ``torch`` (default): sentence-transformers, torch fp32 on CPU. ``onnx``: planvec's
    exported fp32 graph on ONNX Runtime with sentence-transformers' batching
    (``onnx_embed.py`` says why not sentence-transformers' own ONNX backend).
    """
    if job.get("runtime") == "onnx":
        from onnx_embed import OnnxSentenceModel

        model: Any = OnnxSentenceModel(job["onnx_path"], job["model_path"])
    else:
        from sentence_transformers import SentenceTransformer

        model = SentenceTransformer(job["model_path"], device="cpu")
    model.encode(["warm up"])
    return model


#: What a read-back returns: (task id, text, status) per point, and (task id, vector) pairs.
ReadBack = tuple[list[tuple[str, str, str]], list[tuple[str, Any]]]


def run_scenarios(
    name: str,
    job: dict[str, Any],
    one_run: Callable[[list[dict[str, Any]]], int | None],
    read_back: Callable[[], ReadBack],
) -> None:
    """Time ``one_run`` on each scenario's tasks, verify, print one JSON result line."""
    rows = []
    for sc in job["scenarios"]:
        tasks = load_state(Path(sc["state"]))
        start = time.perf_counter()
        embedded = one_run(tasks)
        seconds = time.perf_counter() - start
        points, vectors = read_back()
        check = verify(
            points,
            {t["id"]: t["text"] for t in tasks},
            sc["deleted"],
            sc["edited"],
            statuses={t["id"]: t["status"] for t in tasks},
        )
        sample = sample_vectors(vectors, sc["vector_sample"])
        rows.append(
            {
                "scenario": sc["name"],
                "seconds": seconds,
                "tasks": len(tasks),
                "embedded": embedded,
                "rss_mb": peak_rss_mb(),
                "vectors_file": write_vector_sample(Path(job["work"]), sc["name"], sample),
                **check,
            }
        )
        print(f"{name} {sc['name']}: {seconds:.2f}s {check}", file=sys.stderr, flush=True)
        # Cumulative result after every scenario: a run cut at the deadline still reports.
        print(json.dumps({"contender": name, "rows": rows}), flush=True)
