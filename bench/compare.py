"""The contenders of the comparison, how each is run, and how its rows are checked.

Every contender is its own process (``contenders.py`` in the project venv, ``peers/*_run.py``
in the peers venv) that prints one JSON line with a row per scenario. Here each row also gets
its vector check (``vectors.py``), and repeated runs of one contender are merged into one row
per scenario: the median time, every run's time (the spread), correct only if every run was.
"""

from __future__ import annotations

import json
import shutil
import statistics
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness import MODEL_CACHE, budget, log, run_json
from vectors import TOLERANCE, Reference, check_vectors, discrimination

#: The legacy comparison: the loop and planvec on the same subset (never extrapolated).
LEGACY = "legacy loop"
PLANVEC_ON_LEGACY = "planvec (default), legacy subset"
DEFAULT = "planvec (default)"
LANGCHAIN_DEFAULT_BATCH = 100


@dataclass
class Spec:
    """One contender: its command, data set (``corpus`` or ``legacy``) and job settings."""

    name: str
    cmd: list[str]
    dataset: str = "corpus"
    job: dict[str, Any] = field(default_factory=dict)
    recipe: str = "raw"  # what it embeds: see vectors.expected_texts
    precision: str = "fp32"  # vectors.TOLERANCE key
    repeats: int = 1
    group: str = "core"  # "core" (the comparison) or "variant" (refinements)
    scenarios: tuple[str, ...] | None = None  # a subset of the scenarios (None: all)


def contender_specs(
    dataset_tasks: int,
    largest_plan: int,
    peers_py: Path | None,
    legacy_repeats: int,
    onnx_path: str,
    legacy_scenarios: tuple[str, ...] | None = None,
) -> list[Spec]:
    """Every contender, most telling first (a run cut short still answers the main questions).

    The legacy pair comes after the peers (the loop is the slowest contender by far, and on
    a loaded machine it would otherwise eat the time budget of everything after it), planvec
    first within it, so that a run cut inside the loop still has both sides of a scenario.
    """
    py = sys.executable
    pv = [py, "contenders.py", "planvec"]
    specs = [Spec(DEFAULT, pv, job={"config": "default"}, recipe="planvec")]
    # index() batches are fixed windows over the document stream and cleans up per batch: a
    # batch of the largest plan's size still splits the plans that straddle two windows (their
    # other part is deleted and embedded again). A batch holding the whole data set splits none.
    lc_batch = max(dataset_tasks, largest_plan, 1)
    if peers_py is not None:
        lc, li = (
            [str(peers_py), "peers/langchain_run.py"],
            [str(peers_py), "peers/llamaindex_run.py"],
        )
        recommended = {"cleanup": "incremental", "batch_size": lc_batch}
        specs += [
            Spec("LangChain index(), recommended batch", lc, job={**recommended}),
            Spec(
                "LangChain index(), recommended batch, ONNX",
                lc,
                job={**recommended, "runtime": "onnx", "onnx_path": onnx_path},
            ),
        ]
    specs.append(Spec("planvec on torch", pv, job={"config": "torch"}, recipe="planvec"))
    if peers_py is not None:
        specs += [
            Spec("LlamaIndex IngestionPipeline", li),
            Spec(
                f"LangChain index(), default batch ({LANGCHAIN_DEFAULT_BATCH})",
                lc,
                job={"cleanup": "incremental", "batch_size": LANGCHAIN_DEFAULT_BATCH},
            ),
            Spec(
                "LlamaIndex IngestionPipeline, ONNX",
                li,
                job={"runtime": "onnx", "onnx_path": onnx_path},
            ),
            Spec(
                "LangChain index(), cleanup=full",
                lc,
                job={"cleanup": "full", "batch_size": lc_batch},
                group="variant",
            ),
            Spec(
                "LangChain index(), batch = largest plan",
                lc,
                job={"cleanup": "incremental", "batch_size": max(largest_plan, 1)},
                group="variant",
            ),
        ]
    specs += [
        Spec(
            PLANVEC_ON_LEGACY,
            pv,
            "legacy",
            {"config": "default"},
            "planvec",
            repeats=legacy_repeats,
            scenarios=legacy_scenarios,
        ),
        Spec(
            LEGACY,
            [py, "contenders.py", "legacy"],
            "legacy",
            recipe="legacy",
            repeats=legacy_repeats,
            scenarios=legacy_scenarios,
        ),
    ]
    specs += [
        Spec(
            "planvec (onnx-int8)",
            pv,
            job={"config": "fastest"},
            recipe="planvec",
            precision="int8",
            group="variant",
        ),
        Spec(
            "planvec on local:// (peers' engine)",
            pv,
            job={"config": "local"},
            recipe="planvec",
            group="variant",
        ),
    ]
    return specs


