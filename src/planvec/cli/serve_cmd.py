"""``planvec serve``: run the process that owns the index (HTTP API, watch, metrics)."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import click

from planvec.cli.common import (
    CONTEXT_SETTINGS,
    embedder_option,
    handle_errors,
    settings_from,
    store_options,
)
from planvec.errors import ConfigError


@click.command("serve", context_settings=CONTEXT_SETTINGS)
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path, exists=True))
@store_options
@embedder_option
@click.option(
    "--host", default="127.0.0.1", show_default=True, envvar="PLANVEC_SERVE_HOST",
    help="Address to bind; anything but loopback needs PLANVEC_API_TOKEN.",
)  # fmt: skip
@click.option(
    "--port", type=click.IntRange(0, 65535), default=0, envvar="PLANVEC_SERVE_PORT",
    help="TCP port (default 0: any free port; clients find it in the discovery file).",
)  # fmt: skip
@click.option("--watch", is_flag=True, help="Follow PATHS and sync on every change.")
@click.option("--read-only", is_flag=True, help="Never write (a read replica of a server).")
@click.option(
    "--debounce", type=click.FloatRange(0.05, 60), default=0.4, show_default=True,
    help="Seconds of quiet after a change before a --watch sync.",
)  # fmt: skip
@click.option(
    "--quality-interval", type=click.FloatRange(0), default=0.0, show_default=True,
    envvar="PLANVEC_QUALITY_INTERVAL", help="Seconds between quality runs (0: never).",
)  # fmt: skip
@click.option(
    "--quality-threshold", type=click.FloatRange(0, 1), default=0.05, show_default=True,
    help="A quality metric dropping more than this versus the baseline is drift.",
)  # fmt: skip
@click.option(
    "--webhook-url", default=None, envvar="PLANVEC_WEBHOOK_URL",
    help="POST a JSON alert here on quality drift.",
)  # fmt: skip
@click.option(
    "--managers", "manager_paths", multiple=True, type=click.Path(path_type=Path, exists=True),
    help="Project directory the managers scan (POST /managers/run; with --watch a changed "
    "manifest re-runs the dependency manager). Repeatable.",
)  # fmt: skip
@click.option(
    "--idle-timeout", type=click.FloatRange(0), default=None,
    help="Exit after this many seconds without a request.",
)  # fmt: skip
@handle_errors
def serve_command(
    paths: tuple[Path, ...],
    host: str,
    port: int,
    watch: bool,
    read_only: bool,
    debounce: float,
    quality_interval: float,
    quality_threshold: float,
    webhook_url: str | None,
    idle_timeout: float | None,
    manager_paths: tuple[Path, ...],
    **opts: Any,
) -> None:
    """Own the index: serve searches, syncs and checks to many clients over HTTP.

    One process holds the index, the warm model and the cache; `planvec search/index/
    check/health/quality` on the same index become its clients (same output). Listens on
    127.0.0.1 by default; any other address needs PLANVEC_API_TOKEN (clients send
    'Authorization: Bearer TOKEN'). With PATHS, syncs them at start (and on change with
    --watch). API: /search /tasks/{id} /plans /sync /check /quality /readyz /metrics,
    OpenAPI at /docs. Stop with SIGTERM or Ctrl-C: a running sync stops at a safe point.

    \b
    Example:
      planvec serve docs/plans --watch
      planvec serve docs/plans --watch --managers .
      PLANVEC_API_TOKEN=s3cret planvec serve --host 0.0.0.0 --port 8765
    """
    import os

    try:
        from planvec.service.config import ServiceSettings
        from planvec.service.runner import serve
    except ImportError as exc:
        raise ConfigError(
            f"planvec serve needs the `serve` extra ({exc.name} is missing): "
            "pip install 'planvec[serve]'"
        ) from exc
    settings = settings_from(**opts)
    config = ServiceSettings(
        index=settings,
        paths=tuple(p.resolve() for p in paths),
        host=host,
        port=port,
        token=os.environ.get("PLANVEC_API_TOKEN") or None,
        watch=watch,
        read_only=read_only,
        debounce=debounce,
        quality_interval=quality_interval,
        quality_threshold=quality_threshold,
        webhook_url=webhook_url,
        idle_timeout=idle_timeout or None,
        manager_paths=tuple(p.resolve() for p in manager_paths),
    )
    level = logging.getLogger().getEffectiveLevel()
    raise SystemExit(serve(config, log_level=logging.getLevelName(level).lower()))


COMMANDS = [serve_command]
