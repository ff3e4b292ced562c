"""The line scanner: finds checkbox tasks and headings in Markdown, one pass, no recursion.

Why a hand-written scanner and not a full CommonMark tree: the plans we read were broken by
tools (closing fences rewritten as "```plaintext", missing closing fences) and users want the
tasks they wrote, not what a strict parser sees. The rules are the golden rules of
``../shared/corpus/README.md`` (see docs/parsing.md), plus the CommonMark containers the
golden corpus does not exercise: block quotes, indented code, HTML blocks, and headings inside
list items. Open list items are kept on an explicit stack, so a list nested 1,000 deep costs
no Python recursion, and the whole pass is linear in the input.

``scan`` feeds each line to a ``_Scanner``, which has one handler per block kind: fences
(rules in ``fences.py``), blank lines, HTML blocks, indented code, ATX and setext headings,
thematic breaks, list items and paragraph lines.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from planvec.sources.columns import expand_tabs, strip_quotes
from planvec.sources.fences import FenceStep, OpenFence, open_fence
from planvec.sources.html_blocks import html_block_start
from planvec.sources.list_items import (
    LIST_MARKER,
    MARKER_START,
    ListItem,
    RawTask,
    open_item,
)

_HEADING = re.compile(r"(#{1,6})(?:[ \t]+(.*?))?[ \t]*$")
_CLOSING_HASHES = re.compile(r"(?:^|[ \t]+)#+$")
_SETEXT = re.compile(r"(?:=+|-+)[ \t]*$")
_THEMATIC = re.compile(r"(?:(?:\*[ \t]*){3,}|(?:-[ \t]*){3,}|(?:_[ \t]*){3,})$")


@dataclass
class Heading:
    """An ATX or setext heading outside code (setext ones only inside list items)."""

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
class _Para:
    """The open paragraph of a list item: a task's text, or lines a setext underline may take."""

    item: ListItem
    line: int
    parts: list[str]  # a task's own ``parts``, so continuation lines extend its text


@dataclass(slots=True)
class _Line:
    """A non-blank line outside fences and HTML, measured once."""

    number: int
    marks: list[int]  # columns of its ``>`` markers
    col: int  # column of its content
    content: str  # the content, from its first non-space character
    outer: int  # indentation before any quote marker
    base: int  # content column of the innermost item it is indented into (else its margin)
    in_item: bool  # base is an open list item's content column

    @property
    def quote(self) -> int:
        return len(self.marks)


def scan(text: str) -> ScanResult:
    """Scan a whole Markdown document (already decoded, BOM removed).

    Args:
        text: the document; ``\\r\\n`` and lone ``\\r`` before ``\\n`` are accepted.

    Returns:
        Tasks, headings and repair notes, in document order.
    """
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    scanner = _Scanner(lines)
    for number, raw in enumerate(lines, start=1):
        scanner.feed(number, raw)
    return scanner.finish()


