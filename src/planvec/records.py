"""Shared vocabulary: the records every layer passes around, and content hashing.

A ``Task`` is one checkbox item of a Markdown plan. ``Plan`` is one parsed file. They are
plain frozen dataclasses so that every layer (sources, sync, checks, CLI) can build,
compare and serialize them without importing anything heavy.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

#: Namespace of every planvec point id (uuid5). Never change it: ids would all move.
ID_NAMESPACE = uuid.UUID("6f1c2a4e-8b7d-5e3f-9a10-3c2b1d0e4f5a")

#: Status values derived from the checkbox character.
STATUS_TODO = "todo"
STATUS_DONE = "done"
STATUS_IN_PROGRESS = "in_progress"
STATUS_CANCELLED = "cancelled"
#: Status of a manager's item (a dependency, a config key...): it has no checkbox.
STATUS_ITEM = "item"


@dataclass(frozen=True)
class SparseVector:
    """A sparse vector: sorted unique ``indices`` (u32) and their ``values``.

    Shared vocabulary: the text layer builds them (``planvec.text.lexical``), the store
    writes and searches them.
    """

    indices: tuple[int, ...]
    values: tuple[float, ...]


def content_hash(*parts: str) -> str:
    """A stable hex digest of text parts (sha256, parts separated by NUL)."""
    if len(parts) == 1:  # the common case (a task's text), without the loop
        return hashlib.sha256(parts[0].encode("utf-8", "surrogatepass")).hexdigest()
    digest = hashlib.sha256()
    for i, part in enumerate(parts):
        if i:
            digest.update(b"\x00")
        digest.update(part.encode("utf-8", "surrogatepass"))
    return digest.hexdigest()


def stable_json(value: Any) -> str:
    """JSON with sorted keys and no whitespace: equal values give equal strings."""
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


_NAMESPACE_BYTES = ID_NAMESPACE.bytes


def point_id(*parts: str) -> str:
    """A deterministic UUID (uuid5) for a point, from the parts that identify it.

    ``str(uuid.uuid5(ID_NAMESPACE, name))`` computed without building ``UUID`` objects (a
    parse spends a third of its id work there): the SHA-1 of namespace and name, version 5
    and RFC 4122 variant bits set, formatted 8-4-4-4-12 (equality with ``uuid5`` is tested).
    """
    name = "\x00".join(parts).encode("utf-8")
    digest = bytearray(hashlib.sha1(_NAMESPACE_BYTES + name, usedforsecurity=False).digest()[:16])
    digest[6] = (digest[6] & 0x0F) | 0x50
    digest[8] = (digest[8] & 0x3F) | 0x80
    h = digest.hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


@dataclass(frozen=True)
class Task:
    """One checkbox task of a plan.

    ``plan`` is the plan's path relative to the root it was found under (POSIX separators).
    ``line`` is 1-based. ``section`` lists the open headings, top-down. ``key`` is the task's
    own number (``1.2.3``) when its text has one. ``id`` is a deterministic UUID, stable across
    runs and text edits that keep the key (see docs/ids.md). ``content_hash`` hashes the text.
    """

    plan: str
    line: int
    checked: bool
    status: str
    text: str
    depth: int
    parent_line: int | None
    section: tuple[str, ...]
    key: str | None
    id: str
    parent_id: str | None
    content_hash: str
    metadata: Mapping[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """The JSON form printed by ``planvec parse --json``."""
        return {
            "plan": self.plan,
            "line": self.line,
            "checked": self.checked,
            "status": self.status,
            "text": self.text,
            "depth": self.depth,
            "parent_line": self.parent_line,
            "section": list(self.section),
            "key": self.key,
            "id": self.id,
            "parent_id": self.parent_id,
            "content_hash": self.content_hash,
            "metadata": dict(self.metadata),
        }


@dataclass(frozen=True)
class ParseWarning:
    """Something the parser repaired or skipped; reported, never fatal."""

    plan: str
    line: int | None
    message: str

    def __str__(self) -> str:
        where = f"{self.plan}:{self.line}" if self.line else self.plan
        return f"{where}: {self.message}"


@dataclass(frozen=True)
class SectionStats:
    """Task counts rolled up for one top-level section."""

    title: str
    tasks: int
    done: int


@dataclass(frozen=True)
class Plan:
    """One parsed plan file: its tasks in document order, and plan-level facts."""

    path: str
    title: str | None
    version: str | None
    tasks: tuple[Task, ...]
    sections: tuple[SectionStats, ...] = ()
    warnings: tuple[ParseWarning, ...] = ()
    file_hash: str = ""

    @property
    def done(self) -> int:
        return sum(1 for t in self.tasks if t.checked)

    @property
    def done_ratio(self) -> float:
        return self.done / len(self.tasks) if self.tasks else 0.0


@dataclass(frozen=True)
class SourceFailure:
    """A file that could not be parsed at all (binary, unreadable...)."""

    path: str
    message: str


@dataclass(frozen=True)
class HitLocation:
    """Where else a search hit's exact text occurs (a collapsed duplicate)."""

    plan: str
    line: int
    id: str
    status: str
    score: float | None  # None: a copy that was not among the search's candidates

    @classmethod
    def of(cls, hit: SearchHit) -> HitLocation:
        return cls(hit.plan, hit.line, hit.id, hit.status, hit.score)

    def to_dict(self) -> dict[str, Any]:
        return {
            "plan": self.plan,
            "line": self.line,
            "id": self.id,
            "status": self.status,
            "score": None if self.score is None else round(self.score, 6),
        }


@dataclass(frozen=True)
class SearchHit:
    """One search result: the task's location, text and score.

    ``also_in`` lists the other tasks with the same text when duplicates are collapsed
    (``planvec search`` does by default; ``--no-collapse`` keeps every copy): every copy
    the filters allow, by plan and line; those that were candidates carry their score.
    """

    id: str
    score: float
    plan: str
    line: int
    text: str
    section: tuple[str, ...]
    status: str
    key: str | None = None
    payload: Mapping[str, Any] = field(default_factory=dict)
    also_in: tuple[HitLocation, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "score": round(self.score, 6),
            "plan": self.plan,
            "line": self.line,
            "text": self.text,
            "section": list(self.section),
            "status": self.status,
            "key": self.key,
            "priority": self.payload.get("priority"),
            "also_in": [location.to_dict() for location in self.also_in],
            **self._item_fields(),
        }

    @property
    def kind(self) -> str:
        """``task`` for a plan task, else the manager's kind (``dependency``, ``config``...)."""
        return str(self.payload.get("kind") or "task")

    def _item_fields(self) -> dict[str, Any]:
        """A manager item's kind and metadata (plan tasks keep their JSON unchanged)."""
        if self.kind == "task":
            return {}
        return {"kind": self.kind, "metadata": dict(self.payload.get("metadata") or {})}
