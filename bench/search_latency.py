"""Search latency per mode (dense, sparse, hybrid) on an existing index: p50 / p95 / mean.

Why: issue 10 requires hybrid search to stay within 2x of dense at 100,000 tasks. This
times ``Index.search`` (query encoding + store query + payload decoding), the call behind
``planvec search``, for every query of ``bench/queries/dev.jsonl``, after a warm-up pass.
With the hashing embedder the dense query encoding is ~free, so the numbers isolate the
store side; the real model adds the same few milliseconds to dense and hybrid alike.

Example::

    python bench/synth.py --tasks 100000 --out /tmp/lat100k/plans
    planvec index /tmp/lat100k/plans --index-dir /tmp/lat100k/index --embedder hashing
    python bench/search_latency.py --index-dir /tmp/lat100k/index --embedder hashing
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def percentile(values: list[float], q: float) -> float:
    """The ``q`` quantile (0-1) by nearest rank."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point (see the module docstring)."""
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--index-dir", type=Path, required=True)
    ap.add_argument("--embedder", default="auto")
    ap.add_argument("--rounds", type=int, default=3, help="timed passes over the queries")
    ap.add_argument("--limit", type=int, default=10)
    args = ap.parse_args(argv)

    from planvec.index import open_index
    from planvec.settings import load_settings

    queries = [
        json.loads(line)["query"]
        for line in (HERE / "queries" / "dev.jsonl").read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]
    index = open_index(load_settings(index_dir=args.index_dir, embedder=args.embedder))
    print(f"{index.count()} points, {len(queries)} queries x {args.rounds} rounds")
    print("| mode | p50 ms | p95 ms | mean ms |\n|---|---:|---:|---:|")
    results: dict[str, list[float]] = {}
    for mode in ("dense", "sparse", "hybrid"):
        for q in queries[:20]:  # warm-up
            index.search(q, limit=args.limit, mode=mode)
        times: list[float] = []
        for _ in range(args.rounds):
            for q in queries:
                started = time.perf_counter()
                index.search(q, limit=args.limit, mode=mode)
                times.append((time.perf_counter() - started) * 1000)
        results[mode] = times
        print(
            f"| {mode} | {percentile(times, 0.5):.2f} | {percentile(times, 0.95):.2f} | "
            f"{statistics.fmean(times):.2f} |",
            flush=True,
        )
    ratio = percentile(results["hybrid"], 0.5) / percentile(results["dense"], 0.5)
    print(f"\nhybrid / dense p50: {ratio:.2f}x")
    index.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