class _Scanner:
    """The state of one pass, and one handler per block kind."""

    def __init__(self, lines: list[str]) -> None:
        self.lines = lines
        self.result = ScanResult()
        self.stack: list[ListItem] = []
        self.headings: list[tuple[int, str]] = []
        self.heading_tuple: tuple[tuple[int, str], ...] = ()
        self.fence: OpenFence | None = None
        self.in_html = False
        self.html_end: re.Pattern[str] | None = None
        self.block_quote = 0  # quote depth of the open HTML or indented code block
        self.in_code = False  # indented code block
        self.code_base = 0
        self.after_break = True  # previous line was blank (or a block ended): code may start
        self.para: _Para | None = None

    def feed(self, number: int, raw: str) -> None:
        """Read one line (1-based ``number``) and update the state."""
        line = expand_tabs(raw[:-1] if raw.endswith("\r") else raw)
        if self.fence is not None and self._inside_fence(self.fence, number, line):
            return
        marks, col, content = strip_quotes(line)
        if not content:
            self._blank(len(marks))
            return
        if self.in_html and self._inside_html(len(marks), content):
            return
        at = self._measure(number, line, marks, col, content)
        if self._indented_code(at):
            return
        self._close_items(at)
        if not self._block_start(at):
            self._list_or_paragraph(at)

    def finish(self) -> ScanResult:
        if self.fence is not None:
            message = "code fence never closed: it runs to the end of the file"
            self.result.notes.append((self.fence.line, message))
        return self.result

    # --- lines that belong to an open block ---------------------------------------------

    def _inside_fence(self, fence: OpenFence, number: int, line: str) -> bool:
        """True when the open fence takes the line (as code or as its closer)."""
        step, note = fence.step(number, line, self.lines)
        if step is FenceStep.CODE:
            return True
        self.fence = None
        if step is FenceStep.LEFT:
            return False
        self.after_break = True
        if note is not None:
            self.result.notes.append((number, note))
        return True

    def _blank(self, quote: int) -> None:
        """A blank line (possibly inside quotes) ends paragraphs, HTML kind 6, deeper quotes."""
        self.para = None
        self.after_break = True
        if self.in_html and self.html_end is None:
            self.in_html = False
        while self.stack and self.stack[-1].quote > quote:
            self.stack.pop()

    def _inside_html(self, quote: int, content: str) -> bool:
        """True when the open HTML block takes the line."""
        if quote < self.block_quote:
            self.in_html = False
            return False
        if self.html_end is not None and self.html_end.search(content):
            self.in_html = False
            self.after_break = True
        return True

    def _measure(self, number: int, line: str, marks: list[int], col: int, content: str) -> _Line:
        quote = len(marks)
        outer = len(line) - len(line.lstrip(" ")) if marks else col
        base, in_item = (col if quote else 0), False
        for item in reversed(self.stack):  # a few steps: deeper items are closed just below
            if item.quote < quote:
                break
            if item.quote == quote and item.content <= col:
                base, in_item = item.content, True
                break
        return _Line(number, marks, col, content, outer, base, in_item)

    def _indented_code(self, at: _Line) -> bool:
        """True when the line continues or starts an indented code block."""
        if self.in_code:
            if at.col >= self.code_base + 4 and at.quote == self.block_quote:
                return True
            self.in_code = False
        if self.after_break and at.col >= at.base + 4 and self.para is None:
            self.in_code = True
            self.code_base = at.base
            self.block_quote = at.quote
            return True
        return False

    def _close_items(self, at: _Line) -> None:
        """Close the items this line does not belong to."""
        stack = self.stack
        while stack:
            top = stack[-1]
            if top.quote > at.quote or top.indent >= (
                at.col if top.quote == at.quote else at.marks[top.quote]
            ):
                stack.pop()
            else:
                break

    # --- lines that start a block --------------------------------------------------------

    def _block_start(self, at: _Line) -> bool:
        """Headings, fences, HTML blocks and thematic breaks; False for anything else."""
        first = at.content[0]
        if first == "#":
            return self._atx_heading(at)
        if first in "`~":
            return self._open_fence(at)
        if first == "<":
            return self._open_html(at)
        if first in "=-" and self._setext_heading(at):
            return True
        if first in "-*_" and _THEMATIC.match(at.content):
            self.para = None
            self.after_break = True
            return True
        return False

    def _atx_heading(self, at: _Line) -> bool:
        """``## Title`` (0-3 columns into its container): it lives in the item it is indented
        into, and closes the items it is not inside; outside any item it closes them all."""
        match = _HEADING.match(at.content)
        if match is None or at.col - at.base > 3 or (at.outer > 3 and not at.in_item):
            return False
        stack = self.stack
        if not at.in_item:
            stack.clear()
        while stack and stack[-1].quote == at.quote and stack[-1].content > at.col:
            stack.pop()
        title = _CLOSING_HASHES.sub("", match.group(2) or "")
        self._add_heading(at.number, len(match.group(1)), title)
        return True

    def _setext_heading(self, at: _Line) -> bool:
        """``===`` or ``---`` under the paragraph of a list item, within its content column."""
        para = self.para
        if para is None or not _SETEXT.match(at.content):
            return False
        item = para.item
        if at.quote != item.quote or not item.content <= at.col <= item.content + 3:
            return False
        title = " ".join(part.strip() for part in para.parts).strip()
        if not title:
            return False
        self._add_heading(para.line, 1 if at.content[0] == "=" else 2, title)
        return True

    def _add_heading(self, number: int, level: int, title: str) -> None:
        """A level-L heading replaces the open headings of level >= L."""
        while self.headings and self.headings[-1][0] >= level:
            self.headings.pop()
        self.headings.append((level, title))
        self.heading_tuple = tuple(self.headings)
        self.result.headings.append(Heading(number, level, title))
        self.para = None
        self.after_break = True

    def _open_fence(self, at: _Line) -> bool:
        fence = open_fence(at.content, at.quote, at.number)
        if fence is None:
            return False
        self.fence = fence
        self.para = None
        return True

    def _open_html(self, at: _Line) -> bool:
        html = html_block_start(at.content)
        if html is None:
            return False
        self.para = None
        ends_here, end = html
        if ends_here:
            self.after_break = True
        else:
            self.in_html = True
            self.html_end = end
            self.block_quote = at.quote
        return True

    # --- list items and paragraph lines --------------------------------------------------

    def _list_or_paragraph(self, at: _Line) -> None:
        self.after_break = False
        first = at.content[0]
        marker = LIST_MARKER.match(at.content) if first in MARKER_START else None
        if marker is not None:
            self._list_items(at, marker)
            return
        para = self.para
        if (
            para is not None
            and at.quote == para.item.quote
            and at.col > para.item.indent
            and first not in "|>"
        ):
            para.parts.append(at.content)
            return
        self.para = None
        top = self.stack[-1] if self.stack else None
        if top is not None and top.quote == at.quote and first not in "|>":
            self.para = _Para(top, at.number, [at.content])  # a paragraph inside an item

    def _list_items(self, at: _Line, marker: re.Match[str]) -> None:
        """One or more list markers on this line ("- - [ ] x" opens two items).

        Matching at offsets (no slicing) keeps a line of a million markers linear.
        """
        self.para = None
        content = at.content
        size = len(content)
        breakable = -1  # from here on the line could be a thematic break ("- * * *")
        while True:
            item = self._open_item(at, marker)
            pos = marker.end()
            if item.task is not None or pos >= size:
                return
            nxt = content[pos]
            found = LIST_MARKER.match(content, pos) if nxt in MARKER_START else None
            if found is not None and nxt in "-*":
                if breakable < 0:
                    breakable = len(content.rstrip("-*_ \t"))
                if pos >= breakable and _THEMATIC.match(content, pos):
                    return
            if found is None:
                break
            marker = found
        self._item_text(at, item, pos)

    def _open_item(self, at: _Line, marker: re.Match[str]) -> ListItem:
        item = open_item(self.stack, marker, at.col, at.quote, at.number, self.heading_tuple)
        if item.task is not None:
            self.result.tasks.append(item.task)
            self.para = _Para(item, at.number, item.task.parts)
        return item

    def _item_text(self, at: _Line, item: ListItem, pos: int) -> None:
        """The text after a plain item's markers: an ATX heading, or its paragraph's first line."""
        if at.col + pos - item.content >= 4:  # indented code inside the item
            return
        match = _HEADING.match(at.content, pos) if at.content[pos] == "#" else None
        if match is not None:
            title = _CLOSING_HASHES.sub("", match.group(2) or "")
            self._add_heading(at.number, len(match.group(1)), title)
        else:
            self.para = _Para(item, at.number, [at.content[pos:]])
