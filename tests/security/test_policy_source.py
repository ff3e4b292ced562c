"""Which files of a project are policies, and one bad file not stopping the others."""

from __future__ import annotations

from pathlib import Path

import pytest

from planvec.errors import SourceError
from planvec.managers.policies import PolicySource, discover_policies
from planvec.records import Plan, SourceFailure


def _project(root: Path) -> Path:
    (root / "policies").mkdir(parents=True)
    (root / "policies" / "a.md").write_text("# A\n\n- A-1: X MUST be y.\n", encoding="utf-8")
    (root / "policies" / "rules.yml").write_text("rules:\n  - id: B-1\n    title: b\n")
    (root / "policies" / "settings.yaml").write_text("port: 80\n")  # config, not rules
    (root / "docs").mkdir()
    (root / "docs" / "roadmap.md").write_text("# Plan\n- [ ] task\n")  # a plan, not a policy
    (root / "docs" / "password-policy.md").write_text("- P-1: Passwords MUST be long.\n")
    (root / "SECURITY.md").write_text("# Security\n\nReport issues to sec@example.org.\n")
    (root / ".git").mkdir()
    (root / ".git" / "policy.md").write_text("- G-1: hidden MUST be skipped.\n")
    return root


def test_discovery_picks_policy_files_only(tmp_path: Path) -> None:
    root = _project(tmp_path)
    names = [rel for _, rel in discover_policies([root])]
    assert names == [
        "SECURITY.md",
        "docs/password-policy.md",
        "policies/a.md",
        "policies/rules.yml",
        "policies/settings.yaml",
    ]
    plans = [p for p in PolicySource([root]).iter_plans() if isinstance(p, Plan)]
    assert [p.path for p in plans] == [
        "SECURITY.md", "docs/password-policy.md", "policies/a.md", "policies/rules.yml",
    ]  # fmt: skip
    assert [t.key for p in plans for t in p.tasks] == ["P-1", "A-1", "B-1"]


def test_a_file_given_directly_is_taken(tmp_path: Path) -> None:
    path = tmp_path / "anything.md"
    path.write_text("- Z-9: Keys MUST rotate.\n", encoding="utf-8")
    plans = list(PolicySource([path]).iter_plans())
    assert isinstance(plans[0], Plan) and plans[0].tasks[0].key == "Z-9"


def test_unreadable_and_binary_files_fail_alone(tmp_path: Path) -> None:
    root = _project(tmp_path)
    (root / "policies" / "broken.md").write_bytes(b"\x00\x01\x02binary\x00" * 50)
    items = list(PolicySource([root]).iter_plans())
    failures = [i for i in items if isinstance(i, SourceFailure)]
    assert [f.path for f in failures] == ["policies/broken.md"]
    assert sum(isinstance(i, Plan) for i in items) == 4


def test_missing_path_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="no such file"):
        list(PolicySource([tmp_path / "nope"]).iter_plans())
