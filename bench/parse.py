"""Parsing speed and correctness on the whole shared corpus, beside a legacy regex parser.

Measures planvec's parser (``parse_plan``: scan, clean, metadata, ids) in MB/s and tasks/s on
every ``*.md`` of ``../shared/corpus/plans``, and, in the same run, the kind of line-regex
parser plans are usually read with (no fence awareness, depth = indentation // 2). Then
counts how many tasks the regex gets wrong there, taking planvec's output as the reference
(it matches the golden files exactly; the golden check is repeated here for the regex).

Usage:
    .venv/bin/python bench/parse.py [--corpus ../shared/corpus] [--repeat 3] [--write]

``--write`` replaces the ``## Parsing`` section of docs/benchmarks.md (re-read just before).
"""

from __future__ import annotations

import argparse
import json
import platform
import re
import sys
import time
from pathlib import Path

from planvec.sources.markdown_plans import parse_plan

REPO = Path(__file__).resolve().parent.parent
DOC = REPO / "docs" / "benchmarks.md"

# The legacy style: one regex per line, no notion of code blocks, depth from indentation.
_LEGACY_TASK = re.compile(r"^(\s*)[-*+]\s+\[([ xX])\]\s+(.*)$")
_LEGACY_HEADING = re.compile(r"^(#+)\s+(.*)$")


def legacy_parse(text: str) -> list[dict[str, object]]:
    """What a typical line-regex plan parser returns: tasks with line, checked, depth."""
    tasks: list[dict[str, object]] = []
    section: list[str] = []
    for number, line in enumerate(text.splitlines(), start=1):
        heading = _LEGACY_HEADING.match(line)
        if heading:
            level = len(heading.group(1))
            section = [*section[: level - 1], heading.group(2).strip()]
            continue
        match = _LEGACY_TASK.match(line)
        if match:
            tasks.append(
                {
                    "line": number,
                    "checked": match.group(2) in "xX",
                    "text": match.group(3).strip(),
                    "depth": len(match.group(1).expandtabs(4)) // 2,
                    "section": list(section),
                }
            )
    return tasks


