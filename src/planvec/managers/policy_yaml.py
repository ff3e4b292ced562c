"""YAML policy rule files → one ``Task`` record per rule.

The schema (docs/managers-security.md)::

    policy: Access control            # optional: the document's title (the rules' section)
    rules:                            # or the file is this list itself
      - id: AC-001                    # required, unique in the file: the rule's key
        title: Administrators use MFA # title and/or description required
        description: Every administrator account MUST use a second factor.
        severity: high                # optional: critical | high | medium | low | info
        tags: [auth, mfa]             # optional: list of strings

A rule with no id, no text or a bad field is skipped with a warning naming its line; the
other rules of the file are still indexed. Lines come from the YAML node marks, so search
shows ``file:line`` of each rule.
"""

from __future__ import annotations

from typing import Any

import yaml

from planvec.managers.policy_rules import SEVERITIES, rule_task, severity_of
from planvec.records import ParseWarning, Plan, Task
from planvec.sources.markdown_plans import IdMaker

#: Fields of a rule; others are reported once per rule and ignored.
RULE_FIELDS = ("id", "title", "description", "severity", "tags")


def parse_policy_yaml(text: str, path: str) -> Plan:
    """The rules of one YAML policy file (see the module docstring for the schema).

    Never raises on ``str``: a file that is not YAML, or not a rule list, gives a plan with
    no rules and a warning saying what was expected.
    """
    warnings: list[ParseWarning] = []
    loader = yaml.SafeLoader(text)
    try:
        root = loader.get_single_node()
        title, nodes = _rule_nodes(loader, root)
        if nodes is None:
            warnings.append(ParseWarning(path, 1, "no `rules:` list; see the policy YAML schema"))
            nodes = []
        ids = IdMaker(path)
        seen: set[str] = set()
        tasks: list[Task] = []
        for node in nodes:
            line = node.start_mark.line + 1
            value = loader.construct_object(node, deep=True)
            task = _rule(value, path, line, title, ids, seen, warnings)
            if task is not None:
                tasks.append(task)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        warnings.append(ParseWarning(path, line, f"not valid YAML ({exc}); no rules read"))
        return Plan(path=path, title=None, version=None, tasks=(), warnings=tuple(warnings))
    finally:
        loader.dispose()
    return Plan(path=path, title=title, version=None, tasks=tuple(tasks), warnings=tuple(warnings))


def looks_like_rules(text: str) -> bool:
    """Whether a YAML text follows the rule schema (a ``rules:`` list, or a list of ids)."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError:
        return False
    if isinstance(data, dict):
        data = data.get("rules")
    return isinstance(data, list) and any(isinstance(r, dict) and "id" in r for r in data)


def _rule_nodes(
    loader: yaml.SafeLoader, root: yaml.Node | None
) -> tuple[str | None, list[yaml.Node] | None]:
    if isinstance(root, yaml.SequenceNode):
        return None, list(root.value)
    if not isinstance(root, yaml.MappingNode):
        return None, None
    title, rules = None, None
    for key_node, value_node in root.value:
        key = loader.construct_object(key_node)
        if key in ("policy", "title") and isinstance(value_node, yaml.ScalarNode):
            title = str(loader.construct_object(value_node))
        elif key == "rules" and isinstance(value_node, yaml.SequenceNode):
            rules = list(value_node.value)
    return title, rules


def _rule(
    value: Any,
    path: str,
    line: int,
    title: str | None,
    ids: IdMaker,
    seen: set[str],
    warnings: list[ParseWarning],
) -> Task | None:
    def skip(why: str) -> None:
        warnings.append(ParseWarning(path, line, f"rule skipped: {why}"))

    if not isinstance(value, dict):
        skip("expected a mapping with id, title, description, severity, tags")
        return None
    rule_key = value.get("id")
    if not isinstance(rule_key, str | int) or not str(rule_key).strip():
        skip("no `id`")
        return None
    key = str(rule_key).strip()
    if key in seen:
        skip(f"id {key} is used twice in this file")
        return None
    parts = [str(value[f]).strip() for f in ("title", "description") if value.get(f)]
    if not parts:
        skip(f"{key} has neither `title` nor `description`")
        return None
    severity = value.get("severity")
    if severity is not None and str(severity).casefold() not in SEVERITIES:
        warnings.append(
            ParseWarning(path, line, f"{key}: severity {severity!r} is not one of {SEVERITIES}")
        )
        severity = None
    tags = value.get("tags") or []
    if not isinstance(tags, list):
        tags = [tags]
    unknown = sorted(str(k) for k in value if k not in RULE_FIELDS)
    if unknown:
        warnings.append(ParseWarning(path, line, f"{key}: unknown fields ignored: {unknown}"))
    seen.add(key)
    text = ": ".join(parts) if len(parts) == 2 else parts[0]
    return rule_task(
        plan=path,
        line=line,
        text=text,
        key=key,
        rule_id=ids.make("policy", "rule", key),
        section=(title,) if title else (),
        severity=str(severity).casefold() if severity is not None else severity_of(text),
        tags=[str(t) for t in tags],
        source_format="yaml",
        extra={"title": value.get("title")},
    )
