"""Property tests: the parser never raises, and agrees with cmark-gfm on well-formed plans.

The oracle is GitHub's reference implementation, cmark-gfm, read back from its HTML output
(``gfm_oracle.py``): checked state, depth, parent and section of every task. Generated plans
stay inside the Markdown where our deliberate departures from CommonMark (docs/parsing.md:
"```plaintext" closes a fence, no lazy continuation, fences that outlive their list item)
cannot apply: fences are closed properly, continuation lines are indented, lists start after
a blank line. They include headings inside list items: ATX right after a marker
(``- ### Arrays``) or on their own line in an item, and setext underlines under an item's
paragraph.
"""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from planvec.errors import SourceError
from planvec.sources.files import decode
from planvec.sources.markdown_plans import parse_plan

from .gfm_oracle import oracle, ours

# --- generated plans -------------------------------------------------------------------

WORDS = st.lists(
    st.sampled_from(
        ["backup", "base", "données", "API", "docs", "`code`", "*emph*", "1.2.3", "P1", "é", "x"]
    ),
    min_size=1,
    max_size=5,
).map(" ".join)
BOX = st.sampled_from([None, " ", "x", "X"])


@st.composite
def fence(draw: st.DrawFn, indent: int) -> list[str]:
    char = draw(st.sampled_from("`~"))
    size = draw(st.integers(3, 5))
    pad = " " * indent
    samples = st.sampled_from(["- [ ] fake", "# fake heading", "> quoted", "", "x = 1"])
    body = draw(st.lists(samples, max_size=3))
    info = draw(st.sampled_from(["", "go", "md"]))
    inner = [pad + line if line else "" for line in body]
    return [pad + char * size + info, *inner, pad + char * size]


@st.composite
def item_list(draw: st.DrawFn, indent: int, level: int) -> list[str]:
    ordered = draw(st.booleans())
    bullet = draw(st.sampled_from("-*+"))
    delim = draw(st.sampled_from(".)"))
    loose = draw(st.booleans())
    lines: list[str] = []
    for number in range(1, draw(st.integers(1, 3)) + 1):
        marker = f"{number}{delim}" if ordered else bullet
        content = indent + len(marker) + 1
        box = draw(BOX)
        head = f"[{box}] " if box is not None else ""
        if box is None and draw(st.integers(0, 3)) == 0:
            head = "#" * draw(st.integers(1, 6)) + " "  # "- ### Arrays"
        if loose and lines:
            lines.append("")
        lines.append(" " * indent + f"{marker} {head}{draw(WORDS)}")
        if draw(st.booleans()):
            lines.append(" " * content + draw(WORDS))  # continuation, properly indented
        extra = draw(st.sampled_from(["none", "fence", "note", "para", "heading", "setext"]))
        if extra == "heading":
            lines.append(" " * content + "#" * draw(st.integers(1, 6)) + " " + draw(WORDS))
        elif extra == "setext" and not head.startswith("#"):
            lines.append(" " * content + draw(st.sampled_from(["---", "===", "-", "=="])))
        elif extra == "fence":
            lines.extend(draw(fence(content)))
        elif extra == "note":
            lines.append(" " * content + "> note " + draw(WORDS))
            lines.append("")
        elif extra == "para":
            lines.extend(["", " " * content + draw(WORDS)])
        if level < 3 and draw(st.booleans()):
            if draw(st.booleans()):
                lines.append("")
            lines.extend(draw(item_list(content, level + 1)))
    return lines


@st.composite
def block(draw: st.DrawFn) -> list[str]:
    kind = draw(
        st.sampled_from(
            ["list", "list", "list", "heading", "para", "fence", "quote", "html", "code"]
        )
    )
    if kind == "list":
        return draw(item_list(0, 0))
    if kind == "heading":
        return ["#" * draw(st.integers(1, 6)) + " " + draw(WORDS)]
    if kind == "para":
        return [draw(WORDS), draw(WORDS)]
    if kind == "fence":
        return draw(fence(0))
    if kind == "quote":
        body = draw(item_list(0, 2))
        return [("> " + line) if line else ">" for line in body]
    if kind == "html":
        opener, closer = draw(st.sampled_from([("<!--", "-->"), ("<div>", "</div>")]))
        return [opener, "- [ ] hidden", closer]
    return ["## code below", "", "    - [ ] indented code"]


@st.composite
def plans(draw: st.DrawFn) -> str:
    blocks = draw(st.lists(block(), min_size=1, max_size=5))
    eol = draw(st.sampled_from(["\n", "\r\n"]))
    return eol.join(eol.join(lines) + eol for lines in blocks)


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(plans())
def test_agrees_with_cmark_gfm_on_generated_plans(text: str) -> None:
    assert ours(text) == oracle(text)


# --- arbitrary input -------------------------------------------------------------------

TOKENS = [
    "- ",
    "* ",
    "+ ",
    "1. ",
    "2) ",
    "[ ] ",
    "[x] ",
    "[X] ",
    "[/]",
    "[-] ",
    "```",
    "~~~",
    "```plaintext",
    "```markdown",
    "~~~md",
    "===",
    "- ### ",
    "# ",
    "####### ",
    "> ",
    ">",
    "<!--",
    "-->",
    "<div>",
    "<pre>",
    "\n",
    "\r\n",
    "\r",
    "  ",
    "    ",
    "\t",
    "|",
    "**",
    "__",
    "`",
    "_",
    "~~",
    "*",
    "\ufeff",
    "\x00",
    "word",
    "1.2.3 ",
    "P0 ",
    "⏱ 1h30m",
    "📅 2026-01-31",
    "#tag",
    "@me",
    "(2h)",
    "é",
    "\u00a0",
    "---",
]


@settings(
    max_examples=400,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(st.one_of(st.text(), st.lists(st.sampled_from(TOKENS), max_size=60).map("".join)))
def test_never_raises_and_keeps_invariants(text: str) -> None:
    plan = parse_plan(text, "any.md")
    lines = [t.line for t in plan.tasks]
    assert lines == sorted(set(lines))
    assert len({t.id for t in plan.tasks}) == len(plan.tasks)
    by_line = {t.line: t for t in plan.tasks}
    for task in plan.tasks:
        if task.parent_line is None:
            assert task.depth == 0 and task.parent_id is None
        else:
            parent = by_line[task.parent_line]
            assert parent.line < task.line and parent.depth == task.depth - 1
            assert task.parent_id == parent.id
    assert sum(s.tasks for s in plan.sections) in (0, len(plan.tasks))


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=2000))
def test_any_bytes_decode_to_a_plan_or_a_clear_source_error(data: bytes) -> None:
    try:
        text, warnings = decode(data, "bytes.md")
    except SourceError as exc:
        assert "binary" in exc.reason
        return
    assert isinstance(text, str) and not text.startswith("\ufeff")
    parse_plan(text, "bytes.md")
    if warnings:
        assert all(w.plan == "bytes.md" for w in warnings)
