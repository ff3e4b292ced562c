"""The write-back edit itself (no database): one character, every other byte kept."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import pytest

from planvec.catalogue.writeback import (
    CheckboxEdit,
    WriteBackRefused,
    edit_checkboxes,
    mark_for,
    remove_stale_temps,
    replace_file,
    unified_diff,
)
from planvec.sources.markdown_plans import parse_plan

TRICKY = (
    "\ufeff- [ ] first line task  \r\n"
    "> - [x] **2** quoted task\r\n"
    "1. - [/] nested marker task\t\r\n"
    "```\r\n- [ ] not a task (code)\r\n```\r\n"
    "  * [X] upper X task"
)


def _edit(text: str, status_by_line: dict[int, str]) -> tuple[bytes, bytes]:
    raw = text.encode("utf-8")
    plan = parse_plan(raw.decode("utf-8"), "p.md")
    by_line = {t.line: t for t in plan.tasks}
    edits = [CheckboxEdit(by_line[n].id, n, s) for n, s in status_by_line.items()]
    out, again = edit_checkboxes(raw, plan, edits)
    assert [t.status for t in again.tasks if t.line in status_by_line] == list(
        status_by_line.values()
    )
    assert again.file_hash == hashlib.sha256(out).hexdigest()
    return raw, out


@pytest.mark.parametrize(
    ("line", "status", "old", "new"),
    [
        (1, "done", b" ", b"x"),
        (2, "todo", b"x", b" "),
        (3, "cancelled", b"/", b"-"),
        (7, "todo", b"X", b" "),
    ],
)
def test_one_byte_changes_and_the_rest_is_kept(
    line: int, status: str, old: bytes, new: bytes
) -> None:
    raw, out = _edit(TRICKY, {line: status})
    diff = [i for i, (a, b) in enumerate(zip(raw, out, strict=True)) if a != b]
    assert len(raw) == len(out) and len(diff) == 1
    assert raw[diff[0] : diff[0] + 1] == old and out[diff[0] : diff[0] + 1] == new
    assert out.startswith(b"\xef\xbb\xbf") and out.count(b"\r\n") == raw.count(b"\r\n")


def test_several_edits_in_one_pass() -> None:
    raw, out = _edit(TRICKY, {1: "done", 2: "todo"})
    assert out == raw.replace(b"- [ ] first", b"- [x] first").replace(b"[x] **2**", b"[ ] **2**")


def test_status_without_a_checkbox_form_is_refused() -> None:
    with pytest.raises(WriteBackRefused, match="no checkbox form"):
        mark_for("blocked")
    assert mark_for("!") == "!"


def test_wrong_line_or_status_is_refused() -> None:
    raw = b"- [ ] a\n- [x] b\n"
    plan = parse_plan(raw.decode(), "p.md")
    with pytest.raises(WriteBackRefused, match="not on line"):
        edit_checkboxes(raw, plan, [CheckboxEdit(plan.tasks[0].id, 2, "done")])
    stale = parse_plan("- [x] a\n- [x] b\n", "p.md")  # the plan says [x], the bytes say [ ]
    with pytest.raises(WriteBackRefused, match="no checkbox with status"):
        edit_checkboxes(raw, stale, [CheckboxEdit(stale.tasks[0].id, 1, "todo")])


def test_non_utf8_files_are_refused() -> None:
    raw = "- [ ] caf\u00e9\n".encode("cp1252")
    plan = parse_plan(raw.decode("cp1252"), "p.md")
    with pytest.raises(WriteBackRefused, match="UTF-8"):
        edit_checkboxes(raw, plan, [CheckboxEdit(plan.tasks[0].id, 1, "done")])


def test_replace_is_refused_when_the_file_changed(tmp_path: Path) -> None:
    target = tmp_path / "p.md"
    target.write_bytes(b"- [ ] a\n")
    seen = hashlib.sha256(b"- [ ] a\n").hexdigest()
    target.write_bytes(b"- [ ] a\n- [ ] b\n")
    with pytest.raises(WriteBackRefused, match="changed since it was read"):
        replace_file(target, b"- [x] a\n", seen)
    assert target.read_bytes() == b"- [ ] a\n- [ ] b\n"
    assert [p.name for p in tmp_path.iterdir()] == ["p.md"]  # no temp file left


def test_replace_keeps_the_mode(tmp_path: Path) -> None:
    target = tmp_path / "p.md"
    target.write_bytes(b"- [ ] a\n")
    target.chmod(0o600)
    replace_file(target, b"- [x] a\n", hashlib.sha256(b"- [ ] a\n").hexdigest())
    assert target.read_bytes() == b"- [x] a\n" and target.stat().st_mode & 0o777 == 0o600


def test_diff_shows_the_checkbox_and_crlf() -> None:
    diff = unified_diff(b"a\r\n- [ ] t\r\n", b"a\r\n- [x] t\r\n", "p.md")
    assert "--- a/p.md" in diff and "-- [ ] t\u240d" in diff and "+- [x] t\u240d" in diff


def test_a_killed_write_backs_temp_file_is_removed_by_the_next_one(tmp_path: Path) -> None:
    plan = tmp_path / "plan.md"
    plan.write_bytes(b"- [ ] a\n")
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)  # fmt: skip
    stale = tmp_path / f".plan.md.{dead.stdout.strip()}.x1y2.planvec-tmp"
    live = tmp_path / f".plan.md.{os.getpid()}.z3w4.planvec-tmp"
    other = tmp_path / f".other.md.{dead.stdout.strip()}.q.planvec-tmp"
    for path in (stale, live, other):
        path.write_bytes(b"half")
    replace_file(plan, b"- [x] a\n", hashlib.sha256(b"- [ ] a\n").hexdigest())
    assert plan.read_bytes() == b"- [x] a\n"
    assert not stale.exists(), "the dead writer's temp file stayed"
    assert live.exists() and other.exists(), "a live writer's or another file's temp was removed"
    assert remove_stale_temps(plan) == []
