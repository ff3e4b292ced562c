"""A parse that reuses what earlier parses derived from task sources (``SourceMemo``) gives
exactly the plan a fresh parse gives: tasks (every field), sections, warnings, title.

Checked on the shipped examples and fixtures, and on every file of ../shared/corpus (skipped
when absent), with the memo of the same file, of an edited version of it, and of another
file; then after a ``marshal`` round trip (how ``planvec.task_states`` keeps it).
"""

from __future__ import annotations

import marshal
from pathlib import Path

import pytest

from planvec.sources.files import decode
from planvec.sources.markdown_plans import SourceMemo, parse_plan

REPO = Path(__file__).resolve().parents[2]
SHIPPED = sorted([*(REPO / "examples").rglob("*.md"), *(REPO / "tests/fixtures").rglob("*.md")])


def edited(text: str) -> str:
    """Every tenth task line changed, one line inserted at the top: shifted lines, new ids."""
    lines = text.splitlines(keepends=True)
    out = ["Intro\n"]
    for n, line in enumerate(lines):
        if "[ ]" in line and n % 10 == 0:
            line = line.rstrip("\r\n") + " (revu #tag P1 2h)\n"
        out.append(line)
    return "".join(out)


def assert_same_with_memos(texts: list[tuple[str, str]]) -> int:
    checked = 0
    other = SourceMemo()
    parse_plan(texts[-1][1], texts[-1][0], other)
    for name, text in texts:
        fresh = parse_plan(text, name)
        memo = SourceMemo()
        assert parse_plan(text, name, memo) == fresh, name  # learning
        assert parse_plan(text, name, SourceMemo(memo.used)) == fresh, name  # same file
        before = SourceMemo()
        parse_plan(edited(text), name, before)
        assert parse_plan(text, name, SourceMemo(before.used)) == fresh, name  # edited
        assert parse_plan(text, name, SourceMemo(other.used)) == fresh, name  # another
        stored = marshal.loads(marshal.dumps(memo.used))
        assert parse_plan(text, name, SourceMemo(stored)) == fresh, name
        checked += len(fresh.tasks)
    return checked


def test_shipped_examples_parse_the_same_with_a_memo() -> None:
    texts = [(p.name, decode(p.read_bytes(), p.name)[0]) for p in SHIPPED]
    assert len(texts) >= 5
    assert assert_same_with_memos(texts) > 20


@pytest.mark.slow
def test_every_corpus_file_parses_the_same_with_a_memo(corpus_dir: Path) -> None:
    files = sorted(corpus_dir.rglob("*.md"))
    texts = [
        (p.relative_to(corpus_dir).as_posix(), decode(p.read_bytes(), p.name)[0]) for p in files
    ]
    assert assert_same_with_memos(texts) > 20_000


def test_memo_metadata_is_not_shared_between_tasks() -> None:
    memo = SourceMemo()
    plan = parse_plan("- [ ] a #x\n- [ ] a #x\n", "p.md", memo)
    first, second = plan.tasks
    assert first.metadata == second.metadata and first.metadata is not second.metadata
