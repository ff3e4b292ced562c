"""Plots for ``docs/benchmarks.md`` (run in the peers venv, which has matplotlib).

Usage: ``plots.py RESULTS.json OUT_DIR PREFIX``; prints the names of the PNGs written.

* ``PREFIX_throughput.png``: tasks/s against tasks indexed so far (log x), from the progress
  curves of the full-index runs, with each contender's full-index rate as a point;
* ``PREFIX_scenarios.png``: seconds per scenario and contender (log y), incorrect results hatched;
* ``PREFIX_latency.png``: cumulative distribution of search latency per index size and query kind,
  and during indexing.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

SCENARIOS = ["full", "noop", "edit", "delete", "flip"]


def throughput(res: dict[str, Any], path: Path) -> None:
    fig, ax = plt.subplots(figsize=(8, 4.8))
    color = 0
    for c in res["contenders"]:
        if c.get("dataset") != "corpus":
            continue
        rows = {r["scenario"]: r for r in c.get("rows") or []}
        full = rows.get("full")
        if not full:
            continue
        curve = [p for p in full.get("curve") or [] if p[1] > 0 and p[0] > 0]
        if len(curve) > 2:
            ax.plot(
                [p[0] for p in curve],
                [p[0] / p[1] for p in curve],
                label=c["name"],
                color=f"C{color}",
            )
        else:
            ax.scatter(
                [full["tasks"]],
                [full["tasks"] / full["seconds"]],
                label=c["name"],
                marker="D",
                color=f"C{color}",
            )
        color += 1
    for x in res.get("load", []):
        if x.get("kind") != "scale" or "curve" not in x:
            continue
        curve = [p for p in x["curve"] if p[1] > 0 and p[0] > 0]
        color += 1
        ax.plot(
            [p[0] for p in curve],
            [p[0] / p[1] for p in curve],
            color=f"C{color}",
            linestyle="--",
            label=f"planvec load, {x['tasks']:,} synthetic tasks ({x['embedder']})",
        )
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("tasks indexed so far")
    ax.set_ylabel("tasks/s (cumulative)")
    ax.set_title("Full-index throughput vs number of tasks")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def scenarios(res: dict[str, Any], path: Path) -> None:
    # the corpus data set only: the legacy comparison runs on its own subset (not extrapolated)
    cons = [c for c in res["contenders"] if c.get("rows") and c.get("dataset") == "corpus"]
    fig, ax = plt.subplots(figsize=(9, 4.8))
    width = 0.8 / max(1, len(cons))
    for i, c in enumerate(cons):
        rows = {r["scenario"]: r for r in c["rows"]}
        xs, ys, bad = [], [], []
        for j, s in enumerate(SCENARIOS):
            r = rows.get(s)
            if r is None:
                continue
            xs.append(j + i * width)
            ys.append(max(r["seconds"], 1e-3))
            bad.append(not r["correct"])
        bars = ax.bar(xs, ys, width, label=c["name"])
        for bar, b in zip(bars, bad, strict=False):
            if b:
                bar.set_hatch("//")
                bar.set_edgecolor("black")
    ax.set_xticks(
        [j + 0.4 - width / 2 for j in range(len(SCENARIOS))],
        ["full index", "no-op re-run", "1 % edited", "1 % deleted", "1 % status flipped"],
    )
    ax.set_yscale("log")
    ax.set_ylabel("seconds (log; hatched = wrong result)")
    ax.set_title(f"{res['dataset']['tasks']:,} corpus tasks, same model weights")
    ax.legend(fontsize=7)
    ax.grid(True, axis="y", which="both", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def latency(res: dict[str, Any], path: Path) -> bool:
    series = []
    for x in res.get("load", []):
        if x.get("kind") == "scale":
            for name, lat in x.get("latency", {}).items():
                series.append((f"{x['tasks']:,} tasks ({x['embedder']}), {name}", lat["samples"]))
        elif x.get("kind") == "concurrent" and x.get("samples"):
            series.append(
                (f"{x['tasks']:,} tasks ({x['embedder']}), hybrid, during indexing", x["samples"])
            )
    if not series:
        return False
    fig, ax = plt.subplots(figsize=(8, 4.8))
    for name, samples in series:
        ordered = sorted(samples)
        n = len(ordered)
        ax.plot(ordered, [(i + 1) / n for i in range(n)], label=name)
    ax.set_xscale("log")
    ax.set_xlabel("search latency, ms (log; query embedding included)")
    ax.set_ylabel("fraction of searches")
    ax.set_title("Search latency distribution")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True


def main() -> None:
    res = json.loads(Path(sys.argv[1]).read_text(encoding="utf-8"))
    out, prefix = Path(sys.argv[2]), sys.argv[3]
    throughput(res, out / f"{prefix}_throughput.png")
    print(f"{prefix}_throughput.png")
    scenarios(res, out / f"{prefix}_scenarios.png")
    print(f"{prefix}_scenarios.png")
    if latency(res, out / f"{prefix}_latency.png"):
        print(f"{prefix}_latency.png")


if __name__ == "__main__":
    main()
