"""``planvec parse``: show what the parser finds in plan files, without any index."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from planvec.cli.common import (
    CONTEXT_SETTINGS,
    err,
    handle_errors,
    json_option,
    verbosity,
    warning_lines,
)
from planvec.records import Plan, SourceFailure

if TYPE_CHECKING:
    from rich.console import Console


@click.command(context_settings=CONTEXT_SETTINGS)
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@json_option
@handle_errors
def parse(paths: tuple[Path, ...], json_: bool) -> None:
    """Parse Markdown plans and summarize their tasks (files or directories of *.md).

    With --json, print JSON Lines on stdout, one object per task. Warnings (repaired
    fences, decoding) and per-file errors go to stderr; the exit code is 1 when any file
    could not be parsed, 0 otherwise.

    \b
    Example:
      planvec parse examples/plans
      planvec parse docs/roadmap.md --json | jq -r 'select(.status=="todo") | .text'
    """
    from planvec.sources.files import MarkdownPlanSource

    failed = 0
    verbose = verbosity() > 0
    # Escape non-ASCII only when stdout cannot encode it (a legacy console): never a crash.
    encoding = (getattr(sys.stdout, "encoding", None) or "utf-8").lower().replace("-", "")
    ascii_only = encoding not in ("utf8", "utf16", "utf32")
    if ascii_only and hasattr(sys.stdout, "reconfigure"):
        sys.stdout.reconfigure(errors="replace")  # the summary: "?" for what cannot be shown
    console: Console | None = None
    if not json_:
        from rich.console import Console

        console = Console(file=sys.stdout, highlight=False, soft_wrap=True)
    for item in MarkdownPlanSource(list(paths)).iter_plans():
        if isinstance(item, SourceFailure):
            failed += 1
            err(f"Error: {item.path}: {item.message}")
            continue
        for line in warning_lines(item.warnings, verbose=verbose):
            err(f"Warning: {line}")
        if console is None:
            out = sys.stdout
            for task in item.tasks:
                out.write(json.dumps(task.to_dict(), ensure_ascii=ascii_only) + "\n")
        else:
            _render(console, item)
    if failed:
        err(f"{failed} file(s) could not be parsed.")
        sys.exit(1)


def _render(console: Console, plan: Plan) -> None:
    """A readable summary of one plan: title, counts, one row per top-level section."""
    from rich.markup import escape
    from rich.table import Table

    done = plan.done
    total = len(plan.tasks)
    version = f" [dim]{escape(plan.version)}[/dim]" if plan.version else ""
    console.print(
        f"[bold]{escape(plan.path)}[/bold]{version} — {escape(plan.title or '')}\n"
        f"  {total} tasks, {done} done ({_percent(done, total)})"
        + (f", {len(plan.warnings)} warning(s)" if plan.warnings else "")
    )
    if plan.sections and total:
        table = Table(show_header=True, header_style="dim", box=None, padding=(0, 1, 0, 2))
        table.add_column("section", overflow="fold", max_width=70)
        table.add_column("tasks", justify="right")
        table.add_column("done", justify="right")
        for section in plan.sections:
            table.add_row(
                escape(section.title),
                str(section.tasks),
                _percent(section.done, section.tasks),
            )
        console.print(table)


def _percent(part: int, whole: int) -> str:
    return f"{100 * part / whole:.0f} %" if whole else "-"


COMMANDS = [parse]
