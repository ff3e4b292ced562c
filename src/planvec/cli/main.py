"""The ``planvec`` command: a root group and one module per command group."""

from __future__ import annotations

import logging
import sys

import click

from planvec import __version__
from planvec.cli.common import CONTEXT_SETTINGS


@click.group(context_settings=CONTEXT_SETTINGS)
@click.version_option(__version__, "-V", "--version", prog_name="planvec")
@click.option("-v", "--verbose", count=True, help="More logs on stderr (-v info, -vv debug).")
def cli(verbose: int) -> None:
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


def _register() -> None:
    from planvec.cli import backup_cmds, check_cmds, health_cmd, index_cmds, parse_cmd, serve_cmd

    for module in (parse_cmd, index_cmds, health_cmd, check_cmds, backup_cmds, serve_cmd):
        for command in module.COMMANDS:
            cli.add_command(command)


_register()


def main() -> None:
    """Console-script entry point."""
    cli(prog_name="planvec")
