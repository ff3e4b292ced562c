"""Write a status changed in the database back into its Markdown plan: one character.

The edit is line-exact and byte-exact: only the checkbox character (``[ ]`` → ``[x]``)
changes; CRLF, a BOM, trailing spaces and every other byte are kept. It is refused when the
file changed since it was parsed (its sha256 differs from ``Plan.file_hash``), when it is
not UTF-8, or when re-parsing the edited text shows anything else than the intended status
changes. The file is replaced atomically (temp file in the same directory, fsync,
``os.replace``), keeping its permission bits; a crash leaves the old or the new file.
"""

from __future__ import annotations

import dataclasses
import difflib
import glob
import hashlib
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

from planvec.lock import pid_alive
from planvec.records import Plan, Task
from planvec.sources.list_items import CHECKBOX_STATUS, RAW_MARKS
from planvec.sources.markdown_plans import parse_plan

#: The checkbox character written for each status.
STATUS_MARKS = {"todo": " ", "done": "x", "in_progress": "/", "cancelled": "-"}

# container prefixes (indent, block quotes, list markers), then the checkbox
_CHECKBOX = re.compile(rb"^(?:[ \t]*(?:>|(?:[-*+]|\d{1,9}[.)])(?=[ \t])))*[ \t]*\[(.)\]")
_BOM = b"\xef\xbb\xbf"


class WriteBackRefused(Exception):
    """A write-back that was not done; the message says why and what to do."""


@dataclass(frozen=True)
class CheckboxEdit:
    """Set the status of the task ``task_id`` (on 1-based ``line``) to ``status``."""

    task_id: str
    line: int
    status: str


def mark_for(status: str) -> str:
    """The checkbox character of ``status``.

    Raises:
        WriteBackRefused: no checkbox character means this status.
    """
    if status in STATUS_MARKS:
        return STATUS_MARKS[status]
    if len(status) == 1 and status in RAW_MARKS:
        return status
    known = ", ".join(STATUS_MARKS)
    raise WriteBackRefused(f"status {status!r} has no checkbox form; use one of {known}")


def edit_checkboxes(raw: bytes, plan: Plan, edits: list[CheckboxEdit]) -> tuple[bytes, Plan]:
    """``raw`` with the checkbox of each edited task replaced; nothing else changes.

    Args:
        raw: the file's bytes, exactly those ``plan`` was parsed from.
        plan: the parsed plan (gives each task's line and current status).
        edits: the status changes.

    Returns:
        The new bytes, and the plan they parse to (with their ``file_hash``).

    Raises:
        WriteBackRefused: the file is not UTF-8, a task is not where the plan says, or the
            edited text does not parse to exactly the intended statuses.
    """
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        raise WriteBackRefused("not a UTF-8 file; write-back edits UTF-8 plans only") from None
    lines = raw.split(b"\n")
    by_id = {t.id: t for t in plan.tasks}
    for edit in edits:
        task = by_id.get(edit.task_id)
        if task is None or task.line != edit.line or not 0 < edit.line <= len(lines):
            raise WriteBackRefused(f"task {edit.task_id} is not on line {edit.line}")
        line = lines[edit.line - 1]
        match = _CHECKBOX.match(line.removeprefix(_BOM) if edit.line == 1 else line)
        old = match.group(1).decode() if match else None
        if old is None or CHECKBOX_STATUS.get(old, old) != task.status:
            raise WriteBackRefused(f"line {edit.line}: no checkbox with status {task.status!r}")
        assert match is not None
        start = match.start(1) + (len(_BOM) if edit.line == 1 and line.startswith(_BOM) else 0)
        new = mark_for(edit.status).encode()
        lines[edit.line - 1] = line[:start] + new + line[start + 1 :]
    out = b"\n".join(lines)
    return out, _verify(out, plan, {e.line: e.status for e in edits})


def _verify(out: bytes, plan: Plan, wanted: dict[int, str]) -> Plan:
    """The plan ``out`` parses to: the same tasks, with only the wanted statuses changed.

    Every other field of every task (id, line, text, section, parent, metadata...) must be
    equal, so the catalogue rows of the edited plan are those of the plan before the edit.
    """
    again = parse_plan(out.decode("utf-8"), plan.path)
    before = [(*_row_fields(t), wanted.get(t.line, t.status)) for t in plan.tasks]
    after = [(*_row_fields(t), t.status) for t in again.tasks]
    if before != after:
        raise WriteBackRefused("the edit would change more than the checkboxes; not written")
    file_hash = hashlib.sha256(out).hexdigest()
    return dataclasses.replace(again, warnings=plan.warnings, file_hash=file_hash)


def _row_fields(task: Task) -> tuple[object, ...]:
    """Everything the catalogue stores of ``task`` but its status."""
    where = (task.id, task.line, task.section, task.parent_id, task.depth)
    return (*where, task.key, task.text, task.content_hash, dict(task.metadata))


def unified_diff(old: bytes, new: bytes, path: str) -> str:
    """A unified diff of the edit (line ends shown as they are: ``\\r`` stays visible)."""
    a = [line.decode("utf-8", "replace") for line in old.splitlines(keepends=True)]
    b = [line.decode("utf-8", "replace") for line in new.splitlines(keepends=True)]
    rendered = [
        line if line.endswith("\n") else line + "\n"
        for line in difflib.unified_diff(a, b, f"a/{path}", f"b/{path}", n=0)
    ]
    return "".join(rendered).replace("\r\n", "\u240d\n")


def file_sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def replace_file(path: Path, data: bytes, expected_hash: str) -> None:
    """Atomically replace ``path`` by ``data`` if its content still hashes to ``expected_hash``.

    Raises:
        WriteBackRefused: the file changed since it was read (re-run the sync).
    """
    if file_sha256(path) != expected_hash:
        raise WriteBackRefused("the file changed since it was read; re-run the sync")
    mode = path.stat().st_mode & 0o7777
    remove_stale_temps(path)
    fd, tmp = tempfile.mkstemp(
        prefix=f".{path.name}.{os.getpid()}.", suffix=_TEMP_SUFFIX, dir=path.parent
    )
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, mode)
        if file_sha256(path) != expected_hash:  # last look, right before the swap
            raise WriteBackRefused("the file changed since it was read; re-run the sync")
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    _fsync_dir(path.parent)


_TEMP_SUFFIX = ".planvec-tmp"


def remove_stale_temps(path: Path) -> list[Path]:
    """Delete the temp files of ``path`` left by write-backs whose process is gone.

    Why: a write-back killed between writing its temp file and the swap (``kill -9``, a
    power cut) leaves ``.<name>.<pid>.<random>.planvec-tmp`` beside the plan. The temp names
    carry the writer's pid, so a file of a live writer is never touched.

    Returns:
        The files removed.
    """
    removed = []
    for tmp in path.parent.glob(f".{glob.escape(path.name)}.*{_TEMP_SUFFIX}"):
        pid_part = tmp.name[len(path.name) + 2 :].split(".", 1)[0]
        if pid_part.isdigit() and pid_alive(int(pid_part)):
            continue
        try:
            tmp.unlink()
        except OSError:
            continue
        removed.append(tmp)
    return removed


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
