"""Parse one Markdown plan into a ``Plan``: tasks, ids, metadata, title, version, sections.

Pure: text in, records out, no filesystem (``files.py`` reads and decodes). The block-level
work is done by ``blocks.scan`` (rules in docs/parsing.md); this module names things: it
cleans texts, reads task numbers and metadata, and gives every task a deterministic id
(scheme and trade-offs in docs/ids.md).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping
from pathlib import PurePosixPath
from typing import Any

from planvec.records import (
    ParseWarning,
    Plan,
    SectionStats,
    Task,
    content_hash,
    point_id,
)
from planvec.sources.blocks import Heading, scan
from planvec.sources.list_items import CHECKBOX_STATUS, RawTask
from planvec.sources.metadata import extract_metadata, task_key
from planvec.sources.text_clean import clean_text

#: Bucket for tasks that sit before the first top-level section.
NO_SECTION = "(no section)"

_VERSION = re.compile(r"(?<![A-Za-z0-9])[vV](\d+[A-Za-z]?)(?![A-Za-z0-9])")


def normalize_for_id(text: str) -> str:
    """Text as it enters an id: case and whitespace do not matter."""
    return " ".join(text.casefold().split())


def plan_version(path: str, title: str | None) -> str | None:
    """``v56`` from the file name (``plan-dev-v56-...``), else from the title.

    Args:
        path: the plan's relative path.
        title: the plan title, if any.

    Returns:
        The version as ``v`` + number (+ one letter, as in ``v65B``), or None.
    """
    for candidate in (PurePosixPath(path).stem, title or ""):
        match = _VERSION.search(candidate)
        if match:
            return "v" + match.group(1)
    return None


def _title(headings: list[Heading], path: str) -> tuple[str, Heading | None]:
    """First H1, else the first heading, else the file stem."""
    for heading in headings:
        if heading.level == 1 and clean_text(heading.text):
            return clean_text(heading.text), heading
    for heading in headings:
        if clean_text(heading.text):
            return clean_text(heading.text), heading
    return PurePosixPath(path).stem, None


#: what a task's Markdown source turns into: (text, key, metadata, content hash)
Derived = tuple[str, str | None, dict[str, Any], str]


class SourceMemo:
    """What earlier parses derived from each task source (a pure function of the source).

    Cleaning a task's text, reading its number and metadata and hashing it depend on its
    Markdown source alone, and most tasks of an edited plan keep theirs: a re-run's parse
    takes them from here (``planvec.task_states`` keeps them beside the index, keyed by the
    parsing code) instead of computing them again. ``used`` collects what this parse derived
    or reused, for the next run.
    """

    def __init__(self, known: Mapping[str, Derived] | None = None) -> None:
        self.known: Mapping[str, Derived] = known or {}
        self.used: dict[str, Derived] = {}

    def derive(self, source: str) -> Derived:
        """The cleaned text, key, metadata and content hash of a task whose source is
        ``source`` (remembered in ``used``)."""
        derived = self.used.get(source) or self.known.get(source)
        if derived is None:
            derived = _derive(source)
        self.used[source] = derived
        return derived


def _derive(source: str) -> Derived:
    text = clean_text(source)
    return text, task_key(text), extract_metadata(source), content_hash(text)


class IdMaker:
    """Gives each task of one plan an id that is unique within the plan and stable."""

    def __init__(self, plan: str) -> None:
        self.plan = plan
        self.seen: Counter[tuple[str, ...]] = Counter()
        self.used: set[str] = set()

    def make(self, *identity: str) -> str:
        occurrence = self.seen[identity]
        self.seen[identity] += 1
        parts = (self.plan, *identity)
        if occurrence:
            parts = (*parts, f"#{occurrence}")
        new = point_id(*parts)
        while new in self.used:  # only reachable through a uuid5 collision: keep ids unique
            new = point_id(new)
        self.used.add(new)
        return new


def parse_plan(text: str, path: str, memo: SourceMemo | None = None) -> Plan:
    """Parse the Markdown of one plan.

    Args:
        text: the decoded file content (a leading BOM, CRLF and tabs are fine).
        path: the plan's path relative to its root, POSIX separators; it is part of every id.
        memo: what earlier parses derived from task sources (same result, less work).

    Returns:
        The plan with its tasks in document order, per-section counts and repair warnings.
        Never raises on any ``str`` input.

    Example:
        >>> plan = parse_plan("# Plan v2\\n- [x] **1.1** Backup\\n", "roadmap.md")
        >>> (plan.version, plan.tasks[0].key, plan.tasks[0].status)
        ('v2', '1.1', 'done')
    """
    if text.startswith("\ufeff"):
        text = text[1:]
    scanned = scan(text)
    title, title_heading = _title(scanned.headings, path)
    builder = _TaskBuilder(path, memo)
    tasks = [builder.task(raw) for raw in scanned.tasks]
    return Plan(
        path=path,
        title=title,
        version=plan_version(path, title),
        tasks=tuple(tasks),
        sections=_section_stats(scanned.tasks, tasks, scanned.headings, title_heading),
        warnings=tuple(ParseWarning(path, line, message) for line, message in scanned.notes),
    )


class _TaskBuilder:
    """Turns the scanner's raw tasks of one plan into ``Task`` records, in document order."""

    def __init__(self, path: str, memo: SourceMemo | None = None) -> None:
        self.path = path
        self.memo = memo
        self.ids = IdMaker(path)
        self.by_line: dict[int, Task] = {}
        self._sections: dict[tuple[tuple[int, str], ...], tuple[str, ...]] = {}
        self._headings: dict[str, str] = {}

    def section(self, headings: tuple[tuple[int, str], ...]) -> tuple[str, ...]:
        """Cleaned heading texts; each distinct path (and heading) is cleaned once."""
        section = self._sections.get(headings)
        if section is None:
            cache = self._headings
            section = tuple(cache.get(h) or cache.setdefault(h, clean_text(h)) for _, h in headings)
            self._sections[headings] = section
        return section

    def task(self, raw: RawTask) -> Task:
        section = self.section(raw.headings)
        source = " ".join(raw.parts)
        if self.memo is None:
            task_text, key, metadata, text_hash = _derive(source)
        else:
            task_text, key, shared, text_hash = self.memo.derive(source)
            metadata = dict(shared)  # each task owns its metadata
        by_line = self.by_line
        parent = by_line.get(raw.parent_line) if raw.parent_line is not None else None
        if key is not None:
            task_id = self.ids.make("key", key)
        else:
            # Anchor an unnumbered task to its nearest numbered ancestor, else its sections.
            anchor = _keyed_ancestor(parent, by_line)
            where = ("under", anchor) if anchor else ("section", *section)
            task_id = self.ids.make(*where, "text", normalize_for_id(task_text))
        task = Task(
            plan=self.path,
            line=raw.line,
            checked=raw.mark in "xX",
            status=CHECKBOX_STATUS.get(raw.mark, raw.mark),
            text=task_text,
            depth=raw.depth,
            parent_line=raw.parent_line,
            section=section,
            key=key,
            id=task_id,
            parent_id=parent.id if parent else None,
            content_hash=text_hash,
            metadata=metadata,
        )
        by_line[raw.line] = task
        return task


def _keyed_ancestor(parent: Task | None, by_line: dict[int, Task]) -> str | None:
    """Key of the nearest numbered task ancestor (a loop, not recursion: depth is unbounded)."""
    while parent is not None:
        if parent.key is not None:
            return parent.key
        parent = by_line.get(parent.parent_line) if parent.parent_line is not None else None
    return None


def _section_stats(
    raws: list[RawTask],
    tasks: list[Task],
    headings: list[Heading],
    title_heading: Heading | None,
) -> tuple[SectionStats, ...]:
    """Task and done counts per top-level section (the first heading level below the title)."""
    levels = [h.level for h in headings if h is not title_heading]
    if not levels or not tasks:
        return ()
    top = min(levels)
    order: dict[str, list[int]] = {}
    for raw, task in zip(raws, tasks, strict=True):
        name = NO_SECTION
        for level, text in raw.headings:
            if level >= top:
                name = clean_text(text) or NO_SECTION
                break
        counts = order.setdefault(name, [0, 0])
        counts[0] += 1
        counts[1] += task.checked
    return tuple(SectionStats(name, total, done) for name, (total, done) in order.items())
