"""``planvec index`` (alias ``vectorize``) and ``planvec search``."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from planvec.cli import owner
from planvec.cli.common import (
    CONTEXT_SETTINGS,
    alias_of,
    echo_json,
    embedder_option,
    err,
    handle_errors,
    json_option,
    settings_from,
    store_options,
)

if TYPE_CHECKING:
    from planvec.sync import SyncProgress, SyncReport

#: ``planvec.search.SEARCH_MODES``, repeated so that a routed search does not import numpy
SEARCH_MODES = ("hybrid", "dense", "sparse")


@contextmanager
def _progress(enabled: bool, total_plans: int) -> Iterator[Any]:
    """A rich progress bar on stderr (only on a TTY); yields the callback or ``None``."""
    if not enabled or not sys.stderr.isatty():
        yield None
        return
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    columns = (
        TextColumn("plans"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[detail]}"),
        TimeElapsedColumn(),
        TextColumn("ETA"),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task("indexing", total=total_plans or None, detail="")

        def update(p: SyncProgress) -> None:
            elapsed = bar.tasks[0].elapsed or 0.0
            rate = p.tasks / elapsed if elapsed > 0 else 0.0
            bar.update(
                task,
                completed=p.plans,
                detail=f"{p.tasks:,} tasks ({rate:,.0f}/s), {p.embedded:,} embedded",
            )

        yield update


def _render_report(report: SyncReport) -> None:
    if report.dry_run:
        shown = report.changes[:50]
        for change in shown:
            where = f"{change.plan}:{change.line}" if change.line else change.plan
            click.echo(f"{change.action:>11}  {where}  {change.text[:80]}")
        if len(report.changes) > len(shown):
            click.echo(f"... and {len(report.changes) - len(shown)} more changes")
        click.echo("Dry run: nothing was written.")
    verb = "Would index" if report.dry_run else "Indexed"
    click.echo(
        f"{verb} {report.tasks} tasks from {report.plans} plans in {report.seconds:.1f}s: "
        f"{report.added} added, {report.updated} updated, {report.payload_only} payload-only, "
        f"{report.deleted} deleted, {report.unchanged} unchanged; {report.embedded} embedded"
        + (f"; {report.failed} file(s) failed" if report.failed else "")
    )
    if report.plans_deleted:
        click.echo(f"Plans removed from the index: {', '.join(report.plans_deleted[:10])}")


@click.command("index", context_settings=CONTEXT_SETTINGS)
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@store_options
@embedder_option
@click.option("--dry-run", is_flag=True, help="Print the change plan; write nothing.")
@click.option("--wait", is_flag=True, help="Queue behind another index run instead of failing.")
@click.option(
    "--keep-missing",
    is_flag=True,
    help="Keep the tasks of plans that are not among PATHS (default: the index mirrors PATHS).",
)
@click.option("--batch-size", type=click.IntRange(1, 4096), default=None, help="Embedding batch.")
@click.option("--silent", is_flag=True, help="No progress bar.")
@json_option
@handle_errors
def index_command(
    paths: tuple[Path, ...],
    dry_run: bool,
    wait: bool,
    keep_missing: bool,
    batch_size: int | None,
    silent: bool,
    json_: bool,
    **opts: Any,
) -> None:
    """Parse plans, embed what changed, and sync the index to match them exactly.

    The index mirrors PATHS: new and edited tasks are embedded and written, a status flip
    only rewrites the payload, tasks and whole plans that disappeared are deleted (keep them
    with --keep-missing). Files that fail to parse keep their indexed tasks. Killed at any
    moment, a rerun converges to the state of a clean full run.

    Exit code: 0 all files indexed; 1 some files failed (the others are indexed) or the
    store failed; 2 another run holds the index (queue behind it with --wait).

    \b
    Example:
      planvec index docs/plans
      planvec index docs/plans --dry-run
      planvec index docs/plans --qdrant-url http://localhost:6333 --json
    """
    settings = settings_from(batch_size=batch_size, **opts)
    report = owner.routed_sync(
        settings, paths, wait=wait, dry_run=dry_run, keep_missing=keep_missing,
        batch_size=batch_size,
    )  # fmt: skip
    if report is None:  # no owner serves this index: run here
        from planvec.index import count_plans, open_index, sources_for

        source = sources_for(paths)
        with (
            open_index(settings, write=not dry_run, wait=wait) as index,
            _progress(not (silent or json_), count_plans(paths)) as progress,
        ):
            report = index.sync(
                source,
                dry_run=dry_run,
                delete_missing=not keep_missing,
                batch_size=settings.batch_size,
                progress=progress,
            )
    for failure in report.failures:
        err(f"error: {failure.path}: {failure.message}")
    for warning in report.warnings[:200]:
        err(f"warning: {warning}")
    if len(report.warnings) > 200:
        err(f"warning: ... and {len(report.warnings) - 200} more warnings")
    if json_:
        echo_json(report.to_dict())
    else:
        _render_report(report)
    if report.failed:
        sys.exit(1)


vectorize_command = alias_of(index_command, "vectorize", "planvec vectorize docs/plans")


@click.command("search", context_settings=CONTEXT_SETTINGS)
@click.argument("query")
@store_options
@embedder_option
@click.option("--plan", default=None, help="Only plans matching this glob (e.g. 'phase-2/*').")
@click.option(
    "--status",
    type=click.Choice(["todo", "done", "in_progress", "cancelled"]),
    default=None,
    help="Only tasks with this status.",
)
@click.option("--section", default=None, help="Only tasks whose section path has these words.")
@click.option("--priority", default=None, help="Only tasks with this priority (P0..P3).")
@click.option("--limit", "-n", type=click.IntRange(1, 1000), default=10, show_default=True)
@click.option(
    "--mode",
    type=click.Choice(SEARCH_MODES),
    default="hybrid",
    show_default=True,
    help="hybrid = dense model + lexical BM25, fused.",
)
@json_option
@handle_errors
def search_command(
    query: str,
    plan: str | None,
    status: str | None,
    section: str | None,
    priority: str | None,
    limit: int,
    mode: str,
    json_: bool,
    **opts: Any,
) -> None:
    """Search the indexed tasks by meaning and by words, in French or English.

    \b
    Example:
      planvec search "sauvegarde de la base de données"
      planvec search "write API docs" --status todo --plan 'phase-2/*' --json
    """
    settings = settings_from(**opts)
    filters = {"plan": plan, "status": status, "section": section, "priority": priority}
    hits = owner.routed_search(settings, query, limit=limit, mode=mode, **filters)
    if hits is None:  # no owner serves this index: open it here

        def run() -> list[Any]:
            from planvec.index import open_index

            with open_index(settings) as index:
                return index.search(query, limit=limit, mode=mode, **filters)

        hits = owner.wait_if_held(run)
    if json_:
        echo_json([hit.to_dict() for hit in hits])
        return
    if not hits:
        click.echo("No matching task.")
        return
    for rank, hit in enumerate(hits, 1):
        section_path = " > ".join(hit.section)
        click.echo(
            f"{rank:>2}. {hit.score:.3f}  {hit.plan}:{hit.line}  [{hit.status}]  {section_path}"
        )
        click.echo(f"      {hit.text}")


COMMANDS = [index_command, vectorize_command, search_command]
