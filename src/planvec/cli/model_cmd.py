"""``planvec model prepare``: do the embedder's one-time work (the ONNX export) now."""

from __future__ import annotations

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
)


@click.group("model", context_settings=CONTEXT_SETTINGS)
def model_group() -> None:
    """The embedding model: prepare it ahead of a first index.

    \b
    Example:
      planvec model prepare
    """


@model_group.command("prepare", context_settings=CONTEXT_SETTINGS)
@embedder_option
@click.option(
    "--config",
    "config_file",
    type=click.Path(path_type=Path, dir_okay=False, exists=True),
    default=None,
    help="TOML config file (default ./planvec.toml). Env PLANVEC_CONFIG.",
)
@json_option
@handle_errors
def prepare_command(json_: bool, **opts: Any) -> None:
    """Export and load the embedding model once, so that no index run waits for it.

    The default ONNX backend exports its model from the bundled weights through torch on
    first use (~15 s); `make demo` runs this step first. Idempotent: a model already
    exported is only loaded and checked.

    \b
    Example:
      planvec model prepare
      planvec model prepare --embedder onnx-int8 --json
    """
    from planvec.embed.prepare import prepare_model

    settings = settings_from(**opts)
    name = settings.embedder
    if not json_:
        err(f"preparing the {name} embedder (an ONNX export takes ~15 s, once)...")
    prepared = prepare_model(name, settings.cache_dir)
    if json_:
        echo_json(prepared.to_dict())
        return
    done = "exported" if prepared.exported else "ready"
    where = f" at {prepared.path}" if prepared.path else ""
    click.echo(f"{prepared.model_id} {done}{where} ({prepared.seconds:.1f}s)")


COMMANDS = [model_group]
