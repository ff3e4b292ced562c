"""Placeholder: replaced by the real command module."""

import click

COMMANDS: list[click.Command] = []
