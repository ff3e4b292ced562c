"""An independent oracle for the parser: cmark-gfm (GitHub's reference implementation).

cmark-gfm (PyPI ``cmarkgfm``, ``tasklist`` extension, a test dependency) renders the Markdown;
the HTML is read back into tasks with their checked state, checkbox-ancestor depth, parent and
section (the headings ``<h1>``..``<h6>`` open before the task in document order, a level-L
heading replacing the open ones of level >= L, which is how planvec defines ``section``).
One known gap of cmark-gfm is patched: its tasklist extension does not mark items inside
block quotes (GitHub.com does; see github/task_list#36), so the oracle reads ``[ ]`` / ``[x]``
at the start of such an item's text itself (and drops it from a heading that text became).
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

import cmarkgfm

from planvec.sources.markdown_plans import parse_plan

#: (checked, depth, index of the parent task, section headings top-down), one per task.
Shape = list[tuple[bool, int, int | None, tuple[str, ...]]]

_QUOTED_BOX = re.compile(r"\[([ xX])\](?:\s|$)")
_HEADINGS = {f"h{level}": level for level in range(1, 7)}


class _TaskOracle(HTMLParser):
    """Task list items of cmark-gfm's HTML, with depth, parent and open headings."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.items: list[dict[str, object]] = []
        self.quote = 0
        self.tasks: Shape = []
        self.headings: list[tuple[int, str]] = []
        self.heading_text: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _HEADINGS:
            self.heading_text = []
        if tag == "blockquote":
            self.quote += 1
        elif tag == "li":
            self.items.append({"index": None, "fresh": True, "quote": self.quote})
        elif self.items and self.items[-1]["fresh"]:
            fields = dict(attrs)
            if tag == "input" and fields.get("type") == "checkbox":
                self._task("checked" in fields)
            elif tag != "p" and tag not in _HEADINGS:  # "- [ ] x\\n  ---": a heading
                self.items[-1]["fresh"] = False

    def handle_data(self, data: str) -> None:
        if self.heading_text is not None:
            self.heading_text.append(data)
        if self.items and self.items[-1]["fresh"] and data.strip():
            top = self.items[-1]
            top["fresh"] = False
            match = _QUOTED_BOX.match(data)
            if top["quote"] and match:
                self._task(match.group(1) in "xX")

    def handle_endtag(self, tag: str) -> None:
        if tag in _HEADINGS and self.heading_text is not None:
            level = _HEADINGS[tag]
            while self.headings and self.headings[-1][0] >= level:
                self.headings.pop()
            text = " ".join("".join(self.heading_text).split())
            if self.quote and self.items:  # the unmarked checkbox of a quoted "- [ ] x\n  ---"
                text = _QUOTED_BOX.sub("", text, count=1) if _QUOTED_BOX.match(text) else text
            self.headings.append((level, text))
            self.heading_text = None
        elif tag == "li" and self.items:
            self.items.pop()
        elif tag == "blockquote":
            self.quote -= 1

    def _task(self, checked: bool) -> None:
        top = self.items[-1]
        top["fresh"] = False
        ancestors = [item["index"] for item in self.items[:-1] if item["index"] is not None]
        top["index"] = len(self.tasks)
        parent = ancestors[-1] if ancestors else None
        section = tuple(text for _, text in self.headings)
        self.tasks.append((checked, len(ancestors), parent, section))  # type: ignore[arg-type]


def oracle(text: str) -> Shape:
    """The tasks cmark-gfm renders from ``text``."""
    html = cmarkgfm.markdown_to_html_with_extensions(text, extensions=["tasklist"])
    parser = _TaskOracle()
    parser.feed(html)
    parser.close()
    return parser.tasks


def ours(text: str) -> Shape:
    """The same facts from planvec's parser."""
    tasks = parse_plan(text, "gen.md").tasks
    index = {t.line: i for i, t in enumerate(tasks)}
    return [
        (
            t.checked,
            t.depth,
            index[t.parent_line] if t.parent_line is not None else None,
            t.section,
        )
        for t in tasks
    ]
