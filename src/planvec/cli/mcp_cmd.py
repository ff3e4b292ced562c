"""``planvec mcp``: serve the plans, their progress and the index to AI assistants (MCP)."""

from __future__ import annotations

import functools
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


@click.command("mcp", context_settings=CONTEXT_SETTINGS)
@store_options
@embedder_option
@click.option(
    "--transport", type=click.Choice(["stdio", "http"]), default="stdio", show_default=True,
    help="stdio: the client starts this command; http: Streamable HTTP at http://HOST:PORT/mcp.",
)  # fmt: skip
@click.option(
    "--host", default="127.0.0.1", show_default=True,
    help="Address of the http transport (loopback only: it has no authentication).",
)  # fmt: skip
@click.option(
    "--port", type=click.IntRange(1, 65535), default=8766, show_default=True,
    help="TCP port of the http transport.",
)  # fmt: skip
@click.option(
    "--allow-write", is_flag=True,
    help="Offer the sync tool (writes the index); without it every tool is read-only.",
)  # fmt: skip
@handle_errors
def mcp_command(transport: str, host: str, port: int, allow_write: bool, **opts: Any) -> None:
    """Serve the plans to AI assistants over MCP (Model Context Protocol).

    Tools: search_tasks, get_task, plan_progress, list_plans, find_similar_tasks,
    check_index, and sync with --allow-write; each indexed plan is a resource
    plan://PLAN (its Markdown). Talks to the running owner (`planvec serve`) when there is
    one; otherwise opens the index for each call, so `planvec index` can run meanwhile.
    Logs go to stderr (stdout is the protocol with --transport stdio). See docs/mcp.md.

    \b
    Example:
      planvec mcp --index .planvec                  # for a client that starts it (stdio)
      planvec mcp --transport http --port 8766      # http://127.0.0.1:8766/mcp
    """
    from planvec.cli import owner
    from planvec.mcp.backend import PlanBackend
    from planvec.mcp.run import check_host, run_server

    if transport == "http":
        check_host(host)
    settings = settings_from(**opts)
    backend = PlanBackend(
        settings,
        owner_call=functools.partial(owner.call, settings),
        wait=owner.wait_if_held,
        allow_write=allow_write,
    )
    try:
        import mcp.server.mcpserver  # noqa: F401  (the SDK: a clear error when it is missing)
    except ImportError as exc:
        raise ConfigError(
            "planvec mcp needs the `mcp` extra (the MCP SDK is missing): pip install 'planvec[mcp]'"
        ) from exc
    run_server(backend, transport=transport, host=host, port=port)


COMMANDS = [mcp_command]
