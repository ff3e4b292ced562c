"""Catalogue sync (PostgreSQL) on the shared corpus: full, no-op, after a 1 % change.

Starts its own PostgreSQL 16 with ``pgserver`` (or uses ``--dsn``), copies the corpus to a
temporary directory and measures, each on the same database:

* ``full``: the first sync into an empty database (migrations included);
* ``no-op``: the same files again (every plan skipped by its rows hash);
* ``1 % plan edits``: 1 % of the tasks changed in the files (status flips and text edits,
  spread over random files), then a sync;
* ``1 % db edits + write-back``: 1 % of the statuses changed in the database, then a sync
  with ``--write-back`` (each one a one-byte edit of its file).

Writes ``bench/results/catalogue.json`` and the ``## Catalogue (PostgreSQL)`` section of
docs/benchmarks.md, with the median of ``--repeat`` runs of the whole sequence (each on a
fresh copy and an empty ``planvec`` schema). Usage:
``python bench/catalogue.py [--repeat 3] [--dsn URL-of-a-scratch-database] [--no-doc]``;
the ``planvec`` schema of a ``--dsn`` database is dropped first.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import tempfile
import warnings
from pathlib import Path
from typing import Any

from _common import REPO, corpus_or_exit, machine, replace_section, timed
from planvec.catalogue import sync_catalogue

_TASK = re.compile(r"^(\s*[-*+] \[)([ x])(\] )(.*)$")


def _edit_plans(root: Path, share: float, rng: random.Random) -> int:
    """Change ``share`` of all task lines in the files (flip or text edit); returns how many."""
    files = sorted(root.rglob("*.md"))
    spots = []
    for f in files:
        for i, line in enumerate(f.read_text(encoding="utf-8").split("\n")):
            if _TASK.match(line):
                spots.append((f, i))
    chosen = rng.sample(spots, max(1, int(len(spots) * share)))
    by_file: dict[Path, list[int]] = {}
    for f, i in chosen:
        by_file.setdefault(f, []).append(i)
    for f, indexes in by_file.items():
        lines = f.read_text(encoding="utf-8").split("\n")
        for i in indexes:
            m = _TASK.match(lines[i])
            assert m is not None
            if rng.random() < 0.5:
                lines[i] = m[1] + ("x" if m[2] == " " else " ") + m[3] + m[4]
            else:
                lines[i] = lines[i] + " (révisé)"
        f.write_bytes("\n".join(lines).encode("utf-8"))
    return len(chosen)


def _edit_db(dsn: str, share: float) -> int:
    import psycopg

    with psycopg.connect(dsn, autocommit=True) as conn:
        rows = conn.execute(
            "UPDATE planvec.tasks SET status = CASE status WHEN 'done' THEN 'todo' ELSE 'done' END"
            " WHERE status IN ('todo', 'done') AND random() < %s RETURNING id",
            (share,),
        ).fetchall()
    return len(rows)


def _row(name: str, report: Any, seconds: float, changed: int | None = None) -> dict[str, Any]:
    return {
        "scenario": name,
        "seconds": round(seconds, 2),
        "plans": report.plans,
        "plans_skipped": report.plans_unchanged,
        "tasks": report.tasks,
        "changed_input": changed,
        "added": report.added,
        "updated": report.updated,
        "deleted": report.deleted,
        "written_back": report.status_from_db,
        "tasks_per_s": round(report.tasks / seconds) if seconds else None,
    }


def _drop_schema(dsn: str) -> None:
    import psycopg

    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("DROP SCHEMA IF EXISTS planvec CASCADE")


def run(dsn: str, work: Path) -> list[dict[str, Any]]:
    """One pass of the four scenarios on a fresh copy of the corpus and an empty schema."""
    _drop_schema(dsn)
    plans = work / "plans"
    shutil.rmtree(plans, ignore_errors=True)
    shutil.copytree(corpus_or_exit(), plans)
    rng = random.Random(2026)
    rows = []
    report, seconds = timed(lambda: sync_catalogue(dsn, [plans]))
    rows.append(_row("full (empty database)", report, seconds))
    report, seconds = timed(lambda: sync_catalogue(dsn, [plans]))
    rows.append(_row("no-op", report, seconds))
    changed = _edit_plans(plans, 0.01, rng)
    report, seconds = timed(lambda: sync_catalogue(dsn, [plans]))
    rows.append(_row("1 % plan edits", report, seconds, changed))
    changed = _edit_db(dsn, 0.01)
    report, seconds = timed(lambda: sync_catalogue(dsn, [plans], write_back=True))
    rows.append(_row("1 % db edits + write-back", report, seconds, changed))
    return rows


def median_rows(runs: list[list[dict[str, Any]]]) -> list[dict[str, Any]]:
    """Per scenario, the row of the run with the median time (and every run's seconds)."""
    out = []
    for rows in zip(*runs, strict=True):
        ordered = sorted(rows, key=lambda r: r["seconds"])
        row = dict(ordered[len(ordered) // 2])
        row["runs_seconds"] = [r["seconds"] for r in rows]
        out.append(row)
    return out


def _markdown(rows: list[dict[str, Any]], load: float) -> str:
    runs = len(rows[0]["runs_seconds"])
    lines = [
        f"`python bench/catalogue.py --repeat {runs}` on {machine()}, PostgreSQL 16 (pgserver, "
        "Unix socket, same machine), the shared corpus (109 files, 20,512 tasks); median of "
        f"{runs} runs of the whole sequence (every run's seconds in the last column). Load "
        f"average (1 min) when the run started: {load:.2f} on 2 cores.",
        "",
        "| scenario | seconds | plans (skipped) | tasks | changed input | added | updated | deleted | written back | tasks/s | runs (s) |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['scenario']} | {r['seconds']} | {r['plans']} ({r['plans_skipped']}) | {r['tasks']} "
            f"| {r['changed_input'] if r['changed_input'] is not None else ''} | {r['added']} "
            f"| {r['updated']} | {r['deleted']} | {r['written_back']} | {r['tasks_per_s']} "
            f"| {', '.join(map(str, r['runs_seconds']))} |"
        )
    lines += [
        "",
        "Every run parses every file (the same parser as `planvec index`); a plan whose rows "
        "hash as last synced and that has no database-side edit is then skipped. Plans touched by "
        "the 1 % edits are diffed row by row in one transaction each; only changed rows are "
        "written. In the 1 % plan edits, a text edit of an unnumbered task changes its id "
        "(docs/ids.md): it counts as one row added and one deleted. A write-back re-parses the "
        "edited text to verify it before the atomic replace (and fsyncs the file and its "
        "directory): that is most of its time. Raw figures: `bench/results/catalogue.json`.",
    ]
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--dsn", default=None, help="use this PostgreSQL instead of starting one")
    ap.add_argument("--no-doc", action="store_true", help="do not update docs/benchmarks.md")
    ap.add_argument("--repeat", type=int, default=3, help="runs of the whole sequence (median)")
    args = ap.parse_args()
    corpus_or_exit()
    load = os.getloadavg()[0]  # how busy the machine was: part of the result
    with tempfile.TemporaryDirectory(prefix="planvec-bench-cat-") as tmp:
        work = Path(tmp)
        if args.dsn:
            rows = median_rows([run(args.dsn, work) for _ in range(args.repeat)])
        else:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                import pgserver

                (work / "pg").mkdir()
                server = pgserver.get_server(work / "pg", cleanup_mode="stop")
            try:
                rows = median_rows([run(server.get_uri(), work) for _ in range(args.repeat)])
            finally:
                server.cleanup()
    for r in rows:
        print(r)
    out = REPO / "bench" / "results" / "catalogue.json"
    result = {"machine": machine(), "load_average_at_start": load, "rows": rows}
    out.write_text(json.dumps(result, indent=2) + "\n")
    if not args.no_doc:
        section = _markdown(rows, load)
        replace_section(REPO / "docs" / "benchmarks.md", "Catalogue (PostgreSQL)", section)


if __name__ == "__main__":
    main()
