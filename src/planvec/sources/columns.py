"""How a line is measured: tab stops and block-quote markers, in columns.

Shared by the block scanner and the fence rules, which both need to know where a line's
content starts once its ``>`` markers are set aside.
"""

from __future__ import annotations


def expand_tabs(line: str) -> str:
    """Expand tabs (tab stop 4) so indentation is measured in columns."""
    return line.expandtabs(4) if "\t" in line else line


def strip_quotes(line: str, limit: int = 1_000_000) -> tuple[list[int], int, str]:
    """Split block-quote markers off a line.

    Args:
        line: one line, tabs already expanded.
        limit: read at most this many markers (a fence inside a quote reads only its own).

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
