"""The line scanner: finds checkbox tasks and headings in Markdown, one pass, no recursion.

Why a hand-written scanner and not a full CommonMark tree: the plans we read were broken by
tools (closing fences rewritten as "```plaintext", missing closing fences) and users want the
tasks they wrote, not what a strict parser sees. The rules are the golden rules of
``../shared/corpus/README.md`` (see docs/parsing.md), plus the CommonMark containers the
golden corpus does not exercise: block quotes, indented code and HTML blocks. Open list items
are kept on an explicit stack, so a list nested 1,000 deep costs no Python recursion, and the
whole pass is linear in the input.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

#: Checkbox characters that make a list item a task, and the status each one means.
CHECKBOX_STATUS: dict[str, str] = {
    " ": "todo",
    "x": "done",
    "X": "done",
    "/": "in_progress",
    "~": "in_progress",
    "-": "cancelled",
}
#: Other marks kept as tasks whose status is the raw character (Obsidian-style ``[!]``, ``[?]``).
RAW_MARKS = frozenset("!?><*\"'+=@&%")

_LIST_MARKER = re.compile(r"([-*+]|\d{1,9}[.)])(?:([ \t]+)|$)")
_CHECKBOX = re.compile(r"\[(.)\](?:[ \t]+|$)")
_HEADING = re.compile(r"(#{1,6})(?:[ \t]+(.*?))?[ \t]*$")
_CLOSING_HASHES = re.compile(r"(?:^|[ \t]+)#+$")
_THEMATIC = re.compile(r"(?:(?:\*[ \t]*){3,}|(?:-[ \t]*){3,}|(?:_[ \t]*){3,})$")
_FENCE = re.compile(r"(`{3,}|~{3,})(.*)$")

_HTML_BLOCK_TAGS = (
    "address|article|aside|base|basefont|blockquote|body|caption|center|col|colgroup|dd|"
    "details|dialog|dir|div|dl|dt|fieldset|figcaption|figure|footer|form|frame|frameset|"
    "h1|h2|h3|h4|h5|h6|head|header|hr|html|iframe|legend|li|link|main|menu|menuitem|nav|"
    "noframes|ol|optgroup|option|p|param|search|section|summary|table|tbody|td|tfoot|th|"
    "thead|title|tr|track|ul"
)
# CommonMark HTML block kinds 1-5 (they end at a marker) and 6 (ends at a blank line).
_HTML_STARTS: tuple[tuple[re.Pattern[str], re.Pattern[str] | None], ...] = (
    (
        re.compile(r"<(?:script|pre|style|textarea)(?:[ \t>]|$)", re.IGNORECASE),
        re.compile(r"</(?:script|pre|style|textarea)>", re.IGNORECASE),
    ),
    (re.compile(r"<!--"), re.compile(r"-->")),
    (re.compile(r"<\?"), re.compile(r"\?>")),
    (re.compile(r"<![A-Za-z]"), re.compile(r">")),
    (re.compile(r"<!\[CDATA\["), re.compile(r"\]\]>")),
    (re.compile(r"</?(?:" + _HTML_BLOCK_TAGS + r")(?:[ \t]|/?>|$)", re.IGNORECASE), None),
)


@dataclass
class RawTask:
    """A task as found by the scanner, before ids and metadata."""

    line: int
    mark: str
    parts: list[str]
    depth: int
    parent_line: int | None
    #: Open headings as (level, raw text), top-down.
    headings: tuple[tuple[int, str], ...]


@dataclass
class Heading:
    """An ATX heading outside code."""

    line: int
    level: int
    text: str


@dataclass
class ScanResult:
    """Everything one pass over a document finds."""

    tasks: list[RawTask] = field(default_factory=list)
    headings: list[Heading] = field(default_factory=list)
    #: (line, message) of every repair or oddity worth a ParseWarning.
    notes: list[tuple[int, str]] = field(default_factory=list)


@dataclass
class _Item:
    """An open list item on the stack."""

    indent: int  # column of its marker
    content: int  # column where its content starts
    quote: int  # block-quote depth it lives in
    task: RawTask | None
    # Nearest checkbox item at or below this one on the stack, and how many there are.
    task_anchor: RawTask | None
    task_count: int


def _columns(line: str) -> str:
    """Expand tabs (tab stop 4) so indentation is measured in columns."""
    return line.expandtabs(4) if "\t" in line else line


def _strip_quotes(line: str, limit: int = 1_000_000) -> tuple[list[int], int, str]:
    """Split block-quote markers off a line.

    Returns:
        (the column of each ``>`` marker, outermost first: its length is the quote depth;
        the column of the content after the markers; that content without leading spaces).
    """
    stripped = line.lstrip(" ")
    if not stripped.startswith(">"):  # the common case: no quote at all
        return [], len(line) - len(stripped), stripped
    marks: list[int] = []
    pos = 0
    size = len(line)
    while len(marks) < limit:
        start = pos
        while pos < size and line[pos] == " " and pos - start < 4:
            pos += 1
        if pos < size and line[pos] == ">" and pos - start <= 3:
            marks.append(pos)
            pos += 1
            if pos < size and line[pos] == " ":
                pos += 1
        else:
            pos = start
            break
    rest = line[pos:]
    stripped = rest.lstrip(" ")
    return marks, pos + len(rest) - len(stripped), stripped


def scan(text: str) -> ScanResult:
    """Scan a whole Markdown document (already decoded, BOM removed).

    Args:
        text: the document; ``\\r\\n`` and lone ``\\r`` before ``\\n`` are accepted.

    Returns:
        Tasks, headings and repair notes, in document order.
    """
    result = ScanResult()
    stack: list[_Item] = []
    headings: list[tuple[int, str]] = []
    heading_tuple: tuple[tuple[int, str], ...] = ()
    fence: tuple[str, int, int, int] | None = None  # (char, length, quote depth, line)
    html_end: re.Pattern[str] | None = None
    in_html = False
    block_quote = 0  # quote depth of the open HTML or indented code block
    in_code = False  # indented code block
    code_base = 0
    after_break = True  # previous line was blank (or a block ended): indented code may start
    cont: RawTask | None = None  # task whose paragraph may continue on the next line
    cont_indent = 0
    cont_quote = 0

    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    for number, raw in enumerate(lines, start=1):
        if raw.endswith("\r"):
            raw = raw[:-1]
        line = _columns(raw)

        if fence is not None:
            fchar, flen, fquote, fline = fence
            if fquote:
                marks, _, content = _strip_quotes(line, fquote)
            else:
                marks, content = [], line.lstrip()
            if len(marks) >= fquote:
                if content.startswith(fchar * flen):
                    fence = None
                    after_break = True
                    rest = content.lstrip(fchar).strip()
                    if rest:
                        result.notes.append(
                            (
                                number,
                                f"closing fence {content.strip()!r} has text after it; "
                                f"treated as the end of the code block opened on line {fline}",
                            )
                        )
                continue
            fence = None  # the quote holding the fence ended: so did the fence

        marks, col, content = _strip_quotes(line)
        quote = len(marks)
        if not content:
            # Blank (possibly inside quotes): ends paragraphs, HTML kind 6, quotes deeper.
            cont = None
            after_break = True
            if in_html and html_end is None:
                in_html = False
            while stack and stack[-1].quote > quote:
                stack.pop()
            continue

        if in_html:
            if quote < block_quote:
                in_html = False
            else:
                if html_end is not None and html_end.search(content):
                    in_html = False
                    after_break = True
                continue

        outer = len(line) - len(line.lstrip(" ")) if marks else col
        # Content column of the innermost open item this line is indented into.
        base = col if quote else 0
        for item in reversed(stack):  # a few steps: deeper items are closed just below
            if item.quote < quote:
                break
            if item.quote == quote and item.content <= col:
                base = item.content
                break
        if in_code:
            if col >= code_base + 4 and quote == block_quote:
                continue
            in_code = False
        if after_break and col >= base + 4 and cont is None:
            in_code = True
            code_base = base
            block_quote = quote
            continue

        # Close the items this line does not belong to.
        while stack:
            top = stack[-1]
            if top.quote > quote or top.indent >= (col if top.quote == quote else marks[top.quote]):
                stack.pop()
            else:
                break

        first = content[0]
        if first == "#":
            match = _HEADING.match(content)
            if match and col - base <= 3 and outer <= 3:
                level = len(match.group(1))
                title = _CLOSING_HASHES.sub("", match.group(2) or "")
                stack.clear()
                while headings and headings[-1][0] >= level:
                    headings.pop()
                headings.append((level, title))
                heading_tuple = tuple(headings)
                result.headings.append(Heading(number, level, title))
                cont = None
                after_break = True
                continue
        elif first in "`~":
            match = _FENCE.match(content)
            if match and not (first == "`" and "`" in match.group(2)):
                fence = (first, len(match.group(1)), quote, number)
                cont = None
                continue
        elif first == "<":
            html = next(((s, e) for s, e in _HTML_STARTS if s.match(content)), None)
            if html is not None:
                cont = None
                if html[1] is not None and html[1].search(content, 2):
                    after_break = True
                else:
                    in_html = True
                    html_end = html[1]
                    block_quote = quote
                continue

        if first in "-*+_" and _THEMATIC.match(content):
            cont = None
            after_break = True
            continue

        marker = _LIST_MARKER.match(content) if first in "-*+0123456789" else None
        if marker is None:
            if cont is not None and quote == cont_quote and col > cont_indent and first not in "|>":
                cont.parts.append(content)
            else:
                cont = None
            after_break = False
            continue

        # One or more list markers on this line ("- - [ ] x" opens two items). Matching
        # at offsets (no slicing) keeps a line of a million markers linear.
        cont = None
        after_break = False
        pos = 0
        size = len(content)
        breakable = -1  # from here on the line could be a thematic break ("- * * *")
        while marker is not None:
            marker_col = col + pos
            spaces = marker.group(2) or ""
            width = len(marker.group(1))
            after = marker.end()
            if not spaces or len(spaces) > 4:  # 5+ spaces: content is indented code
                content_col = marker_col + width + 1
            else:
                content_col = marker_col + width + len(spaces)
            while stack and stack[-1].quote == quote and stack[-1].indent >= marker_col:
                stack.pop()
            anchor = stack[-1].task_anchor if stack else None
            count = stack[-1].task_count if stack else 0
            box = _CHECKBOX.match(content, after) if content.startswith("[", after) else None
            task = None
            if box is not None and (box.group(1) in CHECKBOX_STATUS or box.group(1) in RAW_MARKS):
                task = RawTask(
                    line=number,
                    mark=box.group(1),
                    parts=[content[box.end() :]],
                    depth=count,
                    parent_line=anchor.line if anchor else None,
                    headings=heading_tuple,
                )
                result.tasks.append(task)
                cont = task
                cont_indent = marker_col
                cont_quote = quote
                anchor = task
                count += 1
            stack.append(_Item(marker_col, content_col, quote, task, anchor, count))
            if task is not None or after >= size:
                break
            pos = after
            nxt = content[pos]
            marker = _LIST_MARKER.match(content, pos) if nxt in "-*+0123456789" else None
            if marker is not None and nxt in "-*":
                if breakable < 0:
                    breakable = len(content.rstrip("-*_ \t"))
                if pos >= breakable and _THEMATIC.match(content, pos):
                    marker = None
    if fence is not None:
        result.notes.append((fence[3], "code fence never closed: it runs to the end of the file"))
    return result
