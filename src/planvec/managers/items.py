"""Shared building blocks of managers: an item as a ``Task``, files as a ``Source``.

Every manager turns files into items the same way (``planvec.managers.base``): ``item``
builds the ``Task`` record with its deterministic id, ``FileItemSource`` walks the input
paths, hands each matching file to the manager's parser and wraps the result in a ``Plan``
(or a ``SourceFailure`` for an unreadable file: one bad file never stops the others).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from planvec.errors import ConfigError
from planvec.managers.base import ITEM_STATUS
from planvec.records import ParseWarning, Plan, SourceFailure, Task, content_hash, point_id

log = logging.getLogger(__name__)

#: Directories never scanned for project files (vendored trees, caches, VCS, the index).
SKIPPED_DIRS = frozenset(
    {
        ".git",
        ".hg",
        ".svn",
        ".venv",
        "venv",
        "node_modules",
        "__pycache__",
        "target",
        "vendor",
        ".planvec",
        ".tox",
        ".mypy_cache",
        ".ruff_cache",
        "dist",
        "build",
    }
)


@dataclass(frozen=True)
class Item:
    """One item a parser found in a file, before it becomes a ``Task``."""

    key: str
    line: int
    text: str
    section: tuple[str, ...] = ()
    metadata: Mapping[str, Any] = field(default_factory=dict)
    depth: int = 0  # nesting, when the format has it (a column under its table...)
    parent_line: int | None = None
    parent_id: str | None = None


def item_task(kind: str, plan: str, item: Item) -> Task:
    """The ``Task`` record of ``item`` found in file ``plan`` (see ``managers.base``)."""
    return Task(
        plan=plan,
        line=item.line,
        checked=False,
        status=ITEM_STATUS,
        text=item.text,
        depth=item.depth,
        parent_line=item.parent_line,
        section=item.section,
        key=item.key,
        id=point_id(kind, plan, item.key),
        parent_id=item.parent_id,
        content_hash=content_hash(item.text),
        metadata={"kind": kind, **item.metadata},
    )


#: A parser: (file path, its text, its name in the index) -> items and warnings.
Parser = Callable[[Path, str, str], tuple[list[Item], list[str]]]


def discover_files(
    paths: Sequence[Path], matches: Callable[[Path], bool]
) -> list[tuple[Path, str]]:
    """Files under ``paths`` that ``matches`` accepts, with their name relative to their
    argument (a file argument is named by its file name), sorted by name.

    Raises:
        ConfigError: no path was given, or a path does not exist.
    """
    if not paths:
        raise ConfigError("no project path given: pass the directories to scan")
    found: dict[str, Path] = {}
    for arg in paths:
        arg = Path(arg)
        if not arg.exists():
            raise ConfigError(f"{arg} does not exist: pass an existing directory or file")
        if arg.is_file():
            found.setdefault(arg.name, arg)
            continue
        for dirpath, dirnames, filenames in os.walk(arg):
            dirnames[:] = sorted(d for d in dirnames if d not in SKIPPED_DIRS)
            for name in sorted(filenames):
                full = Path(dirpath) / name
                if matches(full):
                    found.setdefault(full.relative_to(arg).as_posix(), full)
    return [(full, rel) for rel, full in sorted(found.items())]


class FileItemSource:
    """A ``Source`` over the files of ``paths`` that a manager's parser understands.

    ``parse(path, text, name)`` returns the file's items and warning messages; it may
    raise ``ValueError`` (or any parse error) for a file it cannot read: that file becomes
    a ``SourceFailure`` and keeps its indexed items (as a bad plan does).
    """

    def __init__(
        self,
        kind: str,
        files: Sequence[tuple[Path, str]],
        parse: Parser,
    ) -> None:
        self.kind = kind
        self.files = list(files)
        self._parse = parse

    def iter_plans(self) -> Iterator[Plan | SourceFailure]:
        for full, name in self.files:
            try:
                raw = full.read_bytes()
                text = raw.decode("utf-8")
                items, messages = self._parse(full, text, name)
            except Exception as exc:  # one bad file must not stop the others
                log.warning("%s: not indexed: %s", name, exc)
                yield SourceFailure(name, f"cannot read {self.kind} file: {exc}")
                continue
            yield self._plan(name, raw, items, messages)

    def _plan(self, name: str, raw: bytes, items: list[Item], messages: list[str]) -> Plan:
        warnings = [ParseWarning(name, None, m) for m in messages]
        seen: set[str] = set()
        tasks = []
        for item in items:
            if item.key in seen:  # one point per key: the first occurrence wins
                warnings.append(
                    ParseWarning(name, item.line, f"{item.key!r} is listed twice; first kept")
                )
                continue
            seen.add(item.key)
            tasks.append(item_task(self.kind, name, item))
        return Plan(
            path=name,
            title=name,
            version=None,
            tasks=tuple(tasks),
            warnings=tuple(warnings),
            file_hash=content_hash(raw.decode("utf-8", "replace")),
        )
