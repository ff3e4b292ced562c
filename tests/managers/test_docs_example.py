"""The "Writing a manager" example of docs/managers.md runs as written, through the hook."""

from __future__ import annotations

import re
import types
from pathlib import Path

from planvec.managers.base import ManagerInputs
from planvec.managers.orchestrator import run_managers
from planvec.plugins import plugin_manager
from planvec.settings import Settings

DOC = Path(__file__).resolve().parents[2] / "docs" / "managers.md"


def _example_module() -> types.ModuleType:
    text = DOC.read_text(encoding="utf-8")
    code = next(b for b in re.findall(r"```python\n(.*?)```", text, re.S) if "TodoManager" in b)
    module = types.ModuleType("docs_todo_manager")
    exec(compile(code, str(DOC), "exec"), module.__dict__)
    return module


def test_the_documented_manager_registers_runs_and_is_searchable(
    tmp_path: Path, settings: Settings
) -> None:
    (tmp_path / "proj").mkdir()
    (tmp_path / "proj" / "TODO.txt").write_text("renew the TLS certificate\n\nbuy coffee\n")
    module = _example_module()
    pm = plugin_manager()
    pm.register(module, name="docs-todo-manager")
    try:
        report = run_managers(settings, ManagerInputs(paths=(tmp_path / "proj",)), ["todos"])
    finally:
        pm.unregister(module)
    assert report.exit_code == 0
    run = report.runs[0]
    assert run.collection == "planvec_todos" and run.items == 2
