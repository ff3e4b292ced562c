"""Synthetic plan generator with the real corpus' shape, deterministic by seed.

The load test needs 100,000 and 1,000,000 tasks; the real corpus has ~20,000. This script
learns, from the real corpus parsed by planvec, the shape that drives cost and behaviour:

* tasks per file (sampled from the real files that have tasks);
* nesting: a Markov chain over task depth (next depth given the current one);
* sections: heading depth of each run of tasks, and run lengths (tasks per section);
* status mix (share of ``[x]``) and prose lines between sections;
* texts: real task texts with light perturbation (digits re-drawn, a real word appended or two
  words swapped), so that lengths and token counts, hence embedding cost, stay realistic and
  most texts differ from each other (the embedding cache cannot cheat).

The same ``--seed`` and corpus always write byte-identical files.

Usage: ``python bench/synth.py --tasks 100000 --out /tmp/synth100k [--seed 7]``
"""

from __future__ import annotations

import argparse
import bisect
import random
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

_DIGIT = re.compile(r"\d")
_BAD = ("```", "~~~", "\n", "\r")
_TASK_LINE = re.compile(r"^\s*([-*+]|\d+[.)])\s+\[[ xX]\]")
_HEADING = re.compile(r"^\s{0,3}#{1,6}\s")
_FILES_PER_DIR = 100


class _Sampler:
    """Draw from an empirical distribution (value -> count), deterministically."""

    def __init__(self, counts: Counter[int]) -> None:
        self.values = sorted(counts)
        self.cum: list[int] = []
        total = 0
        for v in self.values:
            total += counts[v]
            self.cum.append(total)
        self.total = total

    def draw(self, rng: random.Random) -> int:
        return self.values[bisect.bisect_right(self.cum, rng.randrange(self.total))]


@dataclass
class Shape:
    """What the generator learned from the corpus."""

    tasks_per_file: list[int]
    texts: list[str]
    headings: list[str]
    prose: list[str]
    words: list[str]
    done_ratio: float
    depth_next: dict[int, Counter[int]] = field(default_factory=dict)
    section_depth: Counter[int] = field(default_factory=Counter)
    run_length: Counter[int] = field(default_factory=Counter)
    prose_per_section: float = 1.0

    def summary(self) -> dict[str, float]:
        n = sum(self.tasks_per_file)
        return {
            "files": len(self.tasks_per_file),
            "tasks": n,
            "done_ratio": round(self.done_ratio, 3),
            "mean_text_chars": round(sum(map(len, self.texts)) / len(self.texts), 1),
            "mean_section_depth": round(
                sum(k * v for k, v in self.section_depth.items()) / self.section_depth.total(), 2
            ),
        }


def learn(corpus: Path) -> Shape:
    """Parse the corpus with planvec and extract its shape."""
    from planvec.sources.files import parse_paths

    plans, _ = parse_paths([corpus])
    plans = sorted((p for p in plans if p.tasks), key=lambda p: p.path)
    texts: list[str] = []
    headings: set[str] = set()
    depth_next: dict[int, Counter[int]] = {}
    section_depth: Counter[int] = Counter()
    run_length: Counter[int] = Counter()
    done = 0
    sections = 0
    for plan in plans:
        prev_depth = -1
        prev_section: tuple[str, ...] | None = None
        run = 0
        for task in plan.tasks:
            if not any(b in task.text for b in _BAD) and task.text.strip():
                texts.append(task.text)
            done += task.checked
            headings.update(h for h in task.section if not any(b in h for b in _BAD))
            if task.section != prev_section:
                prev_depth = -1
                if run:
                    run_length[run] += 1
                section_depth[max(1, min(6, len(task.section)))] += 1
                sections += 1
                prev_section, run = task.section, 0
            run += 1
            depth_next.setdefault(prev_depth, Counter())[task.depth] += 1
            prev_depth = task.depth
        run_length[run] += 1
    prose: list[str] = []
    words: set[str] = set()
    for path in sorted(corpus.rglob("*.md")):
        in_fence = False
        for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
            stripped = line.strip()
            if stripped.startswith(("```", "~~~")):
                in_fence = not in_fence
                continue
            if in_fence or not stripped or _TASK_LINE.match(line) or _HEADING.match(line):
                continue
            if stripped[0] in "-*+>|<#0123456789[" or "[" in stripped or "`" in stripped:
                continue
            prose.append(stripped)
    for text in texts:
        words.update(w for w in text.split() if w.isalpha() and len(w) > 3)
    return Shape(
        tasks_per_file=[len(p.tasks) for p in plans],
        texts=texts,
        headings=sorted(headings),
        prose=prose,
        words=sorted(words),
        done_ratio=done / max(1, sum(len(p.tasks) for p in plans)),
        depth_next=depth_next,
        section_depth=section_depth,
        run_length=run_length,
        prose_per_section=len(prose) / max(1, sections),
    )


