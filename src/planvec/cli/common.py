"""Shared CLI plumbing: option decorators, settings from flags/env, error rendering.

Commands stay thin: parse options, call one library function, render the result.
JSON goes to stdout; progress and logs go to stderr.
"""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from planvec.errors import PlanvecError
from planvec.settings import Settings, known_embedders, load_settings

F = TypeVar("F", bound=Callable[..., Any])

CONTEXT_SETTINGS = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


def json_option(func: F) -> F:
    """``--json``: machine-readable output on stdout."""
    return click.option("--json", "json_", is_flag=True, help="Print JSON on stdout.")(func)


def store_options(func: F) -> F:
    """``--index``, ``--qdrant-url``, ``--collection``, ``--config``: where the index lives."""
    options = [
        click.option(
            "--index",
            "index_dir",
            type=click.Path(path_type=Path, file_okay=False),
            default=None,
            help="Directory of the embedded index (default .planvec). Env PLANVEC_INDEX_DIR.",
        ),
        click.option(
            "--qdrant-url",
            default=None,
            help="Use a Qdrant server/cluster (http(s)://...) or memory://. "
            "API key from PLANVEC_API_KEY or QDRANT_API_KEY. Env PLANVEC_QDRANT_URL.",
        ),
        click.option(
            "--collection",
            default=None,
            help="Collection name (default planvec_tasks). Env PLANVEC_COLLECTION.",
        ),
        click.option(
            "--config",
            "config_file",
            type=click.Path(path_type=Path, dir_okay=False, exists=True),
            default=None,
            help="TOML config file (default ./planvec.toml). Env PLANVEC_CONFIG.",
        ),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def embedder_option(func: F) -> F:
    """``--embedder`` and ``--offline``: which model embeds text."""
    func = click.option(
        "--offline",
        is_flag=True,
        default=False,
        help="Use the deterministic hashing embedder (no model; for tests and quick runs).",
    )(func)
    return click.option(
        "--embedder",
        type=click.Choice(known_embedders()),
        default=None,
        help="Embedding backend (default auto: ONNX Runtime fp32). Env PLANVEC_EMBEDDER.",
    )(func)


def settings_from(
    index_dir: Path | None = None,
    qdrant_url: str | None = None,
    collection: str | None = None,
    config_file: Path | None = None,
    embedder: str | None = None,
    offline: bool = False,
    **extra: Any,
) -> Settings:
    """Settings for this invocation: flags over env over config file over defaults."""
    return load_settings(
        config_file=config_file,
        index_dir=index_dir,
        qdrant_url=qdrant_url,
        collection=collection,
        embedder="hashing" if offline else embedder,
        **extra,
    )


def alias_of(command: click.Command, name: str, example: str) -> click.Command:
    """A command ``name`` that runs ``command`` (same options), e.g. legacy script names."""
    return click.Command(
        name,
        context_settings=CONTEXT_SETTINGS,
        callback=command.callback,
        params=command.params,
        help=f"Alias of `planvec {command.name}`.\n\n\b\nExample:\n  {example}",
    )


def echo_json(value: Any) -> None:
    """Print one JSON document on stdout."""
    click.echo(json.dumps(value, ensure_ascii=False, indent=None, default=str))


def err(message: str) -> None:
    """Print a message on stderr."""
    click.echo(message, err=True)


def handle_errors(func: F) -> F:
    """Render ``PlanvecError`` as ``Error: message`` on stderr with its exit code; no traceback."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except PlanvecError as exc:
            err(f"Error: {exc}")
            sys.exit(exc.exit_code)
        except KeyboardInterrupt:
            err("Interrupted: nothing half-written is reported as done; rerun to resume.")
            sys.exit(130)
        except BrokenPipeError:
            sys.exit(0)

    return wrapper  # type: ignore[return-value]
