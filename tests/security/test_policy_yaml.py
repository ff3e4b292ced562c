"""YAML rule files: the documented schema, lines, and bad rules skipped with a warning."""

from __future__ import annotations

from pathlib import Path

from planvec.managers.policy_yaml import looks_like_rules, parse_policy_yaml


def test_rules_with_fields_and_lines(example_policies: Path) -> None:
    path = example_policies / "secure-development.yaml"
    text = path.read_text(encoding="utf-8")
    plan = parse_policy_yaml(text, "secure-development.yaml")
    assert [t.key for t in plan.tasks] == ["DEV-001", "DEV-002", "DEV-003", "DEV-004", "DEV-005"]
    lines = text.splitlines()
    for task in plan.tasks:
        assert f"id: {task.key}" in lines[task.line - 1]
        assert task.section == ("Secure development",)
        assert task.metadata["format"] == "yaml"
    first = plan.tasks[0]
    assert first.text.startswith("Parameterised queries: Database queries MUST use bound")
    assert first.metadata["severity"] == "critical"
    assert first.metadata["tags"] == ["injection", "sql"]
    assert plan.tasks[4].metadata["tags"] == []
    assert not plan.warnings


def test_bad_rules_are_skipped_with_their_line_and_the_rest_kept() -> None:
    text = (
        "rules:\n"
        "  - id: A-1\n    title: Good rule\n    severity: urgent\n"
        "  - title: no id here\n"
        "  - id: A-1\n    title: duplicate\n"
        "  - id: A-3\n"
        "  - just a string\n"
        "  - id: A-4\n    description: Also good\n    owner: bob\n"
    )
    plan = parse_policy_yaml(text, "r.yaml")
    assert [t.key for t in plan.tasks] == ["A-1", "A-4"]
    assert plan.tasks[0].metadata["severity"] is None
    messages = [f"{w.line}: {w.message}" for w in plan.warnings]
    assert any(m.startswith("2:") and "urgent" in m for m in messages)
    assert any(m.startswith("5:") and "no `id`" in m for m in messages)
    assert any(m.startswith("6:") and "used twice" in m for m in messages)
    assert any(m.startswith("8:") and "neither" in m for m in messages)
    assert any(m.startswith("9:") and "mapping" in m for m in messages)
    assert any("unknown fields ignored: ['owner']" in m for m in messages)


def test_invalid_yaml_and_non_rule_yaml() -> None:
    plan = parse_policy_yaml("rules: [\n  - id: x\n", "bad.yaml")
    assert plan.tasks == () and "not valid YAML" in plan.warnings[0].message
    assert parse_policy_yaml("server:\n  port: 80\n", "c.yaml").warnings[0].line == 1
    assert not looks_like_rules("server:\n  port: 80\n")
    assert looks_like_rules("- id: X-1\n  title: t\n")
    top_list = parse_policy_yaml("- id: X-1\n  title: t\n", "l.yaml")
    assert [t.key for t in top_list.tasks] == ["X-1"]
