"""Block rules of the parser: fences (and their repair), nesting, continuation, containers."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from planvec.records import Task
from planvec.sources.markdown_plans import parse_plan

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "plans"


def tasks_of(text: str) -> list[Task]:
    return list(parse_plan(text, "t.md").tasks)


def shape(text: str) -> list[tuple[int, str, int, int | None]]:
    """(line, text, depth, parent_line) of every task: the facts most rules are about."""
    return [(t.line, t.text, t.depth, t.parent_line) for t in tasks_of(text)]


def test_plaintext_closing_fence_is_repaired_with_a_warning() -> None:
    plan = parse_plan((FIXTURES / "broken-fences.md").read_text("utf-8"), "broken-fences.md")
    assert [t.key for t in plan.tasks] == ["1.1", "1.2", "2.1", "2.2"]
    assert plan.tasks[2].section == ("Plan v56 — broken fences", "Phase 2")
    assert [w.line for w in plan.warnings] == [9, 14]
    assert all("```plaintext" in w.message and w.plan == "broken-fences.md" for w in plan.warnings)


def test_plain_closing_fence_gives_no_warning_and_hides_code() -> None:
    text = "- [ ] a\n```md\n- [ ] fake\n# fake heading\n```\n- [x] b\n"
    plan = parse_plan(text, "t.md")
    assert [(t.text, t.section) for t in plan.tasks] == [("a", ()), ("b", ())]
    assert plan.warnings == ()


def test_longer_fence_is_not_closed_by_a_shorter_one() -> None:
    text = "````\n```\n- [ ] fake\n```\n````\n- [ ] real\n"
    assert [t.text for t in tasks_of(text)] == ["real"]


def test_unclosed_fence_runs_to_end_of_file_and_warns() -> None:
    plan = parse_plan("- [ ] a\n```\n- [ ] hidden\n", "t.md")
    assert [t.text for t in plan.tasks] == ["a"]
    assert [w.line for w in plan.warnings] == [2]
    assert "never closed" in plan.warnings[0].message


def test_nesting_plain_bullets_continuation_and_statuses() -> None:
    plan = parse_plan((FIXTURES / "nesting.md").read_text("utf-8"), "nesting.md")
    got = {t.line: t for t in plan.tasks}
    assert got[5].text == "Parent task with a continuation line and a deeper one"
    # Only checkbox ancestors count: a task under a plain bullet under a task has depth 1.
    assert (got[9].depth, got[9].parent_line) == (1, 5)
    assert (got[11].depth, got[11].parent_line) == (2, 9)
    assert got[9].text == "Child under a plain bullet"  # the quote is not a continuation
    assert (got[13].depth, got[13].parent_line) == (1, 5)
    assert (got[15].depth, got[15].parent_line) == (0, None)
    assert (got[19].depth, got[19].parent_line, got[19].checked) == (1, 18, True)
    assert got[17].checked and got[17].status == "done"
    assert [got[n].status for n in (20, 21, 22)] == ["in_progress", "cancelled", "?"]
    assert not any(got[n].checked for n in (20, 21, 22))
    # Look-alikes are not tasks.
    assert 23 not in got and 24 not in got and 25 not in got
    # No lazy continuation: a paragraph line closes the list.
    assert (got[27].depth, got[27].parent_line) == (0, None)
    assert got[30].section == ("Nesting and continuation", "Section A")
    assert got[32].section == ("Nesting and continuation", "Section A", "Sub B")


def test_heading_closes_items_and_replaces_deeper_headings() -> None:
    text = "# T\n## A\n### A1\n- [ ] x\n## B\n  - [ ] y\n"
    got = tasks_of(text)
    assert [t.section for t in got] == [("T", "A", "A1"), ("T", "B")]
    assert got[1].depth == 0


def test_continuation_stops_at_blank_lists_tables_quotes_and_breaks() -> None:
    text = (
        "- [ ] one\n  two\n\n  not joined\n"
        "- [ ] three\n  | table |\n  four\n"
        "- [ ] five\n  > quote\n"
        "- [ ] six\n  ***\n"
    )
    assert [t.text for t in tasks_of(text)] == ["one two", "three", "five", "six"]


def test_indented_code_and_html_blocks_hide_tasks() -> None:
    text = (
        "# Title\n\n    - [ ] indented code\n\n"
        "<!--\n- [ ] in a comment\n-->\n"
        "<div>\n- [ ] in an html block\n</div>\n\n"
        "- [ ] visible\n"
    )
    assert [t.text for t in tasks_of(text)] == ["visible"]


def test_tasks_inside_block_quotes() -> None:
    text = "> - [ ] quoted\n>   - [x] nested\n\n- [ ] after\n"
    assert shape(text) == [(1, "quoted", 0, None), (2, "nested", 1, 1), (4, "after", 0, None)]


def test_several_markers_on_one_line() -> None:
    assert shape("- - [ ] inner\n") == [(1, "inner", 0, None)]
    assert shape("- [ ] a\n  - - [x] b\n") == [(1, "a", 0, None), (2, "b", 1, 1)]


def test_crlf_bom_and_tabs() -> None:
    text = "\ufeff# Title\r\n\r\n- [ ] a\r\n\t- [x] b\r\n\t  continued\r\n- [ ]\tc\r\n"
    plan = parse_plan(text, "t.md")
    assert plan.title == "Title"
    assert [(t.line, t.text, t.depth, t.checked) for t in plan.tasks] == [
        (3, "a", 0, False),
        (4, "b continued", 1, True),
        (6, "c", 0, False),
    ]


def test_empty_and_whitespace_only_text() -> None:
    for text in ("", "\n\n", "   ", "\ufeff"):
        plan = parse_plan(text, "dir/empty.md")
        assert plan.tasks == () and plan.title == "empty" and plan.sections == ()


def test_thousand_deep_nesting_without_recursion() -> None:
    depth = 1000
    text = "".join("  " * i + f"- [ ] level {i}\n" for i in range(depth))
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(200)  # any per-level recursion would fail here
    try:
        got = tasks_of(text)
    finally:
        sys.setrecursionlimit(limit)
    assert len(got) == depth
    assert [t.depth for t in got] == list(range(depth))
    assert got[-1].parent_id == got[-2].id
    assert len({t.id for t in got}) == depth


def test_ten_megabyte_plan() -> None:
    prose = "Contexte : " + "la migration doit rester compatible avec l’existant. " * 40 + "\n\n"
    code = "```go\n" + "// - [ ] pas une tâche\nfunc main() {{}}\n" * 20 + "```plaintext\n"
    tasks = "".join(
        f"- [{'x' if i % 3 == 0 else ' '}] **{{n}}.{i}** Tâche {i} avec du texte `code`\n"
        f"  - [ ] détail {i} sans numéro\n"
        for i in range(1, 6)
    )
    block = "## Phase {n}\n\n" + prose + code + tasks + "\n"
    parts = []
    size = 0
    n = 0
    while size < 10 * 1024 * 1024:
        n += 1
        chunk = block.format(n=n)
        parts.append(chunk)
        size += len(chunk.encode("utf-8"))
    plan = parse_plan("# Big\n" + "".join(parts), "big.md")
    assert len(plan.tasks) == n * 10
    assert len({t.id for t in plan.tasks}) == len(plan.tasks)
    assert len(plan.sections) == n
    assert len(plan.warnings) == n  # one repaired fence per block


def test_title_version_and_sections() -> None:
    plan = parse_plan(
        "Intro\n\n- [x] before any section\n# Plan de dev v12 : **migration**\n"
        "## Phase 1\n- [x] a\n### Détail\n- [ ] b\n## Phase 2\n- [ ] c\n",
        "plans/roadmap.md",
    )
    assert plan.title == "Plan de dev v12 : migration"
    assert plan.version == "v12"
    assert [(s.title, s.tasks, s.done) for s in plan.sections] == [
        ("(no section)", 1, 1),
        ("Phase 1", 2, 1),
        ("Phase 2", 1, 0),
    ]
    assert parse_plan("# Roadmap\n", "plan-dev-v65B-x.md").version == "v65B"
    assert parse_plan("## Only h2\n", "notes.md").title == "Only h2"
    assert parse_plan("no heading\n", "a/notes.md").title == "notes"
    assert parse_plan("", "notes.md").version is None


@pytest.mark.timeout(120)
@pytest.mark.parametrize("unit", ["*a ", "_a ", "**a ", "~~a ", "`a ", "- ", "+ 1) "])
def test_long_lines_of_unpaired_markers_stay_linear(unit: str) -> None:
    # 50,000 repeats: a quadratic pattern here would need minutes, not seconds.
    plan = parse_plan("- [ ] " + unit * 50_000 + "\n- [x] after\n", "long.md")
    assert plan.tasks[-1].text == "after" and plan.tasks[-1].checked
