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
) -> None:
    """Check that the store answers and the collection is present; exit 1 if not.

    Reports the backend, its location (never the API key), the point count and a summary
    of the index manifest.

    \b
    Example:
      planvec health --index .planvec
      planvec health --qdrant-url http://localhost:6333 --json
    """
    from planvec.cli import owner
    from planvec.store.health import health_report

    settings = settings_from(
        index_dir=index_dir, qdrant_url=qdrant_url, collection=collection, config_file=config_file
    )
    report = owner.routed_health(settings) or owner.wait_if_held(
        lambda: health_report(
            index_dir=settings.index_dir,
            collection=settings.collection,
            qdrant_url=settings.qdrant_url,
            api_key=settings.api_key,
            timeout=min(settings.timeout, 10.0),
            grpc=settings.grpc,
            verify_tls=settings.verify_tls,
        )
    )
    if json_:
        echo_json(report.to_dict())
    else:
        state = "ok" if report.ok else "UNHEALTHY"
        click.echo(f"{state}: {report.backend} store at {report.location}")
        click.echo(f"  reachable: {'yes' if report.reachable else 'no'}")
        present = "yes" if report.collection_present else "no"
        click.echo(f"  collection {report.collection}: {present}")
        if report.collection_present:
            click.echo(
                f"  points: {report.points}  ({report.dimension}-d {report.distance},"
                f" hybrid {'on' if report.sparse else 'off'})"
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
