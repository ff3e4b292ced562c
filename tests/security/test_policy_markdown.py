"""Markdown policies: which blocks are rules, their ids, lines, sections and severities."""

from __future__ import annotations

from pathlib import Path

from planvec.managers.base import ITEM_STATUS
from planvec.managers.policy_markdown import parse_policy_markdown
from planvec.managers.policy_rules import normative_level, severity_of, split_rule_id


def _rules(path: Path) -> dict[str | None, object]:
    plan = parse_policy_markdown(path.read_text(encoding="utf-8"), path.name)
    return {t.key: t for t in plan.tasks}


def test_numbered_and_bullet_rules_with_ids_lines_sections(example_policies: Path) -> None:
    path = example_policies / "access-control.md"
    plan = parse_policy_markdown(path.read_text(encoding="utf-8"), "access-control.md")
    keys = [t.key for t in plan.tasks]
    assert keys == [
        "AC-001", "AC-002", "AC-003", "AC-004",
        "PWD-001", "PWD-002", "PWD-003", "PWD-004",
        "SES-001", "SES-002", "SES-003",
    ]  # fmt: skip
    lines = path.read_text(encoding="utf-8").splitlines()
    for task in plan.tasks:
        assert task.key is not None and task.key in lines[task.line - 1]
        assert task.status == ITEM_STATUS and task.metadata["kind"] == "policy"
        assert task.metadata["rule_id"] == task.key
    by_key = {t.key: t for t in plan.tasks}
    assert by_key["PWD-002"].section == ("Access control policy", "Passwords")
    assert by_key["AC-002"].metadata["severity"] == "high"  # MUST
    assert by_key["AC-004"].metadata["severity"] == "medium"  # SHOULD
    assert by_key["SES-002"].metadata["severity"] == "medium"  # explicit [medium]
    assert plan.title == "Access control policy"


def test_prose_is_not_a_rule_but_a_normative_paragraph_is(example_policies: Path) -> None:
    text = (example_policies / "data-protection.md").read_text(encoding="utf-8")
    plan = parse_policy_markdown(text, "data-protection.md")
    texts = [t.text for t in plan.tasks]
    assert any(t.startswith("Les sauvegardes de la base") for t in texts)
    assert len(plan.tasks) == 6
    by_key = {t.key: t for t in plan.tasks}
    assert by_key["DP-004"].metadata["severity"] == "high"  # NE DOIVENT PAS
    assert by_key["DP-005"].metadata["severity"] == "low"  # explicit (severity: low)
    access = parse_policy_markdown(
        (example_policies / "access-control.md").read_text(encoding="utf-8"), "a.md"
    )
    assert not any(t.text.startswith("Applies to") for t in access.tasks)


def test_ids_survive_moves_and_unnumbered_rules_get_stable_ids() -> None:
    doc = "# P\n\n- SEC-1: Backups MUST be encrypted.\n- Logs MUST be kept.\n  - nested child\n"
    moved = "# P\n\nIntro line.\n\n" + doc.split("\n\n", 1)[1]
    first, second = parse_policy_markdown(doc, "p.md"), parse_policy_markdown(moved, "p.md")
    assert [t.id for t in first.tasks] == [t.id for t in second.tasks]
    assert [t.line for t in first.tasks] != [t.line for t in second.tasks]
    child = first.tasks[2]
    assert child.depth == 1 and child.parent_id == first.tasks[1].id
    assert first.tasks[1].key is None


def test_duplicate_rule_id_is_a_warning_and_code_blocks_are_skipped() -> None:
    doc = "# P\n\n- R1: A MUST be b.\n- R1: C MUST be d.\n\n```\n- R9: not a rule\n```\n"
    plan = parse_policy_markdown(doc, "p.md")
    assert [t.key for t in plan.tasks] == ["R1", "R1"]
    assert len({t.id for t in plan.tasks}) == 2
    assert any("R1 is used twice" in w.message for w in plan.warnings)


def test_rule_vocabulary() -> None:
    assert split_rule_id("SEC-001: Use TLS") == ("SEC-001", "Use TLS")
    assert split_rule_id("[AC-2.1] Review access") == ("AC-2.1", "Review access")
    assert split_rule_id("TLS 1.2 is the minimum") == (None, "TLS 1.2 is the minimum")
    assert normative_level("users must log in") is None  # lower case prose
    assert normative_level("Users MUST NOT share accounts") == "high"
    assert normative_level("Il est INTERDIT de partager un compte") == "high"
    assert normative_level("Logs MAY be archived") == "low"
    assert severity_of("Keys are rotated (severity: critical)") == "critical"
    assert severity_of("Criticité : haute — les clés sont renouvelées") == "high"


def test_tables_and_html_are_not_rules() -> None:
    doc = (
        "# P\n\n| id | rule |\n|---|---|\n| T-1 | Keys MUST rotate |\n\n"
        "<div>\nX-1: HTML MUST be ignored\n</div>\n\n- K-1: Keys MUST rotate.\n"
    )
    assert [t.key for t in parse_policy_markdown(doc, "p.md").tasks] == ["K-1"]
