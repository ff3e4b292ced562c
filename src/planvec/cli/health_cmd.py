"""``planvec health``: is the vector store reachable and the index there?"""

from __future__ import annotations

from pathlib import Path

import click

from planvec.cli.common import (
    CONTEXT_SETTINGS,
    echo_json,
    err,
    handle_errors,
    json_option,
    settings_from,
    store_options,
)


@click.command("health", context_settings=CONTEXT_SETTINGS)
@store_options
@json_option
@handle_errors
def health(
    index_dir: Path | None,
    qdrant_url: str | None,
    collection: str | None,
    config_file: Path | None,
    json_: bool,
    timeout: float | None = None,
) -> None:
    """Check that the store answers and the index is sound; exit 1 if not.

    Opens the collection, compares its point count with the manifest, reads a sample of
    points whole (vectors and payloads), and reports a last sync that was interrupted.
    An index another process is writing is "busy" (exit 0). Reports the backend, its
    location (never the API key) and a summary of the index manifest.

    \b
    Example:
      planvec health --index .planvec
      planvec health --qdrant-url http://localhost:6333 --json
    """
    from planvec.cli import owner
    from planvec.wiring import store_health

    settings = settings_from(
        index_dir=index_dir, qdrant_url=qdrant_url, collection=collection, config_file=config_file,
        timeout=timeout,
    )  # fmt: skip
    report = owner.routed_health(settings) or owner.wait_if_held(lambda: store_health(settings))
    if json_:
        echo_json(report.to_dict())
    else:
        click.echo(f"{report.status}: {report.backend} store at {report.location}")
        click.echo(f"  reachable: {'yes' if report.reachable else 'no'}")
        present = "yes" if report.collection_present else "no"
        if report.busy and not report.collection_present:
            present = "busy (being written by another process)"
        click.echo(f"  collection {report.collection}: {present}")
        if report.collection_present:
            click.echo(
                f"  points: {report.points}  ({report.dimension}-d {report.distance},"
                f" hybrid {'on' if report.sparse else 'off'});"
                f" manifest counts {report.manifest_points}; {report.sampled} read back whole"
            )
        for key, value in (report.manifest or {}).items():
            click.echo(f"  manifest {key}: {value}")
        for warning in report.warnings:
            err(f"Warning: {warning}")
        for problem in report.problems:
            err(f"Error: {problem}")
    if not report.ok:
        raise SystemExit(1)


COMMANDS = [health]
