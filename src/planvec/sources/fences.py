"""Fenced code blocks: when one opens and closes, and the two rules that depart from CommonMark.

A fence opens on a line that starts (after indentation and quote markers) with 3+ backticks
or tildes. CommonMark closes it only with a bare run of the same character at least as long.
Two things in real plans break that (docs/parsing.md, "Deliberate departures"):

- **The repair.** A formatter rewrote many closing fences as "```plaintext"; read strictly, the
  rest of such a file is code and 7.5 % of the corpus tasks vanish. So a fence line *with* an
  info string closes the block too, and each such repair is reported.
- **Nested examples.** A ```markdown example may hold its own ```bash block; the repair would
  take that inner opener for a closer, and the example's ``#`` comments for headings. So inside
  a block whose info string names Markdown, a fence line with an info string opens a nested
  block when the next fence line is bare (its closer); otherwise it is the repair as anywhere.

The look-ahead from one candidate line ends at the next line that could close the block,
which is where the next candidate starts, so a document is still read in linear time.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum

from planvec.sources.columns import expand_tabs, strip_quotes

_FENCE = re.compile(r"(`{3,}|~{3,})(.*)$")
#: Info strings whose block holds Markdown, where fences may nest.
MARKDOWN_INFO = frozenset({"markdown", "md", "mdx", "gfm", "commonmark"})


class FenceStep(Enum):
    """What a line does to the open fence."""

    CODE = "code"  # the line is code (the fence stays open)
    CLOSED = "closed"  # the line closes the fence
    LEFT = "left"  # the quote holding the fence ended: the fence is gone, read the line normally


@dataclass
class OpenFence:
    """A fenced code block that is open."""

    char: str
    length: int
    quote: int  # block-quote depth it lives in
    line: int  # where it opened
    markdown: bool  # its info string names Markdown: fences inside may nest
    nested_until: int = 0  # last line of a nested block inside it (0: none open)

    def step(self, number: int, line: str, lines: list[str]) -> tuple[FenceStep, str | None]:
        """Read one line inside the fence.

        Args:
            number: the line's 1-based number.
            line: the line, tabs expanded, no line ending.
            lines: the whole document's raw lines (for the nested-block look-ahead).

        Returns:
            What the line does, and a repair note when a fence line with text closed the block.
        """
        content = self._content(line)
        if content is None:
            return FenceStep.LEFT, None
        if number <= self.nested_until or not content.startswith(self.char * self.length):
            return FenceStep.CODE, None
        info = content.lstrip(self.char).strip()
        if not info:
            return FenceStep.CLOSED, None
        if self.markdown:
            closer = self._nested_closer(number, content, lines)
            if closer:
                self.nested_until = closer
                return FenceStep.CODE, None
        return FenceStep.CLOSED, (
            f"closing fence {content.strip()!r} has text after it; "
            f"treated as the end of the code block opened on line {self.line}"
        )

    def _content(self, line: str) -> str | None:
        """The line without indentation and this fence's quote markers; None if the quote ended."""
        if not self.quote:
            return line.lstrip()
        marks, _, content = strip_quotes(line, self.quote)
        return content if len(marks) >= self.quote else None

    def _nested_closer(self, number: int, opener: str, lines: list[str]) -> int:
        """Line number of the bare fence that closes a block nested at ``number``, else 0.

        Only the next line that could close this block (as long a run of its character) is
        looked at: it must be bare, at least as long as the nested opener, and in the same quote.
        """
        run = len(opener) - len(opener.lstrip(self.char))
        for index in range(number, len(lines)):  # lines[number] is line number + 1
            content = self._content(expand_tabs(lines[index]))
            if content is None:
                return 0
            if content.startswith(self.char * self.length):
                size = len(content) - len(content.lstrip(self.char))
                return index + 1 if size >= run and not content[size:].strip() else 0
        return 0


def open_fence(content: str, quote: int, number: int) -> OpenFence | None:
    """The fence a line opens, if it is an opener (a backtick fence's info has no backtick)."""
    match = _FENCE.match(content)
    if match is None or (content[0] == "`" and "`" in match.group(2)):
        return None
    words = match.group(2).split(None, 1)
    markdown = bool(words) and words[0].lower() in MARKDOWN_INFO
    return OpenFence(content[0], len(match.group(1)), quote, number, markdown)
