"""Policy documents in Markdown → one ``Task`` record per rule.

Pure: text in, records out. CommonMark block structure comes from ``markdown-it-py`` (a
core dependency): policies are ordinary documents, not the tool-damaged plans the line
scanner of ``planvec.sources.blocks`` was written for, and they need plain list items and
paragraphs, which that scanner (checkbox tasks only) does not report.

What is a rule (docs/managers-security.md):

* every list item (bullet or numbered, any depth) with text: its first paragraph;
  nested items are child rules (``depth``, ``parent_id``);
* a paragraph outside lists, or a heading, that carries an upper-case normative keyword
  (MUST, SHALL, SHOULD, MAY, DOIT, INTERDIT...; ``policy_rules.normative_level``);
* not code blocks, tables, HTML or block quotes' headings.

Headings give the rule's ``section``. The key is the rule id the text opens with
(``SEC-001: ...``), so the point id survives edits and moves; the text keeps the rest (the
id would only add noise to the embedding, as a task number would). A rule without an id
gets a point id from its section path and normalized text (like an unnumbered plan task).
"""

from __future__ import annotations

from collections.abc import Sequence

from markdown_it import MarkdownIt
from markdown_it.token import Token

from planvec.managers.policy_rules import normative_level, rule_task, severity_of, split_rule_id
from planvec.records import ParseWarning, Plan, Task
from planvec.sources.markdown_plans import IdMaker, normalize_for_id
from planvec.text.clean import clean_text

_PARSER = MarkdownIt("commonmark").enable("table")  # table cells are not rules


def parse_policy_markdown(text: str, path: str) -> Plan:
    """The rules of one Markdown policy document.

    Args:
        text: the decoded document.
        path: its path relative to the input root (part of every id).

    Returns:
        A ``Plan`` whose tasks are the rules, in document order. Never raises on ``str``.
    """
    if text.startswith("\ufeff"):
        text = text[1:]
    tokens = _PARSER.parse(text)
    builder = _RuleBuilder(path)
    headings: list[tuple[int, str]] = []
    items: list[Task | None] = []  # open list items: their rule (None until its paragraph)
    title: str | None = None
    for i, token in enumerate(tokens):
        if token.type == "heading_open":
            level = int(token.tag[1])
            heading = clean_text(_inline(tokens, i))
            title = title or heading
            headings = [h for h in headings if h[0] < level] + [(level, heading)]
            if normative_level(heading) and not items:
                builder.add(_line(token), heading, [h for _, h in headings[:-1]], None, 0)
        elif token.type == "list_item_open":
            items.append(None)
        elif token.type == "list_item_close":
            items.pop()
        elif token.type == "paragraph_open":
            content = clean_text(_inline(tokens, i))
            section = [h for _, h in headings]
            if items and items[-1] is None:
                parent = next((t for t in reversed(items[:-1]) if t is not None), None)
                items[-1] = builder.add(_line(token), content, section, parent, len(items) - 1)
            elif not items and normative_level(content):
                builder.add(_line(token), content, section, None, 0)
    rules = tuple(t for t in builder.tasks if t is not None)
    return Plan(
        path=path,
        title=title,
        version=None,
        tasks=rules,
        warnings=tuple(builder.warnings),
    )


def _inline(tokens: list[Token], i: int) -> str:
    nxt = tokens[i + 1] if i + 1 < len(tokens) else None
    return nxt.content if nxt is not None and nxt.type == "inline" else ""


def _line(token: Token) -> int:
    return token.map[0] + 1 if token.map else 1


class _RuleBuilder:
    """Gives each rule of one document its record and a unique, stable id."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.ids = IdMaker(path)
        self.tasks: list[Task] = []
        self.warnings: list[ParseWarning] = []
        self.keys: set[str] = set()

    def add(
        self, line: int, text: str, section: Sequence[str], parent: Task | None, depth: int
    ) -> Task | None:
        if not text:
            return None
        key, rest = split_rule_id(text)
        if key is not None and key in self.keys:
            self.warnings.append(
                ParseWarning(self.path, line, f"rule id {key} is used twice; give it a new id")
            )
        if key is not None:
            self.keys.add(key)
            rule_id = self.ids.make("policy", "rule", key)
        else:
            rule_id = self.ids.make("policy", "section", *section, "text", normalize_for_id(text))
        task = rule_task(
            plan=self.path,
            line=line,
            text=rest,  # the id is the key, as a plan task's number is: not embedded
            key=key,
            rule_id=rule_id,
            section=section,
            depth=depth,
            parent=parent,
            severity=severity_of(rest),
        )
        self.tasks.append(task)
        return task
