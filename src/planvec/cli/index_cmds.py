"""``planvec index`` (alias ``vectorize``) and ``planvec search``."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable, Iterator
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
    verbosity,
    warning_lines,
)

if TYPE_CHECKING:
    from planvec.records import SearchHit
    from planvec.sync import SyncProgress, SyncReport

#: ``planvec.search.SEARCH_MODES``, repeated so that a routed search does not import numpy
SEARCH_MODES = ("hybrid", "dense", "sparse")


@contextmanager
def _progress(enabled: bool, total_plans: Callable[[], int]) -> Iterator[Any]:
    """A rich progress bar on stderr (only on a TTY); yields the callback or ``None``.

    ``total_plans`` is called only when the bar is shown (it walks the plan tree)."""
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
        task = bar.add_task("indexing", total=total_plans() or None, detail="")

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
        refused = report.guard is not None and report.guard.refused
        verb = "would be removed" if report.dry_run or refused else "removed"
        gone = ", ".join(report.plans_deleted[:10])
        click.echo(f"Plans {verb} from the index: {gone}")
    guard = report.guard
    if guard is not None and guard.tripped:
        held = f"; {len(guard.held)} plan(s) held back" if guard.held else ""
        what = "deletions refused" if guard.refused else "deletion guard"
        click.echo(
            f"{what}: {guard.would_delete} of {guard.points_before} indexed tasks "
            f"(max_delete {guard.max_delete:.0%}){held}"
        )


@click.command("index", context_settings=CONTEXT_SETTINGS)
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@store_options
@embedder_option
@click.option("--dry-run", is_flag=True, help="Print the change plan; write nothing.")
@click.option("--wait", is_flag=True, help="Queue behind another index run instead of failing.")
@click.option(
    "--keep-missing",
    is_flag=True,
    help="Keep the tasks of plans that vanished from PATHS (default: they are deleted).",
)
@click.option(
    "--allow-delete",
    is_flag=True,
    help="Confirm a sync that deletes more than --max-delete of the index or of a plan.",
)
@click.option(
    "--max-delete",
    type=click.FloatRange(0.0, 1.0),
    default=None,
    help="Deletion guard: refuse to delete more than this fraction of the index or of a "
    "plan without --allow-delete (default 0.5). Env PLANVEC_MAX_DELETE.",
)
@click.option(
    "--root",
    type=click.Path(path_type=Path, file_okay=False),
    default=None,
    help="Directory plan names are relative to (default: the one recorded in the index, "
    "else the config file's folder, the VCS root, or the PATHS' parent). Env PLANVEC_ROOT.",
)
@click.option(
    "--rebuild",
    is_flag=True,
    help="Drop the index (even damaged) and build it again from PATHS, reusing cached "
    "embeddings: the recovery path from any damaged index.",
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
    allow_delete: bool,
    rebuild: bool,
    silent: bool,
    json_: bool,
    **opts: Any,
) -> None:
    """Parse plans, embed what changed, and sync the index to match them exactly.

    Under PATHS, new and edited tasks are embedded and written, a status flip only
    rewrites the payload, tasks and whole plans that disappeared are deleted (keep them
    with --keep-missing). Plan names are paths relative to the index root, so indexing a
    subfolder updates the same plans. Files that fail to parse keep their indexed tasks. A
    sync deleting more than --max-delete (50 %) of the index or of a plan is refused unless
    --allow-delete. Killed at any moment, a rerun converges to a clean run's state; a
    damaged index is rebuilt with --rebuild.

    Exit code: 0 all files indexed; 1 some files failed (the others are indexed) or the
    store failed; 2 refused: another run holds the index (--wait), deletions over the
    guard (--allow-delete), a path outside the root.

    \b
    Example:
      planvec index docs/plans
      planvec index docs/plans --dry-run
      planvec index docs/plans --rebuild
      planvec index docs/plans --qdrant-url http://localhost:6333 --json
    """
    settings = settings_from(**opts)
    report = None
    if not rebuild:  # a rebuild drops the index: it runs here, under the write lock
        report = owner.routed_sync(
            settings, paths, wait=wait, dry_run=dry_run, keep_missing=keep_missing,
            batch_size=settings.batch_size, allow_delete=allow_delete,
        )  # fmt: skip
    if report is None:  # no owner serves this index: run here
        report = _sync_here(settings, paths, dry_run, wait, rebuild, allow_delete, keep_missing,
                            progress_shown=not (silent or json_), json_=json_)  # fmt: skip
    _show(report, json_)
    if report.guard is not None and report.guard.tripped:  # a dry run that would be refused
        err(f"Error: {report.guard.message(report.plans_deleted)}")
        sys.exit(2)
    if report.failed:
        sys.exit(1)


def _sync_here(
    settings: Any,
    paths: tuple[Path, ...],
    dry_run: bool,
    wait: bool,
    rebuild: bool,
    allow_delete: bool,
    keep_missing: bool,
    *,
    progress_shown: bool,
    json_: bool,
) -> SyncReport:
    """``planvec index`` in this process (no owner runs): guard, root, rebuild."""
    from planvec.noop import noop_report

    if not rebuild:  # nothing changed: answered without opening the index (planvec.noop)
        quick = noop_report(settings, paths, dry_run=dry_run, delete_missing=not keep_missing,
                            allow_delete=allow_delete, wait=wait)  # fmt: skip
        if quick is not None:
            return quick
    from planvec.guard import DeleteGuard
    from planvec.index import count_plans, open_index
    from planvec.sync import dry_run_new

    guard = DeleteGuard(max_delete=settings.max_delete, allow=allow_delete)
    with (
        open_index(settings, write=not dry_run, wait=wait, rebuild=rebuild) as index,
        _progress(progress_shown, lambda: count_plans(paths)) as progress,
    ):
        old = index.salvage() if rebuild else None
        source = index.source(  # checks the paths before a rebuild drops anything
            paths, root=settings.root, config_file=settings.config_file, manifest=old
        )
        if rebuild and not dry_run:
            index.drop()
        if rebuild and dry_run:
            return dry_run_new(source)
        sync = functools.partial(index.sync, source, dry_run=dry_run, guard=guard)
        return _guarded(sync, json_, not keep_missing, settings.batch_size, progress)


def _guarded(
    sync: Callable[..., SyncReport], json_: bool, delete_missing: bool, batch: int, progress: Any
) -> SyncReport:
    """Run ``sync``; when the deletion guard refuses, show the report before the error."""
    from planvec.errors import DeleteRefused
    from planvec.sync import SyncReport

    try:
        return sync(delete_missing=delete_missing, batch_size=batch, progress=progress)
    except DeleteRefused as exc:
        if isinstance(exc.report, SyncReport):
            _show(exc.report, json_)
        raise


def _show(report: SyncReport, json_: bool) -> None:
    for failure in report.failures:
        err(f"error: {failure.path}: {failure.message}")
    for line in warning_lines(report.warnings, verbose=verbosity() > 0):
        err(f"warning: {line}")
    if json_:
        echo_json(report.to_dict())
    else:
        _render_report(report)


vectorize_command = alias_of(index_command, "vectorize", "planvec vectorize docs/plans")


@click.command("search", context_settings=CONTEXT_SETTINGS)
@click.argument("query")
@store_options
@embedder_option
@click.option(
    "--plan",
    default=None,
    help="Only this plan, the plans under this folder (phase-2) or matching a glob ('*v5*').",
)
@click.option(
    "--status",
    type=click.Choice(["todo", "done", "in_progress", "cancelled", "item"]),
    default=None,
    help="Only tasks with this status.",
)
@click.option("--section", default=None, help="Only tasks whose section path has these words.")
@click.option("--priority", default=None, help="Only tasks with this priority (P0..P3).")
@click.option("--limit", "-n", type=click.IntRange(1, 1000), default=10, show_default=True,
              help="How many hits to return.")  # fmt: skip
@click.option(
    "--mode",
    type=click.Choice(SEARCH_MODES),
    default="hybrid",
    show_default=True,
    help="hybrid = dense model + lexical BM25, fused.",
)
@click.option(
    "--collapse/--no-collapse",
    default=True,
    show_default=True,
    help="Show tasks of identical text as one hit listing its other locations.",
)
@click.option(
    "--kind",
    "kinds",
    multiple=True,
    metavar="KIND",
    help="What to search: task (plans, the default), dependency, config, schema, policy "
    "(the kinds of `planvec managers list`); repeat or comma-separate to search several, "
    "hits merged by score.",
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
    collapse: bool,
    kinds: tuple[str, ...],
    json_: bool,
    **opts: Any,
) -> None:
    """Search the indexed tasks by meaning and by words, in French or English.

    With --kind, search what the managers indexed (dependencies, configuration keys,
    schemas, policies) instead of, or beside, the plans (see docs/managers.md).

    \b
    Example:
      planvec search "sauvegarde de la base de données"
      planvec search "write API docs" --status todo --plan phase-2 --json
      planvec search "http client" --kind dependency,task
    """
    settings = settings_from(**opts)
    filters = {"plan": plan, "status": status, "section": section, "priority": priority}
    hits: list[Any] | None
    if kinds and _kinds(kinds) != ["task"]:
        hits = _search_kinds(settings, _kinds(kinds), query, limit, mode, collapse, filters)
    else:
        hits = owner.routed_search(
            settings, query, limit=limit, mode=mode, collapse=collapse, **filters
        )
    if hits is None:  # no owner serves this index: open it here

        def run() -> list[Any]:
            from planvec.index import open_index

            with open_index(settings) as index:
                return index.search(query, limit=limit, mode=mode, collapse=collapse, **filters)

        hits = owner.wait_if_held(run)
    if json_:
        echo_json([hit.to_dict() for hit in hits])
        return
    if not hits:
        click.echo("No matching task.")
        return
    for rank, hit in enumerate(hits, 1):
        _render_hit(rank, hit)


def _kinds(values: tuple[str, ...]) -> list[str]:
    from planvec.managers.search import parse_kinds

    return parse_kinds(values)


def _search_kinds(
    settings: Any,
    kinds: list[str],
    query: str,
    limit: int,
    mode: str,
    collapse: bool,
    filters: dict[str, Any],
) -> list[Any]:
    """``search --kind``: the collections of several kinds, in this process."""
    from planvec.managers.search import search_kinds

    return owner.wait_if_held(
        lambda: search_kinds(
            settings, kinds, query, limit=limit, mode=mode, collapse=collapse, **filters
        )
    )


#: Longest task text (characters) shown by the human output of ``search``; --json has it all.
SHOWN_TEXT = 240


def shorten(text: str, width: int) -> str:
    """``text`` cut at a word boundary to at most ``width`` characters, with an ellipsis."""
    if len(text) <= width:
        return text
    cut = text[: width - 1]
    space = cut.rfind(" ")
    return (cut[:space] if space > width // 2 else cut).rstrip() + "…"


def _render_hit(rank: int, hit: SearchHit) -> None:
    section_path = shorten(" > ".join(hit.section), 120)
    label = hit.status if hit.kind == "task" else hit.kind
    click.echo(f"{rank:>2}. {hit.score:.3f}  {hit.plan}:{hit.line}  [{label}]  {section_path}")
    click.echo(f"      {shorten(hit.text, SHOWN_TEXT)}")
    if hit.also_in:
        shown = ", ".join(f"{loc.plan}:{loc.line}" for loc in hit.also_in[:3])
        more = f" and {len(hit.also_in) - 3} more" if len(hit.also_in) > 3 else ""
        click.echo(f"      also in {shown}{more}")


COMMANDS = [index_command, vectorize_command, search_command]
