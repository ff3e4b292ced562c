"""List items and checkboxes: how an item nests, and when it is a task.

An item is a child of the previous open item whose marker is less indented (columns, not
CommonMark content columns: docs/parsing.md, departure 4). Plain bullets take part in the
nesting, but a task's ``depth`` and ``parent_line`` count only checkbox ancestors, so each open
item carries its nearest checkbox ancestor and how many there are.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

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

LIST_MARKER = re.compile(r"([-*+]|\d{1,9}[.)])(?:([ \t]+)|$)")
#: Characters a list marker can start with (a cheap test before the regex).
MARKER_START = "-*+0123456789"
_CHECKBOX = re.compile(r"\[(.)\](?:[ \t]+|$)")


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
class ListItem:
    """An open list item on the scanner's stack."""

    indent: int  # column of its marker
    content: int  # column where its content starts
    quote: int  # block-quote depth it lives in
    task: RawTask | None
    # Nearest checkbox item at or below this one on the stack, and how many there are.
    task_anchor: RawTask | None
    task_count: int


def open_item(
    stack: list[ListItem],
    marker: re.Match[str],
    col: int,
    quote: int,
    number: int,
    headings: tuple[tuple[int, str], ...],
) -> ListItem:
    """Push the item of one marker found in a line's content; a checkbox after it makes a task.

    Args:
        stack: the open items; the ones this marker is not indented under are closed.
        marker: a ``LIST_MARKER`` match in the line's content.
        col: the column where that content starts (after indentation and quote markers).
        quote: the line's block-quote depth.
        number: the line's 1-based number.
        headings: the open headings, for the task's section.

    Returns:
        The new item (its ``task`` is set when it is a task).
    """
    marker_col = col + marker.start()
    spaces = marker.group(2) or ""
    width = len(marker.group(1))
    if not spaces or len(spaces) > 4:  # 5+ spaces: content is indented code
        content_col = marker_col + width + 1
    else:
        content_col = marker_col + width + len(spaces)
    while stack and stack[-1].quote == quote and stack[-1].indent >= marker_col:
        stack.pop()
    anchor = stack[-1].task_anchor if stack else None
    count = stack[-1].task_count if stack else 0
    content = marker.string
    after = marker.end()
    box = _CHECKBOX.match(content, after) if content.startswith("[", after) else None
    task = None
    if box is not None and (box.group(1) in CHECKBOX_STATUS or box.group(1) in RAW_MARKS):
        task = RawTask(
            line=number,
            mark=box.group(1),
            parts=[content[box.end() :]],
            depth=count,
            parent_line=anchor.line if anchor else None,
            headings=headings,
        )
        anchor = task
        count += 1
    item = ListItem(marker_col, content_col, quote, task, anchor, count)
    stack.append(item)
    return item
