"""What makes a line of a policy a rule: its id, its normative keyword, its severity.

Shared by the Markdown and YAML policy parsers (``policy_markdown``, ``policy_yaml``) so
both formats give one rule the same record (``rule_task``).

Severity, in this order (documented in docs/managers-security.md):

1. an explicit marker in the text: ``severity: high`` / ``sévérité : haute`` /
   ``criticité : critique`` or a bracketed ``[critical]``, ``(HIGH)``...;
2. else the rule's normative keyword (RFC 2119 and its usual French renderings):
   MUST / MUST NOT / SHALL / REQUIRED / DOIT / NE DOIT PAS / INTERDIT / OBLIGATOIRE → ``high``;
   SHOULD / RECOMMENDED / DEVRAIT / RECOMMANDÉ → ``medium``; MAY / OPTIONAL / PEUT → ``low``;
3. else ``None`` (a rule that states no level).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from planvec.managers.base import ITEM_STATUS
from planvec.records import Task, content_hash

#: The payload ``kind`` and ``planvec search --kind`` value of policy rules.
POLICY_KIND = "policy"
#: Severity levels, most severe first.
SEVERITIES = ("critical", "high", "medium", "low", "info")

_SEVERITY_WORDS = {
    "critical": "critical",
    "critique": "critical",
    "high": "high",
    "haute": "high",
    "élevée": "high",
    "elevee": "high",
    "haut": "high",
    "medium": "medium",
    "moderate": "medium",
    "moyenne": "medium",
    "modérée": "medium",
    "low": "low",
    "basse": "low",
    "faible": "low",
    "info": "info",
    "informational": "info",
}
_EXPLICIT = re.compile(
    r"(?:severity|sévérité|severite|criticité|criticite|priority)\s*[:=]\s*([\wéè]+)"
    r"|[\[(]\s*([A-Za-zéè]+)\s*[\])]",
    re.IGNORECASE,
)
_NORMATIVE = (
    ("high", r"MUST(?: NOT)?|SHALL(?: NOT)?|REQUIRED|DOI(?:T|VENT)|NE DOI(?:T|VENT) PAS|"
     r"INTERDITE?S?|OBLIGATOIRES?|EST REQUISE?"),
    ("medium", r"SHOULD(?: NOT)?|RECOMMENDED|DEVRAI(?:T|ENT)|RECOMMANDÉE?S?"),
    ("low", r"MAY|OPTIONAL|PEU(?:T|VENT)|FACULTATIFS?|FACULTATIVES?"),
)  # fmt: skip
_NORMATIVE_RE = [
    (level, re.compile(rf"(?<![\w-])(?:{words})(?![\w-])")) for level, words in _NORMATIVE
]
#: ``SEC-001:``, ``[AC-2.1]``, ``(PWD-3)``, ``R12 —`` at the start of a rule (after cleaning,
#: so ``**SEC-001**:`` counts): an id followed by punctuation, or in brackets.
_ID = r"[A-Za-z][A-Za-z0-9]{0,11}[-_.]?\d+(?:[.-]\d+)*"
_RULE_ID = re.compile(
    rf"^(?:\[(?P<b>{_ID})\]|\((?P<p>{_ID})\)|(?P<id>{_ID})\s*[:.)\u2013\u2014-])\s*"
)


def severity_of(text: str) -> str | None:
    """The rule's severity (see the module docstring), or ``None``."""
    for match in _EXPLICIT.finditer(text):
        word = (match.group(1) or match.group(2) or "").casefold()
        if word in _SEVERITY_WORDS:
            return _SEVERITY_WORDS[word]
    return normative_level(text)


def normative_level(text: str) -> str | None:
    """``high``/``medium``/``low`` from the strongest upper-case normative keyword, else None.

    Keywords count in upper case only (RFC 2119 convention): "the user must" in prose is
    not a requirement marker, "the user MUST" is.
    """
    for level, pattern in _NORMATIVE_RE:
        if pattern.search(text):
            return level
    return None


def split_rule_id(text: str) -> tuple[str | None, str]:
    """``("SEC-001", "rest of text")`` when the text opens with a rule id, else ``(None, text)``."""
    match = _RULE_ID.match(text)
    if match is None:
        return None, text
    rule_id = match.group("b") or match.group("p") or match.group("id")
    rest = text[match.end() :].strip()
    return (rule_id, rest) if rest else (None, text)


def rule_task(
    *,
    plan: str,
    line: int,
    text: str,
    key: str | None,
    rule_id: str,
    section: Sequence[str],
    depth: int = 0,
    parent: Task | None = None,
    severity: str | None = None,
    tags: Sequence[str] = (),
    source_format: str = "markdown",
    extra: dict[str, Any] | None = None,
) -> Task:
    """The ``Task`` record of one policy rule (the managers' item contract, ``base.py``)."""
    metadata: dict[str, Any] = {
        "kind": POLICY_KIND,
        "rule_id": key,
        "severity": severity,
        "format": source_format,
        "tags": list(tags),
        **(extra or {}),
    }
    return Task(
        plan=plan,
        line=line,
        checked=False,
        status=ITEM_STATUS,
        text=text,
        depth=depth,
        parent_line=parent.line if parent else None,
        section=tuple(section),
        key=key,
        id=rule_id,
        parent_id=parent.id if parent else None,
        content_hash=content_hash(text),
        metadata=metadata,
    )
