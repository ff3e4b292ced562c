"""End-to-end indexing benchmark on the shared corpus (issue: core path).

Measures, in one run and on the same machine:

* raw encoder tasks/s (the physical limit: the embedder alone on all task texts);
* ``Index.sync`` full index tasks/s (fresh index, fresh embedding cache) and its ratio to raw;
* the no-op re-run, and a re-run after 1 % of tasks changed (ratio to the full time);
* search latency p50/p95 (warm, query embedding included) per mode, and the cold start of
  ``planvec search`` as a new process.

The legacy loop is compared in one place only: ``bench/run.py`` (``bench/legacy.py`` defines
it), on the same subset as planvec, several runs, never extrapolated.

Usage: ``python bench/index.py [--quick] [--embedder auto] [--write-docs]``
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from _common import REPO, corpus_or_exit, machine, percentile, replace_section, timed
from planvec.embed.cache import CachedEmbedder, EmbeddingCache
from planvec.embed.factory import make_embedder
from planvec.embedding_recipe import embedding_text
from planvec.index import Index, sources_for
from planvec.sources.files import parse_paths
from planvec.store import open_store
from planvec.text.lexical import default_lexical_encoder

LEGACY_TASK = re.compile(r"^\s*[-*+]\s+\[([ xX])\]\s+(.*)$")


def copy_corpus(src: Path, dest: Path, quick: bool) -> Path:
    files = sorted(src.rglob("*.md"))
    if quick:
        files = [f for f in files if f.stat().st_size > 30_000][:8]
    for f in files:
        target = dest / f.relative_to(src)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(f, target)
    return dest


def change_one_percent(root: Path, seed: int = 1) -> int:
    rng = random.Random(seed)
    changed = 0
    for f in sorted(root.rglob("*.md")):
        lines = f.read_text(encoding="utf-8").splitlines(keepends=True)
        for i, line in enumerate(lines):
            if LEGACY_TASK.match(line) and rng.random() < 0.01:
                lines[i] = line.rstrip("\r\n") + " (modifié)\n"
                changed += 1
        f.write_text("".join(lines), encoding="utf-8")
    return changed


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="8 large plans instead of all")
    parser.add_argument("--embedder", default="auto")
    parser.add_argument("--write-docs", action="store_true")
    args = parser.parse_args()
    corpus = corpus_or_exit()
    tmp = Path(tempfile.mkdtemp(prefix="planvec-bench-"))
    try:
        root = copy_corpus(corpus, tmp / "plans", args.quick)
        plans, _ = parse_paths([root])
        tasks = [t for p in plans for t in p.tasks]
        texts = [t.text for t in tasks]
        # the raw encoder embeds exactly what the index embeds (the English rendering)
        rendered = [embedding_text(t) for t in tasks]
        n = len(texts)
        print(f"{len(plans)} plans, {n} tasks", flush=True)

        cache_dir = tmp / "cache"
        raw = make_embedder(args.embedder, cache_dir)
        raw.embed(["warm up"])
        _, raw_s = timed(lambda: [raw.embed(rendered[i : i + 256]) for i in range(0, n, 256)])
        print(f"raw encoder: {n / raw_s:.0f} tasks/s ({raw_s:.1f}s)", flush=True)

        store = open_store(index_dir=tmp / "index")
        embedder = CachedEmbedder(raw, EmbeddingCache(tmp / "cache2" / "embeddings.sqlite"))
        index = Index(store, embedder, lexical=default_lexical_encoder())
        full, full_s = timed(lambda: index.sync(sources_for([root])))
        print(
            f"full index: {n / full_s:.0f} tasks/s ({full_s:.1f}s), {full.embedded} embedded",
            flush=True,
        )
        noop, noop_s = timed(lambda: index.sync(sources_for([root])))
        print(f"no-op: {noop_s:.2f}s, {noop.embedded} embedded", flush=True)
        changed = change_one_percent(root)
        edit, edit_s = timed(lambda: index.sync(sources_for([root])))
        print(f"1% edited ({changed} tasks): {edit_s:.2f}s, {edit.embedded} embedded", flush=True)

        # searches embed queries with the bare model, as `planvec search` does (no cache)
        searcher = Index(store, raw, lexical=index.lexical)
        rng = random.Random(3)
        queries = rng.sample(texts, min(200, n))
        latency = {}
        for mode in ("dense", "sparse", "hybrid"):
            samples = []
            for q in queries:
                _, s = timed(lambda q=q, mode=mode: searcher.search(q[:60], limit=10, mode=mode))
                samples.append(s * 1000)
            latency[mode] = (percentile(samples, 50), percentile(samples, 95))
            print(
                f"search {mode}: p50 {latency[mode][0]:.1f} ms, p95 {latency[mode][1]:.1f} ms",
                flush=True,
            )
        index.close()

        cold = []
        env = dict(os.environ, HF_HUB_OFFLINE="1", XDG_CACHE_HOME=str(tmp / "xdg"))
        shutil.copytree(cache_dir, tmp / "xdg" / "planvec", dirs_exist_ok=True)  # exported ONNX
        for _ in range(3):
            _, s = timed(
                lambda: subprocess.run(
                    [
                        sys.executable,
                        "-m",
                        "planvec",
                        "search",
                        "sauvegarde de la base",
                        "--index",
                        str(tmp / "index"),
                        "--json",
                    ],
                    check=True,
                    capture_output=True,
                    env=env,
                )
            )
            cold.append(s)
        cold_s = statistics.median(cold)
        print(f"cold start planvec search: {cold_s:.2f}s", flush=True)

        result = {
            "tasks": n,
            "plans": len(plans),
            "embedder": raw.model_id,
            "raw_tasks_per_s": n / raw_s,
            "full_seconds": full_s,
            "full_tasks_per_s": n / full_s,
            "ratio_to_raw": raw_s / full_s,
            "noop_seconds": noop_s,
            "noop_embedded": noop.embedded,
            "edit_tasks": changed,
            "edit_seconds": edit_s,
            "edit_embedded": edit.embedded,
            "edit_ratio": edit_s / full_s,
            "latency_ms": latency,
            "cold_start_seconds": cold_s,
        }
        print(json.dumps(result, indent=2))
        if args.write_docs:
            write_docs(result, args)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def write_docs(r: dict, args: argparse.Namespace) -> None:
    lat = r["latency_ms"]
    body = f"""Command: `python bench/index.py{" --quick" if args.quick else ""} --write-docs` ({machine()}; embedder `{r["embedder"]}`; embedded Qdrant Edge; hybrid lexical vectors built too).
