"""The whole DEV corpus: task counts of its README, unique and stable ids, speed-independent."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from planvec.sources.files import parse_paths


def test_dev_corpus_counts_ids_and_repairs(corpus_dir: Path) -> None:
    plans, failures = parse_paths([corpus_dir])
    assert failures == []
    assert len(plans) == 109
    tasks = [t for p in plans for t in p.tasks]
    # README: 20,512 checkbox tasks, 4,375 checked (same rules as the golden extractor).
    assert len(tasks) == 20_512
    assert sum(t.checked for t in tasks) == 4_375
    ids = Counter(t.id for t in tasks)
    assert ids.most_common(1)[0][1] == 1, "two tasks share an id"
    # Parent ids point at a task of the same plan.
    by_id = {t.id: t for t in tasks}
    for task in tasks:
        if task.parent_id is not None:
            parent = by_id[task.parent_id]
            assert parent.plan == task.plan and parent.line == task.parent_line
            assert parent.depth == task.depth - 1
        else:
            assert task.parent_line is None and task.depth == 0
    # The formatter's "```plaintext" closing fences are repaired and reported.
    repairs = [w for p in plans for w in p.warnings if "closing fence" in w.message]
    assert len({w.plan for w in repairs}) >= 10
    # Every plan has a title; the plan-dev files have a version.
    assert all(p.title for p in plans)
    assert all(p.version for p in plans if "plan-dev-v" in p.path)
    # Section roll-ups add up to the plan totals.
    for plan in plans:
        if plan.sections:
            assert sum(s.tasks for s in plan.sections) == len(plan.tasks)
            assert sum(s.done for s in plan.sections) == plan.done


def test_dev_corpus_ids_identical_across_runs(corpus_dir: Path) -> None:
    sample = sorted(corpus_dir.rglob("*.md"))[:30]
    first, _ = parse_paths(sample)
    second, _ = parse_paths(sample)
    assert [t.id for p in first for t in p.tasks] == [t.id for p in second for t in p.tasks]
    assert [p.file_hash for p in first] == [p.file_hash for p in second]
