"""What the legacy scripts wrote into ``roadmap_tasks``, read back into one shape.

Three writers shared the collection (their behaviour, from their source):

* ``vectorize_single_file.py`` (the main one): camelCase payload ``taskId``, ``description``,
  ``status`` ("completed"/"pending"), ``indentLevel``, ``parentId`` (a key, "" at level 1),
  ``section`` (the last ``##``+ heading, default "Non spécifié"), ``isMVP``, ``priority``
  (default "P3", so an unset priority looks like P3), ``estimatedTime`` (default ""),
  ``category`` (default "non_categorise"), ``lastUpdated``, ``filePath`` (**basename**);
  point id ``hash(taskId) % 2**31`` with Python's salted ``hash``.
* ``initialize_meta_roadmap_sync.py``: the same facts in snake_case (``task_id``,
  ``indent_level``, ``parent_id``, ``is_mvp``, ``phase``, ``is_foundation``, ...), ids 0, 1, 2...
* ``simple_vectorize.py``: one test point, id 0, no file.

An older snake_case shape (``task_id``, ``file_path``, ``estimate``, ``mvp``, ``parent``,
statuses todo/done) is read too. ``read_legacy_point`` turns any of them into a
``LegacyTask`` (planvec vocabulary), or says why the point is not a task.
``legacy_captures`` re-runs the writers' regex on a plan, to know which lines they stored.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from planvec.records import STATUS_CANCELLED, STATUS_DONE, STATUS_IN_PROGRESS, STATUS_TODO
from planvec.sources.metadata import extract_metadata
from planvec.sources.text_clean import clean_text
from planvec.store.base import PointRecord

#: The writers' task regex, verbatim (not anchored: it also matches inside code blocks).
LEGACY_TASK = re.compile(r"- \[([ xX])\]\s+(?:\*\*)?(\d+(?:\.\d+)*)(?:\*\*)?\s+(.*?)(?:\r?\n|$)")
_P3 = re.compile(r"\bP3\b")
CAMEL = "camelCase"
SNAKE = "snake_case"
MIXED = "mixed"
UNKNOWN = "unknown"
_CAMEL_KEYS = frozenset({"taskId", "filePath", "indentLevel", "parentId", "isMVP",
                         "estimatedTime", "lastUpdated"})  # fmt: skip
_SNAKE_KEYS = frozenset({"task_id", "file_path", "indent_level", "parent_id", "is_mvp",
                         "last_updated", "estimate", "mvp", "parent"})  # fmt: skip
_DEFAULT_SECTION = "Non spécifié"
_DEFAULT_CATEGORY = "non_categorise"
_TEST_TEXTS = frozenset({"point de test", "test task"})
_STATUSES = {
    "todo": STATUS_TODO, "to_do": STATUS_TODO, "open": STATUS_TODO, "pending": STATUS_TODO,
    "done": STATUS_DONE, "completed": STATUS_DONE, "complete": STATUS_DONE,
    "in_progress": STATUS_IN_PROGRESS, "doing": STATUS_IN_PROGRESS, "wip": STATUS_IN_PROGRESS,
    "cancelled": STATUS_CANCELLED, "canceled": STATUS_CANCELLED,
}  # fmt: skip


@dataclass(frozen=True)
class LegacyTask:
    """One legacy point read as a task (``file`` as written: a basename for the real writers)."""

    legacy_id: Any
    shape: str
    file: str
    key: str
    description: str
    status: str
    legacy_status: str
    section: tuple[str, ...]
    parent_key: str
    last_updated: str
    metadata: dict[str, Any] = field(default_factory=dict)

    @property
    def text(self) -> str:
        """The task text as the parser would clean the legacy line (number first)."""
        if not self.description:
            return f"{self.key} (no description in the legacy collection)"
        return clean_text(f"{self.key} {self.description}")

    def brief(self) -> dict[str, Any]:
        return {"legacy_id": self.legacy_id, "file": self.file or None, "task_id": self.key,
                "description": self.description[:80]}  # fmt: skip


@dataclass(frozen=True)
class NotATask:
    """A legacy point that is not migrated as a task, and why."""

    legacy_id: Any
    kind: str  # "test-point", "mixed", "unknown"
    reason: str
    payload: dict[str, Any]

    def brief(self) -> dict[str, Any]:
        keys = sorted(self.payload)[:12]
        return {"legacy_id": self.legacy_id, "kind": self.kind, "reason": self.reason,
                "keys": keys}  # fmt: skip


def payload_shape(payload: dict[str, Any]) -> str:
    """Which writer's key style the payload has: camelCase, snake_case, mixed or unknown."""
    camel = bool(_CAMEL_KEYS & payload.keys())
    snake = bool(_SNAKE_KEYS & payload.keys())
    if camel and snake:
        return MIXED
    return CAMEL if camel else SNAKE if snake else UNKNOWN


def _text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


def _str(value: Any) -> str:
    if value is None or isinstance(value, bool):
        return ""
    return _text(str(value))


