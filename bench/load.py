"""Load test of planvec (project venv): one index size per process, so peak RSS is its own.

``python bench/load.py JOB.json`` prints one JSON line. Job kinds:

* ``scale``: index the plans in ``dir`` (written by ``bench/synth.py``) into a fresh Edge index
  with ``embedder`` (``auto`` = the real model through ONNX, ``hashing`` = the model-free
  embedder used where the real model would take hours), then a no-op re-run and a re-run after
  1 % of the tasks were edited, then search latency (p50/p95/p99, default hybrid mode and
  dense, unfiltered and ``--status done``; query embedding included).
* ``concurrent``: index ``dir`` into a fresh index while a thread of the same process searches
  it in a loop (an Edge index directory is exclusive to one process, so readers during a
  write are threads; a second process would use a Qdrant server or ``local://``).
"""

from __future__ import annotations

import json
import random
import re
import sys
import threading
import time
from pathlib import Path
from typing import Any

from _common import peak_rss_mb, percentile
from planvec.embed.cache import CachedEmbedder, EmbeddingCache
from planvec.embed.factory import make_embedder
from planvec.index import Index, sources_for
from planvec.store import open_store
from planvec.text.lexical import LexicalEncoder

_TASK = re.compile(r"^(\s*[-*+]\s+\[[ xX]\]\s+)(.*?)(\r?\n?)$")


def _open(work: Path, embedder_name: str, raw: Any) -> Index:
    embedder = raw
    if embedder_name != "hashing":
        embedder = CachedEmbedder(raw, EmbeddingCache(work / "cache" / "embeddings.sqlite"))
    return Index(open_store(index_dir=work / "index"), embedder, lexical=LexicalEncoder())


def _edit_one_percent(root: Path, seed: int) -> int:
    rng = random.Random(seed)
    changed = 0
    for f in sorted(root.rglob("*.md")):
        lines = f.read_text(encoding="utf-8").splitlines(keepends=True)
        touched = False
        for i, line in enumerate(lines):
            m = _TASK.match(line)
            if m and rng.random() < 0.01:
                lines[i] = f"{m.group(1)}{m.group(2)} (modifié){m.group(3)}"
                changed += 1
                touched = True
        if touched:
            f.write_text("".join(lines), encoding="utf-8")
    return changed


def _queries(index: Index, n: int, seed: int) -> list[str]:
    texts = [str(p.payload.get("text", "")) for p in index.points.scroll(with_payload=("text",))]
    rng = random.Random(seed)
    return [t[:60] for t in rng.sample(texts, min(n, len(texts)))]


def _latencies(index: Index, queries: list[str], mode: str, status: str | None) -> list[float]:
    index.search(queries[0], limit=10, mode=mode, status=status)  # warm
    out = []
    for q in queries:
        start = time.perf_counter()
        index.search(q, limit=10, mode=mode, status=status)
        out.append((time.perf_counter() - start) * 1000)
    return out


def _summary(samples: list[float]) -> dict[str, float]:
    return {f"p{q}": percentile(samples, q) for q in (50, 95, 99)}