Corpus: {r["plans"]} plans, {r["tasks"]} tasks (shared DEV corpus{", quick subset" if args.quick else ""}).

| measure | value | target |
| --- | ---: | --- |
| raw encoder alone | {r["raw_tasks_per_s"]:.0f} tasks/s | physical limit |
| `Index.sync` full index (fresh index and cache) | {r["full_tasks_per_s"]:.0f} tasks/s ({r["full_seconds"]:.1f} s) | |
| full index / raw encoder | **{r["ratio_to_raw"]:.0%}** | >= 85 % |
| no-op re-run | {r["noop_seconds"]:.2f} s, {r["noop_embedded"]} embedded | |
| re-run after 1 % of tasks edited ({r["edit_tasks"]} tasks) | {r["edit_seconds"]:.2f} s = **{r["edit_ratio"]:.1%}** of full, {r["edit_embedded"]} embedded | <= 5 % |
| search p50 / p95, dense (warm, with query embedding) | {lat["dense"][0]:.1f} / {lat["dense"][1]:.1f} ms | |
| search p50 / p95, sparse | {lat["sparse"][0]:.1f} / {lat["sparse"][1]:.1f} ms | |
| search p50 / p95, hybrid | {lat["hybrid"][0]:.1f} / {lat["hybrid"][1]:.1f} ms | |
| `planvec search` cold start (new process, median of 3) | {r["cold_start_seconds"]:.2f} s | |

Reading it:
- **Full index / raw encoder.** The gap ({r["full_seconds"] - r["tasks"] / r["raw_tasks_per_s"]:.0f} s here) is the Python work around the
  model: parsing, diffing and payload hashing, the FR→EN rendering of each text, the lexical
  (sparse) vectors and the conversion of points for the store. A model-free sync of the corpus
  (`--embedder hashing`) takes about 13 s on a quiet machine, most of it that work. The ONNX
  session already keeps both cores busy, so running it on a writer thread alongside the model
  gains only a few per cent (12,001 tasks: 26.0–26.5 s threaded vs 26.7–27.7 s serial). To
  reach 85 % the Python part must roughly halve, e.g. with the lexical analyzer in native code.
- **1 % edited.** The floor is the no-op re-run ({r["noop_seconds"] / r["full_seconds"]:.1%} of the full time). The edits touch
  nearly every file, so every plan is parsed and diffed again. On top of the no-op the edit run
  costs only its {r["edit_embedded"]} embeddings and writes.
"""
    replace_section(REPO / "docs" / "benchmarks.md", "Indexing (end to end)", body)


if __name__ == "__main__":
    main()
