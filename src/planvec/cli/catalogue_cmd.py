"""``planvec catalogue sync`` and ``planvec catalogue migrate``: plans in PostgreSQL."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from planvec.cli.common import CONTEXT_SETTINGS, echo_json, err, handle_errors, json_option
from planvec.settings import load_settings


def _dsn_option(func: Any) -> Any:
    return click.option(
        "--dsn",
        default=None,
        help="PostgreSQL DSN or URL (postgresql://user@host/db). Env PLANVEC_CATALOGUE_DSN; "
        "prefer PGPASSWORD or ~/.pgpass to a password in the DSN.",
    )(func)


def _resolve_dsn(dsn: str | None) -> str:
    settings = load_settings(catalogue_dsn=dsn)
    if not settings.catalogue_dsn:
        raise click.UsageError("give --dsn or set PLANVEC_CATALOGUE_DSN")
    return settings.catalogue_dsn


@click.group("catalogue", context_settings=CONTEXT_SETTINGS)
def catalogue() -> None:
    """The planning catalogue: plans and tasks in PostgreSQL, statuses both ways.

    \b
    Example:
      planvec catalogue sync plans/ --dsn postgresql://app@db/roadmap
      planvec catalogue sync plans/ --dsn $DSN --write-back --dry-run
    """


@catalogue.command("sync", context_settings=CONTEXT_SETTINGS)
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@_dsn_option
@click.option(
    "--write-back",
    is_flag=True,
    help="Tick/untick in the Markdown the checkboxes whose status was changed in the database.",
)
@click.option(
    "--dry-run", is_flag=True, help="Show what would change (and the diffs); write nothing."
)
@click.option(
    "--prefer",
    type=click.Choice(["plan", "db"]),
    default=None,
    help="Settle conflicts (both sides changed) for this side; default: leave them for a person.",
)
@click.option("--keep-missing", is_flag=True, help="Keep plans that are no longer found.")
@click.option(
    "--root",
    type=click.Path(path_type=Path, file_okay=False),
    default=None,
    help="Name plans relative to this directory, as the vector index does (its root), so plan"
    " names and task ids match the index's; default: relative to each PATH.",
)
@click.option(
    "--report",
    "report_file",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="Also write the report to this file (.json for JSON, else Markdown).",
)
@json_option
@handle_errors
def sync_cmd(
    paths: tuple[Path, ...],
    dsn: str | None,
    write_back: bool,
    dry_run: bool,
    prefer: str | None,
    keep_missing: bool,
    root: Path | None,
    report_file: Path | None,
    json_: bool,
) -> None:
    """Sync plans into the catalogue; write database status edits back on request.

    Exit code 0 when in step, 1 when a person must act (open conflicts, refused
    write-backs, unreadable files), 2 when it could not run.

    \b
    Example:
      planvec catalogue sync plans/ --dsn postgresql://app@localhost/roadmap
      planvec catalogue sync plans/ --write-back --prefer db --report conflicts.md
    """
    from planvec.catalogue import sync_catalogue

    report = sync_catalogue(
        _resolve_dsn(dsn),
        list(paths),
        write_back=write_back,
        dry_run=dry_run,
        prefer=prefer,  # type: ignore[arg-type]  # click.Choice restricts the values
        delete_missing=not keep_missing,
        root=root,
    )
    if report_file is not None:
        data = report.to_dict()
        text = json.dumps(data, ensure_ascii=False, indent=2) + "\n"
        is_json = report_file.suffix.lower() == ".json"
        report_file.write_text(text if is_json else report.to_markdown(), encoding="utf-8")
    if json_:
        echo_json(report.to_dict())
    else:
        click.echo(report.to_markdown(), nl=False)
    if report.needs_attention:
        err("Some changes need a person: see the report above.")
        sys.exit(1)


@catalogue.command("migrate", context_settings=CONTEXT_SETTINGS)
@_dsn_option
@click.option("--to", "target", type=int, default=None, help="Stop at this schema version.")
@json_option
@handle_errors
def migrate_cmd(dsn: str | None, target: int | None, json_: bool) -> None:
    """Create or upgrade the catalogue's tables and views (numbered migrations).

    \b
    Example:
      planvec catalogue migrate --dsn postgresql://app@localhost/roadmap
    """
    from planvec.catalogue import connect, migrate, schema_version

    with connect(_resolve_dsn(dsn)) as conn:
        applied = migrate(conn, target)
        version = schema_version(conn)
    if json_:
        echo_json({"applied": applied, "schema_version": version})
    else:
        done = ", ".join(map(str, applied)) if applied else "none (up to date)"
        click.echo(f"Catalogue schema at version {version}; applied: {done}.")


COMMANDS = [catalogue]
