"""The data sets of the comparison: one corpus state per scenario, with what each changed.

``make_dataset`` copies plan files into ``s0`` and derives ``s1`` (1 % of task lines edited),
``s2`` (then 1 % deleted) and ``s3`` (then the checkbox of 1 % flipped); each state is also
parsed once by planvec into a JSONL file of tasks (the expected content of every store).
"""

from __future__ import annotations

import json
import random
import re
import shutil
import time
from collections import Counter
from pathlib import Path
from typing import Any

_TASK = re.compile(r"^(\s*(?:[-*+]|\d+[.)])\s+\[[ xX]\]\s+)(.*?)(\r?\n?)$")


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
                if action == "flip":
                    box = m.group(1)
                    box = (
                        box.replace("[ ]", "[x]")
                        if "[ ]" in box
                        else re.sub(r"\[[xX]\]", "[ ]", box)
                    )
                    line = f"{box}{m.group(2)}{m.group(3)}"
                else:
                    line = f"{m.group(1)}{m.group(2)} (modifié){m.group(3)}"
            out.append(line)
        path.write_text("".join(out), encoding="utf-8")


def _pick(tasks: list[dict[str, Any]], rng: random.Random) -> dict[str, set[int]]:
    chosen = rng.sample(range(len(tasks)), max(1, round(len(tasks) / 100)))
    picks: dict[str, set[int]] = {}
    for i in chosen:
        picks.setdefault(tasks[i]["plan"], set()).add(tasks[i]["line"])
    return picks


def _vector_sample(
    tasks: list[dict[str, Any]], changed: list[str], rng: random.Random, size: int
) -> list[str]:
    """Task ids whose stored vectors are checked: the changed ones plus a random sample."""
    ids = [t["id"] for t in tasks]
    picked = set(changed[:size])
    picked.update(rng.sample(ids, min(len(ids), size)))
    return sorted(picked)


def make_dataset(
    files: list[Path], src: Path, dest: Path, seed: int, vector_sample: int = 100
) -> dict[str, Any]:
    """Four states of the same plans: s0 original, s1 = 1 % edited, s2 = s1 minus 1 %,
    s3 = s2 with the checkbox of 1 % of its tasks flipped."""
    rng = random.Random(seed)
    s0, s1, s2, s3 = (dest / n for n in ("s0", "s1", "s2", "s3"))
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
    shutil.copytree(s2, s3)
    flips = _pick(t2, rng)
    _rewrite(s3, flips, "flip")
    t3 = parse_state(s3)
    for name, tasks in (("s0", t0), ("s1", t1), ("s2", t2), ("s3", t3)):
        with (dest / f"{name}.jsonl").open("w", encoding="utf-8") as fh:
            for t in tasks:
                fh.write(json.dumps(t, ensure_ascii=False) + "\n")
    text0 = {t["id"]: t["text"] for t in t0}
    ids2 = {t["id"] for t in t2}
    status2 = {t["id"]: t["status"] for t in t2}
    edited = [t["id"] for t in t1 if t["id"] in text0 and text0[t["id"]] != t["text"]]
    deleted = [t["id"] for t in t1 if t["id"] not in ids2]
    flipped = [t["id"] for t in t3 if t["id"] in status2 and status2[t["id"]] != t["status"]]
    state = {
        n: {"dir": str(dest / n), "state": str(dest / f"{n}.jsonl")}
        for n in ("s0", "s1", "s2", "s3")
    }
    vrng = random.Random(seed + 100)
    new1 = [t["id"] for t in t1 if t["id"] not in text0]
    samples = {
        "s0": _vector_sample(t0, [], vrng, vector_sample),
        "s1": _vector_sample(t1, edited + new1, vrng, vector_sample),
        "s2": _vector_sample(t2, [], vrng, vector_sample),
        "s3": _vector_sample(t3, flipped, vrng, vector_sample),
    }
    scenarios = [
        {"name": "full", **state["s0"], "edited": [], "deleted": [], "flipped": []},
        {"name": "noop", **state["s0"], "edited": [], "deleted": [], "flipped": []},
        {"name": "edit", **state["s1"], "edited": edited, "deleted": [], "flipped": []},
        {"name": "delete", **state["s2"], "edited": [], "deleted": deleted, "flipped": []},
        {"name": "flip", **state["s3"], "edited": [], "deleted": [], "flipped": flipped},
    ]
    for sc, key in zip(scenarios, ("s0", "s0", "s1", "s2", "s3"), strict=True):
        sc["vector_sample"] = samples[key]
    return {
        "tasks": len(t0),
        "parse_seconds": parse_seconds,
        "files": len(files),
        "edited_n": len(edited),
        "deleted_n": len(deleted),
        "flipped_n": len(flipped),
        "edited_lines": sum(map(len, edits.values())),
        "deleted_lines": sum(map(len, deletions.values())),
        "flipped_lines": sum(map(len, flips.values())),
        "largest_plan": max(Counter(t["plan"] for t in t0).values(), default=0),
        "scenarios": scenarios,
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
