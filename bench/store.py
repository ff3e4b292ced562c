"""Store benchmark: upsert points/s and search p50/p95, Qdrant Edge vs qdrant-client local mode.

Why: the embedded default must be fast enough that the store is never the bottleneck of
``planvec index`` (embedding runs at ~1,000 tasks/s) and of interactive search. Same run,
same data, same machine: 384-d random unit vectors, a sparse vector of 8 terms and a payload
like planvec's (status, plan, line, text), written through ``planvec.store.open_store`` with
its default batching and durability.

Measured per backend and size: batched ``upsert`` throughput, then ``search`` latency over Q
queries for dense, dense + filter (``status == todo`` and ``plan == p7``), and hybrid (dense +
sparse, RRF). Edge searches are exact until ``optimize()`` builds HNSW; ``--optimize`` adds an
Edge row after it.

Example::

    .venv/bin/python bench/store.py --sizes 10000 100000 --write docs/benchmarks.md
    .venv/bin/python bench/store.py --sizes 10000 --targets edge edge@/dev/shm --queries 100
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from planvec.store import (
    CollectionSpec,
    Filter,
    MatchValue,
    PointRecord,
    SearchRequest,
    SparseVector,
    VectorStore,
    open_store,
)

DIM = 384
SPEC = CollectionSpec(
    dimension=DIM,
    keyword_fields=("status", "plan"),
    integer_fields=("line",),
    text_fields=("text",),
)
WORDS = ["sauvegarde", "base", "données", "api", "documentation", "déploiement", "tests"]


def make_points(n: int, seed: int = 0) -> list[PointRecord]:
    """``n`` points with unit dense vectors, 8-term sparse vectors and planvec-like payloads."""
    rng = np.random.default_rng(seed)
    vectors = rng.standard_normal((n, DIM)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    pick = random.Random(seed)
    from planvec.records import point_id

    points = []
    for i in range(n):
        terms = sorted(pick.sample(range(30000), 8))
        points.append(
            PointRecord(
                id=point_id("bench", str(i)),
                vector=vectors[i].tolist(),
                payload={
                    "status": "todo" if i % 3 else "done",
                    "plan": f"p{i % 50}",
                    "line": i,
                    "text": " ".join(pick.sample(WORDS, 4)),
                },
                sparse=SparseVector(tuple(terms), tuple(1.0 for _ in terms)),
            )
        )
    return points


def percentiles(samples: list[float]) -> tuple[float, float]:
    """p50 and p95 in milliseconds."""
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return statistics.median(ordered) * 1000, p95 * 1000


def time_searches(store: VectorStore, requests: list[SearchRequest]) -> tuple[float, float]:
    store.search("bench", requests[0])  # warm-up
    samples = []
    for request in requests:
        start = time.perf_counter()
        store.search("bench", request)
        samples.append(time.perf_counter() - start)
    return percentiles(samples)


def run_one(target: str, n: int, queries: int, optimize: bool) -> list[dict[str, Any]]:
    """Index ``n`` points on ``target`` (``edge[@DIR]``/``local[@DIR]``), time writes and reads."""
    backend, _, base = target.partition("@")
    workdir = Path(tempfile.mkdtemp(prefix="planvec-store-bench-", dir=base or None))
    label = f"{backend} ({'tmpfs' if str(workdir).startswith('/dev/shm') else 'disk'})"
    try:
        return _run(backend, label, workdir, n, queries, optimize)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def _run(
    backend: str, label: str, workdir: Path, n: int, queries: int, optimize: bool
) -> list[dict[str, Any]]:
    points = make_points(n)
    url = None if backend == "edge" else "local://"
    store = open_store(index_dir=workdir, qdrant_url=url)
    rows = []
    try:
        store.ensure_collection("bench", SPEC)
        start = time.perf_counter()
        store.upsert("bench", points)
        upsert_s = time.perf_counter() - start
        rng = np.random.default_rng(1)
        qvecs = rng.standard_normal((queries, DIM)).astype(np.float32)
        flt = Filter(must=(MatchValue("status", "todo"), MatchValue("plan", "p7")))
        sparse = [p.sparse for p in points[:queries]]
        dense = [SearchRequest(dense=q.tolist(), limit=10) for q in qvecs]
        filtered = [SearchRequest(dense=q.tolist(), filter=flt, limit=10) for q in qvecs]
        hybrid = [
            SearchRequest(dense=q.tolist(), sparse=s, limit=10)
            for q, s in zip(qvecs, sparse, strict=True)
        ]
        variants = [(label, dense, filtered, hybrid)]
        if optimize and backend == "edge":
            variants.append((label + " + optimize", dense, filtered, hybrid))
        for name, d, f, h in variants:
            optimize_s = None
            if name != label:
                start = time.perf_counter()
                store.optimize("bench")  # type: ignore[attr-defined]
                optimize_s = time.perf_counter() - start
            rows.append(
                {
                    "backend": name,
                    "points": n,
                    "upsert_pps": n / upsert_s if name == label else None,
                    "optimize_s": optimize_s,
                    "dense": time_searches(store, d),
                    "filtered": time_searches(store, f),
                    "hybrid": time_searches(store, h),
                    "queries": queries,
                }
            )
            print(rows[-1], file=sys.stderr, flush=True)
    finally:
        store.close()
    return rows


def table(rows: list[dict[str, Any]]) -> str:
    head = (
        "| backend | points | upsert points/s | dense p50 / p95 ms | filtered p50 / p95 ms"
        " | hybrid p50 / p95 ms | queries |\n|---|---|---|---|---|---|---|\n"
    )
    body = ""
    for r in rows:
        ups = (
            f"{r['upsert_pps']:,.0f}" if r["upsert_pps"] else f"(optimize {r['optimize_s']:.1f} s)"
        )
        cells = [f"{r[k][0]:.2f} / {r[k][1]:.2f}" for k in ("dense", "filtered", "hybrid")]
        body += f"| {r['backend']} | {r['points']:,} | {ups} | " + " | ".join(cells)
        body += f" | {r['queries']} |\n"
    return head + body


def write_section(path: Path, text: str) -> None:
    """Replace (or append) the ``## Store`` section of ``path``, leaving other sections alone."""
    content = path.read_text(encoding="utf-8") if path.exists() else "# Benchmarks\n"
    lines = content.splitlines(keepends=True)
    start = next((i for i, line in enumerate(lines) if line.strip() == "## Store"), None)
    if start is None:
        content = content.rstrip("\n") + "\n\n" + text
    else:
        end = next(
            (i for i in range(start + 1, len(lines)) if lines[i].startswith("## ")), len(lines)
        )
        content = "".join(lines[:start]) + text + ("\n" if end < len(lines) else "")
        content += "".join(lines[end:])
    path.write_text(content, encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10000, 100000])
    parser.add_argument(
        "--targets",
        nargs="+",
        default=["edge@/dev/shm", "local@/dev/shm", "edge"],
        help="backend[@base dir]: edge or local; default dir = system temp (disk)",
    )
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--local-queries", type=int, default=50, help="queries for local mode")
    parser.add_argument("--no-optimize", action="store_true", help="skip the Edge HNSW row")
    parser.add_argument("--write", type=Path, help="update the ## Store section of this file")
    args = parser.parse_args()
    rows: list[dict[str, Any]] = []
    load_before = os.getloadavg()[0]
    for n in args.sizes:
        for target in args.targets:
            queries = args.queries if target.startswith("edge") else args.local_queries
            rows += run_one(target, n, queries, not args.no_optimize)
    result = table(rows)
    load = f"load average {load_before:.1f} → {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores"
    print(result + "\n" + load)
    if args.write:
        import platform

        text = (
            "## Store\n\n"
            f"`bench/store.py` ({time.strftime('%Y-%m-%d')}, {platform.machine()},"
            f" Python {platform.python_version()}): {DIM}-d unit vectors + 8-term sparse vectors"
            " + planvec-like payloads, written with `open_store` defaults (Edge: batches of"
            " 1,024, WAL-logged, flushed at close; local mode: batches of 256). Filter ="
            " `status == todo` and `plan == p7` (1.3 % of points). Hybrid = dense + sparse,"
            " prefetch 50 each, RRF."
            " Edge searches are exact until `optimize()`; `+ optimize` rows are after it (HNSW)."
            f" Machine shared during the run: {load}.\n\n" + result
        )
        write_section(args.write, text)


if __name__ == "__main__":
    main()
