"""Section paths: headings inside list items, and fenced Markdown examples with nested fences.

The fixtures are checked against cmark-gfm (``gfm_oracle.py``): checked state, depth, parent
and section of every task. Where CommonMark itself cannot express what the author wrote (two
fences of the same length cannot nest), the oracle reads the document as CommonMark needs it
written (outer fences one backtick longer) and our reading of the original must match that.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from planvec.sources.markdown_plans import parse_plan

from .gfm_oracle import oracle, ours

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "plans"
STUDY = ("Study plan", "Data Structures")


def _sections(text: str) -> list[tuple[str, tuple[str, ...]]]:
    return [(t.text, t.section) for t in parse_plan(text, "t.md").tasks]


def test_headings_inside_list_items_enter_the_section_path() -> None:
    text = (FIXTURES / "headings-in-items.md").read_text("utf-8")
    assert _sections(text) == [
        ("About Arrays", (*STUDY, "Arrays")),  # "- ### Arrays"
        ("Arrays in depth", (*STUDY, "Arrays")),
        ("Implement a vector", (*STUDY, "Arrays")),
        ("Description", (*STUDY, "Linked Lists")),
        ("Reverse a list", (*STUDY, "Linked Lists", "Exercises")),  # indented 8, in "- Core"
        # A heading stays open until a heading of its level or above, as on the page.
        ("Compare with arrays", (*STUDY, "Linked Lists", "Exercises")),
        ("Merge sort", ("Study plan", "Sorting")),  # setext "-------" under "- Sorting"
        ("Graphs", ("Study plan", "Sorting")),  # the task line comes before its underline
        ("Breadth-first search", ("Study plan", "Graphs")),
        ("Lower bound", ("Study plan", "Binary search")),  # a later paragraph of the item
        ("Back at level two", ("Study plan", "After the list")),
        ("Child under a heading in its parent item", ("Study plan", "Inside a task item")),
    ]
    assert ours(text) == oracle(text)


def test_a_heading_inside_an_item_keeps_the_item_open() -> None:
    text = "- [ ] a\n  ## B\n  - [x] c\n    #### D\n    - [ ] e\n- [ ] f\n"
    plan = parse_plan(text, "t.md")
    assert [(t.text, t.depth, t.parent_line, t.section) for t in plan.tasks] == [
        ("a", 0, None, ()),
        ("c", 1, 1, ("B",)),
        ("e", 2, 3, ("B", "D")),
        ("f", 0, None, ("B", "D")),
    ]
    assert ours(text) == oracle(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # An ATX heading interrupts a task's paragraph instead of continuing its text.
        ("- [ ] a\n    ### b\n  - [ ] c\n", [("a", ()), ("c", ("b",))]),
        # Setext underlines, "=" (level 1) and a lone "-", under a task's own paragraph.
        ("# T\n- [ ] a\n  two\n  ===\n  - [ ] b\n", [("a two", ("T",)), ("b", ("a two",))]),
        ("# T\n- [ ] a\n  -\n  - [ ] b\n", [("a", ("T",)), ("b", ("T", "a"))]),
        # Not headings: 4+ columns into the item is paragraph text; an underline left of the
        # item's content column, or with inner spaces, is a thematic break.
        ("- [ ] a\n      ## b\n- [ ] c\n", [("a ## b", ()), ("c", ())]),
        ("- a\n ---\n- [ ] c\n", [("c", ())]),
        ("- a\n  - - -\n  - [ ] c\n", [("c", ())]),
        # "-     ### x": five spaces after the marker make the content indented code.
        ("-     ### x\n  - [ ] c\n", [("c", ())]),
        # Inside a block quote, and after several markers on one line.
        ("> - ## q\n>   - [ ] c\n", [("c", ("q",))]),
        ("- - ## deep\n    - [ ] c\n", [("c", ("deep",))]),
    ],
)
def test_heading_forms_inside_items_agree_with_cmark_gfm(
    text: str, expected: list[tuple[str, tuple[str, ...]]]
) -> None:
    assert _sections(text) == expected
    assert ours(text) == oracle(text)


def test_setext_headings_outside_list_items_are_still_not_read() -> None:
    # YAML front matter and "---" under text: departure 6 in docs/parsing.md.
    text = "---\ntitle: x\n---\n# Plan\n\nIntro\n---\n- [ ] a\n"
    assert _sections(text) == [("a", ("Plan",))]


# --- nested fences ----------------------------------------------------------------------------

NESTED = FIXTURES / "nested-fences.md"
# The outer fences of the two examples, and the repaired "```plaintext" closer: lengthened /
# made bare, this is the document CommonMark needs to show what its author meant.
_AS_COMMONMARK = {7: "````markdown", 16: "````", 19: "  ````md", 27: "  ````", 33: "```"}


def test_nested_fences_in_markdown_examples_stay_code() -> None:
    text = NESTED.read_text("utf-8")
    plan = parse_plan(text, NESTED.name)
    assert [(t.line, t.text, t.section) for t in plan.tasks] == [
        (5, "Write the README", ("Tooling plan", "Phase 1")),
        (18, "Publish the README", ("Tooling plan", "Phase 1")),  # not "Install the dependencies"
        (35, "A task after a repaired fence", ("Tooling plan", "Phase 2")),
    ]
    # Only the real repair is reported, not the nested openers.
    assert [(w.line, "```plaintext" in w.message) for w in plan.warnings] == [(33, True)]
    lines = text.splitlines()
    assert [lines[n - 1] for n in sorted(_AS_COMMONMARK)] == [
        "```markdown",
        "```",
        "  ```md",
        "  ```",
        "```plaintext",
    ]
    for number, line in _AS_COMMONMARK.items():
        lines[number - 1] = line
    as_commonmark = "\n".join(lines) + "\n"
    assert ours(text) == oracle(as_commonmark) == ours(as_commonmark)
    # Read strictly, the inner "```" closes the example: its checkbox becomes a task, and the
    # example's own closer opens a code block that hides the two real tasks after it.
    assert oracle(text) == [(False, 0, None, ("Tooling plan", "Phase 1"))] * 2


@pytest.mark.parametrize(
    ("text", "tasks", "repairs"),
    [
        # Not a Markdown block: an inner "```bash" is the repair, as before.
        ("```text\n```bash\n- [ ] shown\n```\n```\n", ["shown"], 1),
        # A Markdown block whose inner block is closed by "```plaintext": the next fence line is
        # not bare, so the inner opener closes the example (what the rule still gets wrong, but
        # it keeps the corpus's plans wrapped whole in ```markdown readable).
        ("```markdown\n```go\n- [ ] shown\n```plaintext\n- [ ] hidden\n```\n", ["shown"], 1),
        # A nested block's closer must be at least as long as its opener.
        ("````md\n````bash\n```\n````\n````\n- [ ] after\n", ["after"], 0),
        ("```md\n````bash\n```\n```\n- [ ] after\n", ["after"], 1),
        # Inside a block quote; the example ends with its quote.
        ("> ```md\n> ```sh\n> # c\n> ```\n> ```\n- [ ] after\n", ["after"], 0),
        ("> ```md\n> ```sh\n> # c\n> ```\n\n- [ ] after\n", ["after"], 0),
        # Tildes nest the same way; a tilde line never closes a backtick block.
        ("~~~markdown\n~~~sh\n# c\n~~~\n- [ ] hidden\n~~~\n- [ ] after\n", ["after"], 0),
    ],
)
def test_nested_fence_rule(text: str, tasks: list[str], repairs: int) -> None:
    plan = parse_plan(text, "t.md")
    assert [t.text for t in plan.tasks] == tasks
    assert sum("closing fence" in w.message for w in plan.warnings) == repairs
    assert all(t.section == () for t in plan.tasks)