def _timed(func, texts: list[tuple[str, str]], repeat: int) -> tuple[float, float, list]:  # type: ignore[no-untyped-def,type-arg]
    """Best wall-clock and best CPU seconds over ``repeat`` runs, and the last output."""
    best_wall = best_cpu = float("inf")
    out: list = []  # type: ignore[type-arg]
    for _ in range(repeat):
        wall, cpu = time.perf_counter(), time.process_time()
        out = [func(text, rel) for rel, text in texts]
        best_cpu = min(best_cpu, time.process_time() - cpu)
        best_wall = min(best_wall, time.perf_counter() - wall)
    return best_wall, best_cpu, out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=REPO.parent / "shared" / "corpus")
    parser.add_argument("--repeat", type=int, default=3, help="best of N runs (default 3)")
    parser.add_argument("--write", action="store_true", help="update docs/benchmarks.md")
    args = parser.parse_args()
    plans_dir = args.corpus / "plans"
    if not plans_dir.is_dir():
        print(f"corpus not found at {plans_dir}", file=sys.stderr)
        return 2
    files = sorted(plans_dir.rglob("*.md"))
    texts = [(f.relative_to(plans_dir).as_posix(), f.read_text("utf-8")) for f in files]
    size = sum(len(f.read_bytes()) for f in files)
    mb = size / 1e6

    ours_s, ours_cpu, plans = _timed(lambda text, rel: parse_plan(text, rel), texts, args.repeat)
    regex_s, regex_cpu, legacy = _timed(lambda text, rel: legacy_parse(text), texts, args.repeat)
    ours_n = sum(len(p.tasks) for p in plans)
    regex_n = sum(len(t) for t in legacy)

    # Where the regex is wrong, planvec's tasks being the reference.
    spurious = missed = wrong_checked = wrong_depth = mismatched = 0
    for plan, regex_tasks in zip(plans, legacy, strict=True):
        ref = {t.line: t for t in plan.tasks}
        got = {int(t["line"]): t for t in regex_tasks}  # type: ignore[call-overload]
        spurious += len(got.keys() - ref.keys())
        missed += len(ref.keys() - got.keys())
        for line in got.keys() & ref.keys():
            bad_checked = got[line]["checked"] != ref[line].checked
            bad_depth = got[line]["depth"] != ref[line].depth
            wrong_checked += bad_checked
            wrong_depth += bad_depth
            mismatched += bad_checked or bad_depth
    wrong_tasks = spurious + missed + mismatched

    golden_dir = args.corpus / "golden"
    golden_note = ""
    if golden_dir.is_dir():
        fields = ("line", "checked", "depth")
        g_total = g_wrong = 0
        by_rel = {rel: (text, lg) for (rel, text), lg in zip(texts, legacy, strict=True)}
        for golden in sorted(golden_dir.rglob("*.jsonl")):
            rel = golden.relative_to(golden_dir).as_posix().removesuffix(".jsonl")
            expected = {
                (d := json.loads(line))["line"]: d
                for line in golden.read_text("utf-8").splitlines()
            }
            got = {int(t["line"]): t for t in by_rel[rel][1]}  # type: ignore[call-overload]
            g_total += len(expected)
            g_wrong += len(got.keys() ^ expected.keys()) + sum(
                any(got[n][f] != expected[n][f] for f in fields)
                for n in got.keys() & expected.keys()
            )
        golden_note = (
            f"On the 3 golden files ({g_total} tasks), the regex gets {g_wrong} tasks wrong "
            "(missing, spurious, or wrong checked/depth); planvec gets 0 wrong on all six "
            "golden fields (tests/sources/test_golden.py)."
        )

    rows = [
        ("planvec `parse_plan` (scan + clean + metadata + ids)", ours_s, ours_cpu, ours_n),
        ("legacy regex line parser (tasks only)", regex_s, regex_cpu, regex_n),
    ]
    lines = [
        "## Parsing",
        "",
        f"`.venv/bin/python bench/parse.py --repeat {args.repeat}` — whole DEV corpus "
        f"({len(files)} files, {mb:.2f} MB), texts in memory, best of {args.repeat}; "
        f"Python {platform.python_version()}, shared 2-core machine (other jobs running: "
        "CPU seconds are the steadier figure).",
        "",
        "| parser | wall s | MB/s (wall) | CPU s | MB/s (CPU) | tasks found | tasks/s (CPU) |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for name, wall, cpu, count in rows:
        lines.append(
            f"| {name} | {wall:.3f} | {mb / wall:.1f} | {cpu:.3f} | {mb / cpu:.1f} "
            f"| {count:,} | {count / cpu:,.0f} |"
        )
    lines += [
        "",
        f"Regex errors on the corpus (reference: planvec): **{wrong_tasks:,} tasks wrong** — "
        f"{spurious:,} spurious (checkbox lines inside code fences, HTML comments, indented "
        f"code), {missed:,} missed (ordered `1. [x]` items), {wrong_checked:,} with the wrong "
        f"checked state, {wrong_depth:,} with the wrong depth (indentation // 2 ignores "
        "plain-bullet parents and 4-space steps).",
    ]
    if golden_note:
        lines += ["", golden_note]
    section = "\n".join(lines) + "\n"
    print(section)
    if args.write:
        _write_section(section)
    return 0


def _write_section(section: str) -> None:
    """Replace (or append) the ``## Parsing`` section, leaving the others untouched."""
    text = DOC.read_text("utf-8") if DOC.exists() else "# Benchmarks\n"
    pattern = re.compile(r"^## Parsing\n.*?(?=^## |\Z)", re.DOTALL | re.MULTILINE)
    if pattern.search(text):
        text = pattern.sub(lambda _: section + "\n", text, count=1)
    else:
        text = text.rstrip("\n") + "\n\n" + section
    DOC.write_text(text.rstrip("\n") + "\n", "utf-8")


if __name__ == "__main__":
    sys.exit(main())
