"""Task metadata and task numbers, read from the task's own text.

Plans mark priority, effort, MVP scope, tags, owners and dates in many informal ways. We read
the common ones (Obsidian Tasks emojis, Dataview ``key:: value`` fields, ``P0``..``P3``,
``(2h)``, ``~3d``, ``⏱ 1h30m``, ``#tag``, ``@owner``) and leave the text itself untouched:
metadata is an extra, filterable view, never a rewrite. Code spans are ignored, so
``#include`` or ``@Override`` in inline code are not read as tags or owners.
"""

from __future__ import annotations

import re
from typing import Any

#: Minutes per estimate unit. A day is a working day (8 h), a week five of them.
_UNIT_MINUTES: dict[str, int] = {
    "m": 1,
    "min": 1,
    "mn": 1,
    "mins": 1,
    "minute": 1,
    "minutes": 1,
    "h": 60,
    "hr": 60,
    "hrs": 60,
    "heure": 60,
    "heures": 60,
    "hour": 60,
    "hours": 60,
    "d": 480,
    "j": 480,
    "jour": 480,
    "jours": 480,
    "day": 480,
    "days": 480,
    "w": 2400,
    "sem": 2400,
    "semaine": 2400,
    "semaines": 2400,
    "week": 2400,
    "weeks": 2400,
}
_UNIT = "|".join(sorted(_UNIT_MINUTES, key=len, reverse=True))
_NUM = r"\d+(?:[.,]\d+)?"
# One duration: "2h", "1h30", "1h30m", "1 jour", "0.5 j", "15-20 min" (a range keeps its top).
_DURATION = rf"(?:{_NUM}\s*(?:-|–|à|to)\s*)?{_NUM}\s*(?:{_UNIT})(?:\s*\d+\s*(?:m|min)?)?"
_ESTIMATES = (
    re.compile(rf"⏱\ufe0f?\s*:?\s*({_DURATION})(?![\w])", re.IGNORECASE),
    re.compile(rf"\(\s*~?\s*({_DURATION})\s*\)", re.IGNORECASE),
    re.compile(rf"(?<![\w~])~\s?({_DURATION})(?![\w])", re.IGNORECASE),
    re.compile(
        rf"\b(?:estimate|estimation|effort|durée(?: estimée)?|duration)\s*::?\s*"
        rf"({_DURATION})(?![\w])",
        re.IGNORECASE,
    ),
)
_DURATION_PART = re.compile(rf"({_NUM})\s*({_UNIT})(?![^\W\d_])|(\d+)\s*$", re.IGNORECASE)

_PRIORITY_CODE = re.compile(r"(?<![\w-])P([0-3])(?![\w-])")
#: Emoji priorities: Obsidian Tasks (🔺⏫🔼🔽⏬) and traffic lights (🔴🟠🟡🟢).
_PRIORITY_EMOJI = {"🔺": "P0", "🔴": "P0", "⏫": "P1", "🟠": "P1", "🔼": "P2", "🟡": "P2"}
_PRIORITY_EMOJI_LOW = {"🔽": "P3", "🟢": "P3", "⏬": "P3"}
_PRIORITY_WORD = re.compile(
    r"\b(?:priorit[éey]|prio)\s*::?\s*(critique|critical|urgente?|haute|high|élevée|"
    r"moyenne|medium|normale?|basse|low|faible|P[0-3])\b",
    re.IGNORECASE,
)
_PRIORITY_WORDS = {
    "critique": "P0",
    "critical": "P0",
    "urgent": "P0",
    "urgente": "P0",
    "haute": "P1",
    "high": "P1",
    "élevée": "P1",
    "moyenne": "P2",
    "medium": "P2",
    "normal": "P2",
    "normale": "P2",
    "basse": "P3",
    "low": "P3",
    "faible": "P3",
}
_MVP = re.compile(r"(?<![\w-])MVP(?![\w-])", re.IGNORECASE)
_NOT_MVP = re.compile(r"(?:post|hors|non|after)[- ]MVP", re.IGNORECASE)
_TAG = re.compile(r"(?:^|(?<=[\s(\[,;]))#([^\W\d_][\w/-]*[\w])(?![\w#])")
_HEX_COLOUR = re.compile(r"[0-9a-fA-F]{3}(?:[0-9a-fA-F]{3})?$")
_OWNER = re.compile(r"(?:^|(?<=[\s(\[,;]))@([^\W\d][\w.-]*[\w])(?![\w@])")
_OWNER_FIELD = re.compile(r"\b(?:owner|assignee|responsable)\s*::\s*@?([\w.-]+)", re.IGNORECASE)
_DATE = r"\d{4}-\d{2}-\d{2}"
#: Obsidian Tasks date emojis and Dataview fields, by the name we store them under.
_DATE_EMOJI = {
    "📅": "due",
    "🗓": "due",
    "⏳": "scheduled",
    "🛫": "start",
    "✅": "done",
    "➕": "created",
}
_DATE_EMOJI_RE = re.compile(r"(📅|🗓|⏳|🛫|✅|➕)\ufe0f?\s*(" + _DATE + r")")
_DATE_FIELD = re.compile(
    r"\b(due|deadline|échéance|start|scheduled|completed|done|created)\s*::?\s*(" + _DATE + r")",
    re.IGNORECASE,
)
_DATE_FIELD_NAMES = {"deadline": "due", "échéance": "due", "completed": "done"}
_CODE_SPAN = re.compile(r"(`+)(?!`).{0,500}?(?<!`)\1(?!`)")
_ANY_DIGIT = re.compile(r"\d")

