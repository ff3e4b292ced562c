"""``planvec migrate-model --to usem3`` (or ``--to e5``) end to end on the shared corpus.

Why (issue 22): the migration must work on the real corpus, not only on a test fixture:
build beside the live MiniLM collection, pass the quality gate, switch the alias, roll back,
switch again and delete the old collection, while readers keep getting answers.

Steps, all through the CLI (new processes, as a user would run them):

1. ``planvec index PLANS`` (default model) into a fresh index directory (or ``--index-dir``
   to reuse one built by an earlier run);
2. ``migrate-model --to usem3`` (plan), ``--apply``, ``--rollback``, ``--apply`` again
   (vectors now cached), ``--delete-old``; after each step a new ``planvec search`` process
   with no ``--embedder`` flag must answer (``auto`` follows the live model). The wall time
   and JSON report of each step are recorded.

On the embedded store only one process may open an index directory at a time, so readers
in *other processes* wait (``PLANVEC_WAIT_HELD``) while a migration holds it; concurrent
readers during the switch are those of the same process or of a server store
(``tests/reliability/test_concurrency.py``).

Results: ``bench/results/migrate_multilingual.json`` for usem3, ``migrate_<target>.json``
for another ``--to`` (commit, machine, load averages).

Examples::

    python bench/migrate_multilingual.py
    python bench/migrate_multilingual.py --to e5
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

from _common import REPO, corpus_or_exit, git_commit, machine

RESULTS = REPO / "bench" / "results" / "migrate_multilingual.json"
QUERY = "sauvegarder la base de données"


def planvec(args: list[str], env: dict[str, str]) -> tuple[dict[str, Any], float]:
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "planvec", *args, "--json"],
        capture_output=True, text=True, env=env,
    )  # fmt: skip
    seconds = time.perf_counter() - start
    print(f"planvec {' '.join(args)}: exit {done.returncode}, {seconds:.1f} s", flush=True)
    try:
        data: Any = json.loads(done.stdout) if done.stdout.strip() else {}
    except json.JSONDecodeError:
        data = {"stdout": done.stdout[-2000:]}
    if done.returncode:
        data = {"exit": done.returncode, "stderr": done.stderr[-2000:], "data": data}
    return data if isinstance(data, dict) else {"result": data}, seconds


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    ap.add_argument("--to", default="usem3", help="the target embedder (usem3, e5)")
    ap.add_argument("--out", type=Path, default=None, help="default: by target, see above")
    ap.add_argument("--index-dir", type=Path, default=None, help="reuse this MiniLM index")
    ap.add_argument("--max-quality-drop", default=None, help="passed to --apply (default: its)")
    args = ap.parse_args(argv)
    out = args.out or (
        RESULTS if args.to == "usem3" else RESULTS.with_name(f"migrate_{args.to}.json")
    )
    plans = corpus_or_exit()
    tmp = Path(tempfile.mkdtemp(prefix="planvec-migrate-"))
    env = dict(os.environ, HF_HUB_OFFLINE="1")
    idx = str(args.index_dir or tmp / "index")
    steps: dict[str, Any] = {}
    result: dict[str, Any] = {
        "commit": git_commit(),
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "machine": machine(),
        "load_avg_start": list(os.getloadavg()),
        "target": args.to,
        "note": "embedding cache: the user's (~/.cache/planvec), as a user's second run",
    }
    try:
        if args.index_dir is None:
            steps["index"] = planvec(["index", str(plans), "--index", idx, "--silent"], env)
        mm = ["migrate-model", "--index", idx]
        gate = ["--max-quality-drop", args.max_quality_drop] if args.max_quality_drop else []
        result["max_quality_drop"] = args.max_quality_drop or "default (0.05)"
        query = ["search", QUERY, "--index", idx, "-n", "3"]
        for name, argv in (
            ("status_before", mm),
            ("plan", [*mm, "--to", args.to]),
            ("apply", [*mm, "--to", args.to, "--apply", *gate]),
            ("rollback", [*mm, "--rollback"]),
            ("apply_again", [*mm, "--to", args.to, "--apply", *gate]),
            ("delete_old", [*mm, "--delete-old"]),
        ):
            steps[name] = planvec(argv, env)
            hits, seconds = planvec(query, env)
            status, _ = planvec(mm, env)
            steps[f"search_after_{name}"] = (
                {"model_id": status.get("model_id"), "live": status.get("live"),
                 "top": [h.get("text") for h in hits.get("result", [])][:3],
                 "exit": hits.get("exit", 0)},
                seconds,
            )  # fmt: skip
        result["steps"] = {k: {"seconds": round(s, 2), "report": r} for k, (r, s) in steps.items()}
        result["load_avg_end"] = list(os.getloadavg())
        out.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
        print(f"wrote {out}")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
