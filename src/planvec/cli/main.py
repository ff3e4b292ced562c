"""The ``planvec`` command: a root group and one module per command group."""

from __future__ import annotations

import logging
import os
import sys

import click

from planvec import __version__
from planvec.cli.common import CONTEXT_SETTINGS
from planvec.redact import install_log_redaction


@click.group(context_settings=CONTEXT_SETTINGS)
@click.version_option(__version__, "-V", "--version", prog_name="planvec")
@click.option("-v", "--verbose", count=True, help="More logs on stderr (-v info, -vv debug).")
@click.pass_context
def cli(ctx: click.Context, verbose: int) -> None:
    """Turn Markdown project plans into a searchable, always-correct vector index.

    \b
    Example:
      planvec index docs/plans          # parse, embed, sync into .planvec/
      planvec search "sauvegarde de la base" --status todo
    """
    level = logging.WARNING - 10 * min(verbose, 2)
    logging.basicConfig(
        level=level, stream=sys.stderr, format="%(asctime)s %(levelname)s %(name)s %(message)s"
    )
    install_log_redaction()  # no password of a --qdrant-url in any log line
    ctx.ensure_object(dict)["verbose"] = verbose


def _register() -> None:
    from planvec import plugins

    # plugins first: their embedder names become valid --embedder choices of the commands
    # imported below (click fixes the choices when a command module is imported)
    plugins.load_plugins(os.environ.get("PLANVEC_PLUGINS"))
    plugins.registry()
    from planvec.cli import (
        backup_cmds,
        catalogue_cmd,
        check_cmds,
        health_cmd,
        index_cmds,
        managers_cmd,
        mcp_cmd,
        model_cmd,
        parse_cmd,
        plugins_cmd,
        security_cmd,
        serve_cmd,
    )

    commands = (parse_cmd, index_cmds, health_cmd, check_cmds, backup_cmds, catalogue_cmd,
                managers_cmd, security_cmd)  # fmt: skip
    for module in (*commands, serve_cmd, mcp_cmd, plugins_cmd, model_cmd):
        for command in module.COMMANDS:
            cli.add_command(command)
    plugins.register_commands(cli)


_register()


def main() -> None:
    """Console-script entry point."""
    cli(prog_name="planvec")