def _perturb(text: str, rng: random.Random, words: list[str]) -> str:
    text = _DIGIT.sub(lambda _: str(rng.randrange(10)), text)
    parts = text.split(" ")
    roll = rng.random()
    if roll < 0.5:
        parts.append(rng.choice(words))
    elif roll < 0.7 and len(parts) > 3:
        i = rng.randrange(1, len(parts) - 1)
        parts[i], parts[i + 1] = parts[i + 1], parts[i]
    return " ".join(parts)


def _plan_text(shape: Shape, n_tasks: int, rng: random.Random, index: int, tools: dict) -> str:
    samplers: dict[int, _Sampler] = tools["depth"]
    out = [f"# Plan synthétique {index} : {rng.choice(shape.headings)}", ""]
    depth = -1
    written = 0
    while written < n_tasks:
        level = tools["section"].draw(rng)
        for h in range(2, level + 1):
            if h == level or rng.random() < 0.3:
                title = _DIGIT.sub(lambda _: str(rng.randrange(10)), rng.choice(shape.headings))
                out += ["", "#" * min(6, h) + " " + title, ""]
        prose = int(shape.prose_per_section) + (rng.random() < shape.prose_per_section % 1)
        for _ in range(prose):
            out.append(rng.choice(shape.prose))
        if prose:
            out.append("")
        depth = -1
        for _ in range(min(tools["run"].draw(rng), n_tasks - written)):
            sampler = samplers.get(depth) or samplers[-1]
            depth = sampler.draw(rng)
            box = "x" if rng.random() < shape.done_ratio else " "
            text = _perturb(rng.choice(shape.texts), rng, shape.words)
            out.append(f"{'  ' * depth}- [{box}] {text}")
            written += 1
    return "\n".join(out) + "\n"


def generate(shape: Shape, n_tasks: int, out: Path, seed: int = 7) -> int:
    """Write plans holding ``n_tasks`` tasks in total under ``out``; returns files written.

    Args:
        shape: learned from the real corpus (``learn``).
        n_tasks: total number of tasks to write.
        out: target directory (created; files are ``dNNN/synth-NNNNNN.md``).
        seed: same seed, same files.
    """
    rng = random.Random(seed)
    tools = {
        "depth": {k: _Sampler(v) for k, v in shape.depth_next.items()},
        "section": _Sampler(shape.section_depth),
        "run": _Sampler(shape.run_length),
    }
    files = _Sampler(Counter(shape.tasks_per_file))
    written = 0
    index = 0
    while written < n_tasks:
        count = min(files.draw(rng), n_tasks - written)
        path = out / f"d{index // _FILES_PER_DIR:04d}" / f"synth-{index:06d}.md"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(_plan_text(shape, count, rng, index, tools), encoding="utf-8")
        written += count
        index += 1
    return index


def main() -> None:
    from _common import corpus_or_exit

    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--tasks", type=int, default=100_000)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    shape = learn(corpus_or_exit())
    files = generate(shape, args.tasks, args.out, args.seed)
    print(f"{files} files, {args.tasks} tasks written to {args.out}; shape {shape.summary()}")


if __name__ == "__main__":
    main()
