"""``planvec managers list|run`` and ``planvec deps links``: the managers of docs/managers.md."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from planvec.cli.common import (
    CONTEXT_SETTINGS,
    echo_json,
    embedder_option,
    err,
    handle_errors,
    json_option,
    settings_from,
    store_options,
)


@click.group("managers", context_settings=CONTEXT_SETTINGS)
def managers_group() -> None:
    """Index dependencies, configuration, schemas and policies beside the plans.

    Each manager is a plugin (hook register_managers) that indexes one kind of project
    artefact into its own collection of the same index, through the same sync as plans.

    \b
    Example:
      planvec managers list
      planvec managers run . --report managers.md
    """


@managers_group.command("list", context_settings=CONTEXT_SETTINGS)
@json_option
@handle_errors
def list_command(json_: bool) -> None:
    """List the registered managers in run order, with their kind and collection.

    \b
    Example:
      planvec managers list --json
    """
    from planvec.managers.registry import all_managers

    rows = [
        {"name": m.name, "kind": m.kind, "collection": m.collection, "order": m.order}
        for m in all_managers()
    ]
    if json_:
        echo_json(rows)
        return
    if not rows:
        click.echo("No manager registered.")
    for row in rows:
        click.echo(f"{row['order']:>4}  {row['name']:<14} {row['kind']:<11} {row['collection']}")


@managers_group.command("run", context_settings=CONTEXT_SETTINGS)
@click.argument("args", nargs=-1, required=True, metavar="[NAME]... PATH...")
@store_options
@embedder_option
@click.option(
    "--dsn",
    default=None,
    envvar="PLANVEC_DSN",
    help="PostgreSQL DSN for the schema manager's introspection. Env PLANVEC_DSN.",
)
@click.option("--wait", is_flag=True, help="Queue behind another writer instead of failing.")
@click.option(
    "--allow-delete",
    is_flag=True,
    help="Confirm a run that deletes more than --max-delete of a manager's collection.",
)
@click.option(
    "--report",
    "report_file",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="Also write the combined report as Markdown to this file.",
)
@json_option
@handle_errors
def run_command(
    args: tuple[str, ...],
    dsn: str | None,
    wait: bool,
    allow_delete: bool,
    report_file: Path | None,
    json_: bool,
    **opts: Any,
) -> None:
    """Run the managers (all, or those NAMEd) over the project PATHs, in their order.

    Each manager syncs its own collection of the index (lock, deletion guard and crash
    recovery per collection), then analyses it (dependency conflicts...). One manager
    failing does not stop the others. Leading arguments that name a registered manager
    select it; the rest are paths.

    Exit code: 0 every manager ran; 1 a manager or a file failed (the report says which).

    \b
    Example:
      planvec managers run .
      planvec managers run dependencies services/ --json
      planvec managers run . --report managers.md
    """
    from planvec.managers.base import ManagerInputs
    from planvec.managers.orchestrator import run_managers
    from planvec.managers.registry import all_managers

    known = {m.name for m in all_managers()}
    names: list[str] = []
    for arg in args:  # leading arguments naming a manager (and no existing path) select it
        if arg not in known or Path(arg).exists():
            break
        names.append(arg)
    paths = tuple(Path(a) for a in args[len(names) :])
    if not paths:
        raise click.UsageError("give at least one PATH to scan after the manager names")
    settings = settings_from(**opts)
    inputs = ManagerInputs(paths=paths, dsn=dsn)
    report = run_managers(settings, inputs, names, allow_delete=allow_delete, wait=wait)
    for event in report.findings("event"):
        err(f"event: {event.message}")
    for run in report.runs:
        if run.status == "skipped":
            err(f"manager {run.name} skipped: {run.error}")
        elif run.error:
            err(f"error: manager {run.name} failed: {run.error}")
    if report_file is not None:
        report_file.write_text(report.to_markdown(), encoding="utf-8")
    if json_:
        echo_json(report.to_dict())
    else:
        _render(report)
    sys.exit(report.exit_code)


def _render(report: Any) -> None:
    for run in report.runs:
        sync = run.sync or {}
        counts = (
            f"{run.items} items; +{sync.get('added', 0)} ~{sync.get('updated', 0)} "
            f"-{sync.get('deleted', 0)}"
            if run.status == "ok"
            else run.status.upper()
        )
        click.echo(f"{run.name:<14} {run.collection:<22} {counts}")
        for finding in run.findings:
            if finding.kind != "event":
                click.echo(f"  {finding.kind}: {finding.message}")


@click.group("deps", context_settings=CONTEXT_SETTINGS)
def deps_group() -> None:
    """The dependency manager's views: links between dependencies and plan tasks.

    \b
    Example:
      planvec deps links requests
    """


@deps_group.command("links", context_settings=CONTEXT_SETTINGS)
@click.argument("name", required=False)
@click.option("--task", "task", default=None, metavar="ID|PLAN:LINE",
              help="Show the dependencies of this plan task instead.")  # fmt: skip
@click.option(
    "--threshold",
    type=click.FloatRange(-1.0, 1.0),
    default=None,
    help="Smallest dense cosine for a semantic link (default 0.5, see docs/managers.md).",
)
@store_options
@embedder_option
@json_option
@handle_errors
def links_command(
    name: str | None, task: str | None, threshold: float | None, json_: bool, **opts: Any
) -> None:
    """Plan tasks that mention a dependency (by name or by meaning), or a task's dependencies.

    Without NAME, every indexed dependency with its tasks. Needs both `planvec index` (the
    plans) and `planvec managers run` (the dependencies) on the same index.

    \b
    Example:
      planvec deps links requests
      planvec deps links --task phase-1.md:12 --json
    """
    from planvec.managers.dependencies.links import (
        DEFAULT_THRESHOLD,
        dependency_links,
        task_links,
    )

    if name and task:
        raise click.UsageError("give a dependency NAME or --task, not both")
    settings = settings_from(**opts)
    limit = DEFAULT_THRESHOLD if threshold is None else threshold
    if task:
        links = task_links(settings, task, threshold=limit)
    else:
        links = dependency_links(settings, name, threshold=limit)
    if json_:
        echo_json([link.to_dict() for link in links])
        return
    if not links:
        click.echo("No link found.")
    for link in links:
        score = f" {link.score:.3f}" if link.score is not None else ""
        click.echo(
            f"{link.dependency} ({link.ecosystem}) <-> {link.plan}:{link.line} "
            f"[{link.how}{score}] {link.text[:100]}"
        )


COMMANDS = [managers_group, deps_group]