def map_status(value: Any) -> str:
    """A legacy status in planvec's vocabulary (unknown values read as "todo")."""
    text = _text(value).lower().replace("-", "_").replace(" ", "_")
    return _STATUSES.get(text, STATUS_TODO)


def _section(value: Any, shape: str, old_style: bool) -> tuple[str, ...]:
    if isinstance(value, list):
        return tuple(clean_text(str(v)) for v in value if clean_text(str(v)))
    text = _text(value)
    if not text or text == _DEFAULT_SECTION:
        return ()
    if old_style:  # the older shape joined headings with " > " or "/"
        parts = text.split(" > ") if " > " in text else text.split("/")
        return tuple(clean_text(p) for p in parts if clean_text(p))
    return (clean_text(text),)  # the real writers kept the last heading only


def is_test_point(payload: dict[str, Any]) -> bool:
    """``simple_vectorize.py``'s test point: no file, an all-zero task id or its test text."""
    if _text(payload.get("filePath")) or _text(payload.get("file_path")):
        return False
    key = _str(payload.get("taskId", payload.get("task_id")))
    zeros = bool(key) and set(key) <= {"0", "."}
    return zeros or _text(payload.get("description")).lower() in _TEST_TEXTS


def read_legacy_point(point: PointRecord) -> LegacyTask | NotATask:
    """One legacy point as a ``LegacyTask``, or a ``NotATask`` saying why it is not one."""
    p = point.payload
    shape = payload_shape(p)
    if is_test_point(p):
        return NotATask(point.id, "test-point", "simple_vectorize.py test point (no file)", p)
    if shape == MIXED:
        reason = "camelCase and snake_case keys in one payload: written by two scripts"
        return NotATask(point.id, "mixed", reason, p)
    if shape == UNKNOWN and not ({"description", "title"} & p.keys()):
        return NotATask(point.id, "unknown", "no task fields (taskId/task_id, description)", p)
    return _task(point, shape)


def _task(point: PointRecord, shape: str) -> LegacyTask:
    p = point.payload

    def get(camel: str, *snake: str) -> Any:
        for name in (camel, *snake):
            if name in p:
                return p[name]
        return None

    description = _text(get("description", "title"))
    key = _str(get("taskId", "task_id")) or f"legacy-{point.id}"
    old_style = "mvp" in p or "estimate" in p or "parent" in p
    metadata = _metadata(p, key, description, writer_defaults=not old_style)
    metadata["legacy_id"] = point.id
    return LegacyTask(
        legacy_id=point.id,
        shape=shape,
        file=_text(get("filePath", "file_path")),
        key=key,
        description=description,
        status=map_status(p.get("status")),
        legacy_status=_str(p.get("status")),
        section=_section(p.get("section"), shape, old_style),
        parent_key=_str(get("parentId", "parent_id", "parent")),
        last_updated=_str(get("lastUpdated", "last_updated")),
        metadata=metadata,
    )


def _metadata(
    p: dict[str, Any], key: str, description: str, *, writer_defaults: bool
) -> dict[str, Any]:
    """planvec's own reading of the text, completed by the legacy fields that say more.

    The real writers filled defaults ("P3", "", "non_categorise"): a default is no fact,
    so an unset priority stays unset unless the text itself says P3.
    """
    meta = extract_metadata(f"{key} {description}")
    priority = _str(p.get("priority"))
    if priority and not (writer_defaults and priority == "P3" and not _P3.search(description)):
        meta.setdefault("priority", priority)
    estimate = _str(p.get("estimatedTime", p.get("estimate")))
    if estimate and "estimate" not in meta:
        found = extract_metadata(f"({estimate})")
        meta["estimate"] = estimate
        if "estimate_minutes" in found:
            meta["estimate_minutes"] = found["estimate_minutes"]
    mvp = p.get("isMVP", p.get("is_mvp", p.get("mvp")))
    if isinstance(mvp, bool) and "mvp" not in meta:
        meta["mvp"] = mvp
    category = _str(p.get("category"))
    if category and category != _DEFAULT_CATEGORY:
        meta["category"] = category
    for name in ("phase", "is_foundation", "is_core"):
        if name in p and p[name] is not None:
            meta[f"legacy_{name}"] = p[name]
    updated = _str(p.get("lastUpdated", p.get("last_updated")))
    if updated:
        meta["legacy_last_updated"] = updated
    return meta


@dataclass(frozen=True)
class Capture:
    """One task line the legacy regex stored: 1-based line, key, raw description, mark."""

    line: int
    key: str
    description: str
    checked: bool


def legacy_captures(text: str) -> list[Capture]:
    """What the writers' regex captured in ``text`` (read like Python's text mode does)."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    out = []
    for match in LEGACY_TASK.finditer(text):
        line = text.count("\n", 0, match.start()) + 1
        out.append(Capture(line, match.group(2), match.group(3).strip(), match.group(1) != " "))
    return out
