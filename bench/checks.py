"""Time ``planvec check`` and ``planvec quality`` on a synthetic 100,000-task index.

Why: checks must stay usable on big indexes (seconds, bounded memory), so they page through
the store and keep only counters and a bounded sample. This script measures it.

Each phase runs in its own process so that its peak RSS (``ru_maxrss``) is its own:

* ``build``   : write N tasks into P plan files and index them (hashing embedder, Qdrant
  Edge on disk);
* ``floor``   : one scroll of every point with its vector, and one parse of the plans
  (the least any full check must do: context for the two numbers below);
* ``check``   : ``check_index`` against the plan files (both passes, 256 vectors re-embedded);
* ``quality`` : ``measure_quality`` (scroll of all vectors, 500 sampled self-retrieval
  searches, probes).

Example::

    .venv/bin/python bench/checks.py --tasks 100000 --plans 200 --dir /tmp/planvec-bench
    .venv/bin/python bench/checks.py --tasks 10000 --plans 20 --dir /tmp/pvb --keep
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

_FR = (
    "mettre place sauvegarde base données configurer intégration continue documenter api "
    "serveur déploiement production tests unitaires performance sécurité utilisateurs rôles "
    "migration cloud facturation interface recherche index surveillance alertes journaux "
    "rotation clés chiffrement réseau cache file messages tableau bord rapport mensuel"
)
_EN = (
    "write update review deploy monitor refactor migrate document benchmark secure backup "
    "endpoint service worker queue schema dashboard metrics login session billing export "
    "import search cluster node replica snapshot release pipeline build lint coverage"
)
WORDS_FR, WORDS_EN = _FR.split(), _EN.split()


def make_plans(root: Path, tasks: int, plans: int, seed: int = 0) -> None:
    """Write ``plans`` Markdown files holding ``tasks`` checkbox tasks in total."""
    rng = random.Random(seed)
    root.mkdir(parents=True, exist_ok=True)
    per_plan = tasks // plans
    for p in range(plans):
        lines = [f"# Plan {p}", ""]
        for i in range(per_plan):
            if i % 25 == 0:
                lines += ["", f"## Phase {i // 25 + 1}", ""]
            words = rng.sample(WORDS_FR if i % 2 else WORDS_EN, rng.randint(4, 9))
            box = "x" if rng.random() < 0.3 else " "
            lines.append(f"- [{box}] **{i // 25 + 1}.{i % 25 + 1}** {' '.join(words)} {p}-{i}")
        (root / f"plan-{p:04d}.md").write_text("\n".join(lines) + "\n", encoding="utf-8")


def _open(index_dir: Path) -> Any:
    from planvec.embed.hashing import HashingEmbedder
    from planvec.index import Index
    from planvec.store import open_store
    from planvec.text.lexical import LexicalEncoder

    return Index(open_store(index_dir=index_dir), HashingEmbedder(), lexical=LexicalEncoder())  # type: ignore[arg-type]


def phase(name: str, work: Path) -> dict[str, Any]:
    """Run one phase in this process; returns seconds, peak RSS and a short result."""
    from planvec.index import sources_for

    plans, index_dir = work / "plans", work / "index"
    started = time.perf_counter()
    out: dict[str, Any] = {"phase": name}
    if name == "build":
        with _open(index_dir) as index:
            report = index.sync(sources_for([plans]), batch_size=1024)
            out["result"] = {"added": report.added, "plans": report.plans}
    elif name == "floor":  # what any full check costs at least: one scroll + one parse
        from planvec.sources.files import parse_paths

        with _open(index_dir) as index:
            t = time.perf_counter()
            n = sum(
                1 for _ in index.points.scroll(with_vectors=True, with_payload=("plan", "text"))
            )
            scroll_s = time.perf_counter() - t
        t = time.perf_counter()
        plans_, _ = parse_paths([plans])
        out["result"] = {
            "points": n,
            "scroll_with_vectors_s": round(scroll_s, 2),
            "parse_s": round(time.perf_counter() - t, 2),
            "tasks": sum(len(p.tasks) for p in plans_),
        }
    elif name == "check":
        from planvec.checks.verify import check_index

        with _open(index_dir) as index:
            report = check_index(index, sources_for([plans]))
            out["result"] = {
                "status": report.status,
                "points": report.points,
                "tasks": report.tasks,
                "reembedded": report.vectors_reembedded,
                "summary": report.summary(),
            }
    elif name == "quality":
        from planvec.checks.quality import measure_quality

        with _open(index_dir) as index:
            q = measure_quality(index)
            out["result"] = {
                "points": q.points,
                "sampled": q.sampled,
                "metrics": q.metrics,
                "near_duplicate_pairs": q.near_duplicate_pairs,
            }
    out["seconds"] = round(time.perf_counter() - started, 2)
    out["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tasks", type=int, default=100_000)
    parser.add_argument("--plans", type=int, default=200)
    parser.add_argument("--dir", type=Path, default=Path("/tmp/planvec-bench-checks"))
    parser.add_argument("--keep", action="store_true", help="Reuse an existing build.")
    parser.add_argument(
        "--phase",
        choices=["build", "floor", "check", "quality"],
        default=None,
        help=argparse.SUPPRESS,
    )
    args = parser.parse_args()
    if args.phase:
        print(json.dumps(phase(args.phase, args.dir)))
        return
    if not (args.keep and (args.dir / "index").exists()):
        shutil.rmtree(args.dir, ignore_errors=True)
        make_plans(args.dir / "plans", args.tasks, args.plans)
        phases = ["build", "floor", "check", "quality"]
    else:
        phases = ["floor", "check", "quality"]
    print(json.dumps({"load_average": [round(x, 1) for x in os.getloadavg()]}), flush=True)
    for name in phases:
        done = subprocess.run(
            [sys.executable, __file__, "--phase", name, "--dir", str(args.dir)],
            check=True,
            capture_output=True,
            text=True,
        )
        print(done.stdout.strip().splitlines()[-1], flush=True)


if __name__ == "__main__":
    main()