def merge_runs(outs: list[dict[str, Any]]) -> dict[str, Any]:
    """One result from repeated runs: per scenario the median time and every run's time."""
    done = [o for o in outs if o.get("rows")]
    if not done:
        return outs[-1] if outs else {"error": "not run"}
    merged = dict(done[0])
    rows = []
    for i, first in enumerate(done[0]["rows"]):
        same = [o["rows"][i] for o in done if len(o["rows"]) > i]
        runs = [r["seconds"] for r in same]
        row = dict(first)
        row.update(
            seconds=statistics.median(runs),
            runs=runs,
            correct=all(r["correct"] for r in same),
        )
        rows.append(row)
    merged["rows"] = rows
    merged["repeats"] = len(done)
    errors = [
        o.get("error") or o.get("incomplete") for o in outs if o.get("error") or o.get("incomplete")
    ]
    if errors:
        merged["incomplete"] = "; ".join(str(e) for e in errors)
    return merged


def check_rows(out: dict[str, Any], spec: Spec, dataset: dict[str, Any], ref: Reference) -> None:
    """Add the vector check to every row; ``correct`` then needs ids, text, status and vectors."""
    by_name = {sc["name"]: sc for sc in dataset["scenarios"]}
    for row in out.get("rows", []):
        path = row.pop("vectors_file", None)
        if not path or not Path(path).exists():
            row["vectors"] = {"ok": False, "error": "no vector sample written"}
        else:
            row["vectors"] = check_vectors(
                path, by_name[row["scenario"]], spec.recipe, TOLERANCE[spec.precision], ref
            )
        row["correct_records"] = row["correct"]
        row["correct"] = bool(row["correct"] and row["vectors"]["ok"])


def run_contenders(
    specs: list[Spec],
    datasets: dict[str, dict[str, Any]],
    work: Path,
    model_path: str,
    ref: Reference,
    results: list[dict[str, Any]],
    save: Callable[[], None],
) -> None:
    """Run each contender (``repeats`` times) in its own process, check, append, save."""
    for spec in specs:
        data = datasets[spec.dataset]
        if budget(3600) < 60:
            log(f"contender {spec.name}: skipped, past the deadline")
            results.append(
                {
                    "name": spec.name,
                    "dataset": spec.dataset,
                    "error": "not run: past the deadline of this run",
                }
            )
            save()
            continue
        outs = []
        for rep in range(spec.repeats):
            cwork = work / f"c{len(results)}-{rep}"
            cwork.mkdir(parents=True)
            job = {
                "name": spec.name,
                "work": str(cwork),
                "model_path": model_path,
                "model_cache": str(MODEL_CACHE),
                "scenarios": [
                    sc
                    for sc in data["scenarios"]
                    if spec.scenarios is None or sc["name"] in spec.scenarios
                ],
                **spec.job,
            }
            job_file = cwork / "job.json"
            job_file.write_text(json.dumps(job), encoding="utf-8")
            log(f"contender {spec.name} on {data['tasks']} tasks (run {rep + 1}/{spec.repeats})")
            out = (
                run_json([*spec.cmd, str(job_file)], cwork / "stderr.log", timeout=budget(3600))
                or {}
            )
            check_rows(out, spec, data, ref)
            for row in out.get("rows", []):
                v = row["vectors"]
                log(
                    f"  {row['scenario']}: {row['seconds']:.2f}s correct={row['correct']} "
                    f"(vectors min cos {v.get('min_cos')})"
                )
            if "error" in out:
                log(f"  failed: {out['error']}")
            outs.append(out)
            shutil.rmtree(cwork, ignore_errors=True)
        merged = merge_runs(outs)
        merged.update(
            name=spec.name,
            dataset=spec.dataset,
            dataset_tasks=data["tasks"],
            group=spec.group,
            job={k: v for k, v in spec.job.items() if k != "onnx_path"},
            recipe=spec.recipe,
        )
        results.append(merged)
        save()


def edit_discrimination(data: dict[str, Any], ref: Reference) -> float | None:
    """How close a stale vector gets to the reference (see ``vectors.discrimination``)."""
    full, _, edit = data["scenarios"][:3]
    return discrimination(full, edit, edit["edited"], ref)