def scale(job: dict[str, Any]) -> dict[str, Any]:
    work, root = Path(job["work"]), Path(job["dir"])
    raw = make_embedder(job["embedder"], Path(job.get("model_cache") or work / "model-cache"))
    raw.embed(["warm up"])
    curve: list[tuple[int, float]] = []
    with _open(work, job["embedder"], raw) as index:
        start = time.perf_counter()
        full = index.sync(
            sources_for([root]),
            progress=lambda p: curve.append((p.tasks, time.perf_counter() - start)),
        )
        full_s = time.perf_counter() - start
        rss_index = peak_rss_mb()
        print(
            f"{full.tasks} tasks in {full_s:.1f}s, rss {rss_index:.0f} MB",
            file=sys.stderr,
            flush=True,
        )
        count = index.count()
        start = time.perf_counter()
        noop = index.sync(sources_for([root]))
        noop_s = time.perf_counter() - start
        changed = _edit_one_percent(root, job.get("seed", 5))
        start = time.perf_counter()
        edit = index.sync(sources_for([root]))
        edit_s = time.perf_counter() - start
        print(f"noop {noop_s:.1f}s, edit {edit_s:.1f}s", file=sys.stderr, flush=True)
        queries = _queries(index, job.get("searches", 200), seed=3)
        latency: dict[str, dict[str, Any]] = {}
        for mode in ("hybrid", "dense"):
            for status in (None, "done"):
                samples = _latencies(index, queries, mode, status)
                latency[f"{mode}{' status=done' if status else ''}"] = {
                    **_summary(samples),
                    "samples": samples,
                }
        if job.get("optimize"):
            start = time.perf_counter()
            index.admin.optimize(index.collection)  # type: ignore[attr-defined]
            opt_s = time.perf_counter() - start
            samples = _latencies(index, queries, "hybrid", None)
            latency["hybrid, after optimize"] = {
                **_summary(samples),
                "samples": samples,
                "optimize_seconds": opt_s,
            }
        step = max(1, len(curve) // 60)
    return {
        "kind": "scale",
        "embedder": raw.model_id,
        "tasks": full.tasks,
        "points": count,
        "full_seconds": full_s,
        "tasks_per_s": full.tasks / full_s,
        "embedded": full.embedded,
        "rss_mb_index": rss_index,
        "rss_mb": peak_rss_mb(),
        "noop_seconds": noop_s,
        "noop_embedded": noop.embedded,
        "edit_tasks": changed,
        "edit_seconds": edit_s,
        "edit_embedded": edit.embedded,
        "latency": latency,
        "curve": curve[::step],
    }


def _plain_build(work: Path, root: Path, embedder_name: str, raw: Any) -> float:
    """Tasks/s of a build without readers, in this process, right before the one with."""
    with _open(work, embedder_name, raw) as index:
        start = time.perf_counter()
        report = index.sync(sources_for([root]))
        return report.tasks / (time.perf_counter() - start)


def concurrent(job: dict[str, Any]) -> dict[str, Any]:
    work, root = Path(job["work"]), Path(job["dir"])
    raw = make_embedder(job["embedder"], Path(job.get("model_cache") or work / "model-cache"))
    raw.embed(["warm up"])
    alone = _plain_build(work / "alone", root, job["embedder"], raw)
    samples: list[float] = []
    errors: list[str] = []
    stop = threading.Event()
    queries = [
        q.strip()
        for q in Path(job["queries"]).read_text(encoding="utf-8").splitlines()
        if q.strip()
    ]
    with _open(work / "with-readers", job["embedder"], raw) as index:

        def reader() -> None:
            i = 0
            while not stop.is_set():
                if index.manifest is None or not index.exists():
                    time.sleep(0.05)
                    continue
                start = time.perf_counter()
                try:
                    index.search(queries[i % len(queries)], limit=10)
                    samples.append((time.perf_counter() - start) * 1000)
                except Exception as exc:  # counted and reported
                    errors.append(f"{type(exc).__name__}: {exc}")
                i += 1
                time.sleep(job.get("think_seconds", 0.05))

        thread = threading.Thread(target=reader, daemon=True)
        thread.start()
        start = time.perf_counter()
        report = index.sync(sources_for([root]))
        seconds = time.perf_counter() - start
        stop.set()
        thread.join()
        count = index.count()
    return {
        "kind": "concurrent",
        "embedder": raw.model_id,
        "tasks": report.tasks,
        "points": count,
        "seconds": seconds,
        "tasks_per_s": report.tasks / seconds,
        "alone_tasks_per_s": alone,
        "searches": len(samples),
        "errors": len(errors),
        "first_errors": errors[:3],
        **_summary(samples),
        "samples": samples,
        "rss_mb": peak_rss_mb(),
    }


def main() -> None:
    job = json.loads(Path(sys.argv[1]).read_text(encoding="utf-8"))
    result = scale(job) if job["kind"] == "scale" else concurrent(job)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
