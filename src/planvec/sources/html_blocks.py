"""CommonMark HTML blocks: which lines start one, and which marker ends it.

Their content is hidden from the scanner (a task inside ``<!-- -->`` or a ``<div>`` is not a
task). Kinds 1-5 end at a marker (``-->``, ``</pre>``, ``?>``, ``>``, ``]]>``), kind 6 (block
tags such as ``<div>``, ``<table>``, ``<details>``) at a blank line. Kind 7 (any other tag
alone on a line) is not read: the plans use inline tags inside text far more often.
"""

from __future__ import annotations

import re

_BLOCK_TAGS = (
    "address|article|aside|base|basefont|blockquote|body|caption|center|col|colgroup|dd|"
    "details|dialog|dir|div|dl|dt|fieldset|figcaption|figure|footer|form|frame|frameset|"
    "h1|h2|h3|h4|h5|h6|head|header|hr|html|iframe|legend|li|link|main|menu|menuitem|nav|"
    "noframes|ol|optgroup|option|p|param|search|section|summary|table|tbody|td|tfoot|th|"
    "thead|title|tr|track|ul"
)
_STARTS: tuple[tuple[re.Pattern[str], re.Pattern[str] | None], ...] = (
    (
        re.compile(r"<(?:script|pre|style|textarea)(?:[ \t>]|$)", re.IGNORECASE),
        re.compile(r"</(?:script|pre|style|textarea)>", re.IGNORECASE),
    ),
    (re.compile(r"<!--"), re.compile(r"-->")),
    (re.compile(r"<\?"), re.compile(r"\?>")),
    (re.compile(r"<![A-Za-z]"), re.compile(r">")),
    (re.compile(r"<!\[CDATA\["), re.compile(r"\]\]>")),
    (re.compile(r"</?(?:" + _BLOCK_TAGS + r")(?:[ \t]|/?>|$)", re.IGNORECASE), None),
)


def html_block_start(content: str) -> tuple[bool, re.Pattern[str] | None] | None:
    """Whether a line (from its first non-space character) starts an HTML block.

    Returns:
        None when it does not; else (the block also ends on this line, the pattern of its end
        marker, None for kind 6 which ends at a blank line).
    """
    for start, end in _STARTS:
        if start.match(content):
            return (end is not None and end.search(content, 2) is not None), end
    return None
