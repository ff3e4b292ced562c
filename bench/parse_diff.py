"""What a parser change does to the shared corpus: tasks, fence repairs, and every changed field.

Parsing rules change (docs/parsing.md); this script says by how much. ``--save`` writes a
snapshot of every task of ``../shared/corpus/plans`` (plan, line, checked, depth, parent,
section, text, id, metadata), the fence repairs and each plan's title and section roll-up; ``--against`` compares the current parser with such a
snapshot and prints the figures docs/parsing.md quotes: total tasks, tasks per file, repairs,
and how many tasks changed section, text, nesting or id. No timing: it is a correctness diff.

Usage:
    mkdir /tmp/base && git archive <old-commit> src | tar -x -C /tmp/base
    PYTHONPATH=/tmp/base/src .venv/bin/python bench/parse_diff.py --save /tmp/before.json
    .venv/bin/python bench/parse_diff.py --against /tmp/before.json [--show 10]
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path

from _common import corpus_or_exit
from planvec.sources.files import parse_paths

FIELDS = ("checked", "depth", "parent_line", "section", "text", "id", "metadata")


def snapshot(corpus: Path) -> dict[str, object]:
    """Every task of the corpus keyed by plan and line, plus the fence repairs per plan."""
    plans, failures = parse_paths([corpus])
    tasks = {
        f"{t.plan}:{t.line}": {k: v for k, v in t.to_dict().items() if k in FIELDS}
        for p in plans
        for t in p.tasks
    }
    repairs = {
        p.path: sum("closing fence" in w.message for w in p.warnings)
        for p in plans
        if any("closing fence" in w.message for w in p.warnings)
    }
    per_file = {p.path: len(p.tasks) for p in plans}
    rollups = {p.path: [p.title, [[s.title, s.tasks, s.done] for s in p.sections]] for p in plans}
    return {
        "tasks": tasks,
        "repairs": repairs,
        "per_file": per_file,
        "rollups": rollups,
        "failures": len(failures),
    }


def _count(values: dict[str, int]) -> int:
    return sum(values.values())


def compare(before: dict[str, object], after: dict[str, object], show: int) -> int:
    """Print the figures; return 1 when a task of the old snapshot is gone, else 0."""
    old_tasks: dict[str, dict[str, object]] = before["tasks"]  # type: ignore[assignment]
    new_tasks: dict[str, dict[str, object]] = after["tasks"]  # type: ignore[assignment]
    old_files: dict[str, int] = before["per_file"]  # type: ignore[assignment]
    new_files: dict[str, int] = after["per_file"]  # type: ignore[assignment]
    old_rep: dict[str, int] = before["repairs"]  # type: ignore[assignment]
    new_rep: dict[str, int] = after["repairs"]  # type: ignore[assignment]
    lost = sorted(set(old_tasks) - set(new_tasks))
    gained = sorted(set(new_tasks) - set(old_tasks))
    print(f"tasks: {len(old_tasks)} -> {len(new_tasks)} (lost {len(lost)}, new {len(gained)})")
    print(f"fence repairs: {_count(old_rep)} -> {_count(new_rep)}")
    moved = {p for p in set(old_files) | set(new_files) if old_files.get(p) != new_files.get(p)}
    print(f"files whose task count changed: {len(moved)}")
    for path in sorted(moved):
        print(f"  {path}: {old_files.get(path)} -> {new_files.get(path)}")
    for path in sorted(set(old_rep) | set(new_rep)):
        if old_rep.get(path) != new_rep.get(path):
            print(f"  repairs in {path}: {old_rep.get(path, 0)} -> {new_rep.get(path, 0)}")
    old_roll: dict[str, object] = before["rollups"]  # type: ignore[assignment]
    new_roll: dict[str, object] = after["rollups"]  # type: ignore[assignment]
    rolled = sorted(p for p in old_roll if p in new_roll and old_roll[p] != new_roll[p])
    print(f"plans whose title or section roll-up changed: {len(rolled)}")
    for path in rolled[:show]:
        print(f"  {path}")
    changed: Counter[str] = Counter()
    examples: dict[str, list[str]] = {}
    files: dict[str, set[str]] = {}
    for key in sorted(set(old_tasks) & set(new_tasks)):
        for field in FIELDS:
            if old_tasks[key][field] != new_tasks[key][field]:
                changed[field] += 1
                files.setdefault(field, set()).add(key.rsplit(":", 1)[0])
                examples.setdefault(field, []).append(
                    f"    {key}: {old_tasks[key][field]!r} -> {new_tasks[key][field]!r}"
                )
    for field in FIELDS:
        print(f"tasks whose {field} changed: {changed[field]} in {len(files.get(field, ()))} files")
        for line in examples.get(field, [])[:show]:
            print(line[:300])
    for key in (lost + gained)[:show]:
        print(f"  {'lost' if key in lost else 'new'}: {key}")
    return 1 if lost else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--save", type=Path, help="write a snapshot of the current parser")
    parser.add_argument("--against", type=Path, help="compare with a saved snapshot")
    parser.add_argument("--show", type=int, default=5, help="examples printed per field")
    parser.add_argument("--corpus", type=Path, help="plans to read (default: the shared corpus)")
    args = parser.parse_args(argv)
    now = snapshot(args.corpus or corpus_or_exit())
    if args.save:
        args.save.write_text(json.dumps(now, ensure_ascii=False), encoding="utf-8")
        print(f"saved {len(now['tasks'])} tasks to {args.save}")  # type: ignore[arg-type]
    if args.against:
        before = json.loads(args.against.read_text(encoding="utf-8"))
        return compare(before, now, args.show)
    return 0


if __name__ == "__main__":
    sys.exit(main())