# A task number at the start of the text: "1.2.3", "**1.2.3**", "Étape 1.2 :", "Tâche 3.",
# "🎯 Action Atomique 1.1.1.1". A lone number needs a step word or a "1." / "1)" form.
_STEP_WORDS = (
    r"(?:sous-|micro-|nano-)?(?:étape|etape|tâche|tache|task|step|phase|action(?: atomique)?|"
    r"tâche atomique|jalon|milestone|item|point)"
)
_KEY = re.compile(
    r"(?:[^\w\s]{1,3}\s*)?(?:" + _STEP_WORDS + r"\s+)?"
    r"(\d{1,4}(?:\.\d{1,4})+)\.?(?=$|[\s:)\]–—-])",
    re.IGNORECASE,
)
_KEY_SINGLE = re.compile(
    r"(?:[^\w\s]{1,3}\s*)?(?:" + _STEP_WORDS + r"\s+(\d{1,4})\.?(?=$|[\s:)\]–—-])"
    r"|(\d{1,4})[.)](?=\s))",
    re.IGNORECASE,
)


def task_key(text: str) -> str | None:
    """The task's own number (``1.2.3``) when its cleaned text starts with one.

    Args:
        text: the cleaned task text.

    Returns:
        The number without a trailing dot, or None.
    """
    match = _KEY.match(text)
    if match:
        return match.group(1)
    single = _KEY_SINGLE.match(text)
    if single:
        return single.group(1) or single.group(2)
    return None


def _minutes(duration: str) -> int | None:
    """Minutes in a duration such as ``1h30``, ``2 jours``, ``15-20 min`` (the top of a range)."""
    text = duration.replace(",", ".")
    for sep in ("–", "-", " à ", " to "):
        if sep in text:
            tail = text.rpartition(sep)[2]
            if re.search(r"\d", tail):
                text = tail
                break
    total = 0.0
    unit_minutes = 0
    for match in _DURATION_PART.finditer(text):
        if match.group(1):
            unit_minutes = _UNIT_MINUTES[match.group(2).lower()]
            total += float(match.group(1)) * unit_minutes
        elif match.group(3) and unit_minutes >= 60:
            total += float(match.group(3))  # "1h30": the trailing number is minutes
    return round(total) if total else None


def extract_metadata(source: str) -> dict[str, Any]:
    """Metadata found in a task's Markdown source (before cleaning).

    Args:
        source: the task's Markdown text after its checkbox (continuation lines joined).

    Returns:
        Only the keys that are present: ``priority`` ("P0".."P3"), ``estimate`` (as written)
        and ``estimate_minutes``, ``mvp`` (bool), ``tags`` and ``owners`` (lists, in order,
        no duplicates), ``dates`` (name -> ISO date).
    """
    if "`" in source:
        source = _CODE_SPAN.sub(" ", source)
    meta: dict[str, Any] = {}
    lowered = source.lower()
    has_digit = _ANY_DIGIT.search(source) is not None

    priority = _priority(source, lowered, has_digit)
    if priority is not None:
        meta["priority"] = priority
    if has_digit:
        meta.update(_estimate(source))
    if "mvp" in lowered:
        if _NOT_MVP.search(source):
            meta["mvp"] = False
        elif _MVP.search(source):
            meta["mvp"] = True
    if "#" in source:
        tags = [t for t in _TAG.findall(source) if not _HEX_COLOUR.match(t)]
        if tags:
            meta["tags"] = list(dict.fromkeys(tags))
    if "@" in source or "::" in source:
        owners = _OWNER.findall(source) + _OWNER_FIELD.findall(source)
        if owners:
            meta["owners"] = list(dict.fromkeys(owners))
    if has_digit and "-" in source:
        dates = _dates(source)
        if dates:
            meta["dates"] = dates
    return meta


def _priority(source: str, lowered: str, has_digit: bool) -> str | None:
    """``P0``..``P3`` from a word (``prio: haute``), a code (``P1``) or an emoji."""
    if "prio" in lowered:
        word = _PRIORITY_WORD.search(source)
        if word:
            value = word.group(1)
            found = value.upper() if value[0] in "pP" else _PRIORITY_WORDS.get(value.lower())
            if found is not None:
                return found
    if "P" in source and has_digit:
        code = _PRIORITY_CODE.search(source)
        if code:
            return f"P{code.group(1)}"
    if not source.isascii():
        for table in (_PRIORITY_EMOJI, _PRIORITY_EMOJI_LOW):
            hits = [value for emoji, value in table.items() if emoji in source]
            if hits:
                return min(hits)
    return None


def _estimate(source: str) -> dict[str, Any]:
    """``estimate`` (as written) and ``estimate_minutes`` of the first estimate found."""
    for pattern in _ESTIMATES:
        estimate = pattern.search(source)
        if estimate:
            minutes = _minutes(estimate.group(1))
            if minutes:
                return {
                    "estimate": " ".join(estimate.group(1).split()),
                    "estimate_minutes": minutes,
                }
    return {}


def _dates(source: str) -> dict[str, str]:
    """Named dates (emoji or ``field:: 2024-01-31``), the first of each name kept."""
    dates: dict[str, str] = {}
    for emoji, value in _DATE_EMOJI_RE.findall(source):
        dates.setdefault(_DATE_EMOJI[emoji], value)
    for name, value in _DATE_FIELD.findall(source):
        key = name.lower()
        dates.setdefault(_DATE_FIELD_NAMES.get(key, key), value)
    return dates
