"""bench/parse_diff.py: the before/after figures docs/parsing.md quotes must count right."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"
sys.path[:0] = [str(BENCH)]

import parse_diff  # noqa: E402


def test_diff_counts_lost_tasks_repairs_and_changed_fields(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = tmp_path / "plans"
    root.mkdir()
    plan = root / "a.md"
    plan.write_text(
        "# A\n\n- Arrays\n    - [ ] about\n    - [ ] **1.1** vector\n- [ ] gone\n"
        "```go\nx\n```plaintext\n",
        encoding="utf-8",
    )
    before = tmp_path / "before.json"
    assert parse_diff.main(["--corpus", str(root), "--save", str(before)]) == 0
    saved = json.loads(before.read_text("utf-8"))
    assert len(saved["tasks"]) == 3 and saved["repairs"] == {"a.md": 1}
    capsys.readouterr()

    plan.write_text(
        "# A\n\n- ### Arrays\n    - [ ] about\n    - [ ] **1.1** vector\n", encoding="utf-8"
    )
    assert parse_diff.main(["--corpus", str(root), "--against", str(before)]) == 1  # one lost
    out = capsys.readouterr().out
    assert "tasks: 3 -> 2 (lost 1, new 0)" in out
    assert "fence repairs: 1 -> 0" in out
    assert "tasks whose section changed: 2 in 1 files" in out
    assert "tasks whose id changed: 1 in 1 files" in out  # "1.1" keeps its id
    assert "lost: a.md:6" in out
    assert parse_diff.main(["--corpus", str(root), "--against", str(before)]) == 1
    same = tmp_path / "same.json"
    parse_diff.main(["--corpus", str(root), "--save", str(same)])
    assert parse_diff.main(["--corpus", str(root), "--against", str(same)]) == 0
