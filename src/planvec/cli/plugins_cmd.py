"""``planvec plugins``: which plugins are loaded, and what they add."""

from __future__ import annotations

import click

from planvec.cli.common import CONTEXT_SETTINGS, echo_json, handle_errors, json_option


@click.command("plugins", context_settings=CONTEXT_SETTINGS)
@json_option
@handle_errors
def plugins(json_: bool) -> None:
    """List the loaded plugins (planvec's own first), their hooks, sources, embedders, managers.

    PLANVEC_PLUGINS restricts loading: unset loads every installed plugin, an empty
    value none, a comma-separated list only those distributions or entry points.

    \b
    Example:
      planvec plugins
      PLANVEC_PLUGINS= planvec plugins --json
    """
    from planvec.managers.registry import all_managers
    from planvec.plugins import loaded_plugins, registry

    reg = registry()
    managers = [m.name for m in all_managers()]  # registers planvec's own managers first
    listed = [p.to_dict() for p in loaded_plugins()]
    if json_:
        echo_json(
            {
                "plugins": listed,
                "sources": list(reg.sources),
                "embedders": list(reg.embedders),
                "managers": managers,
            }
        )
        return
    for plugin in listed:
        version = f" {plugin['version']}" if plugin["version"] else ""
        kind = " (built in)" if plugin["builtin"] else ""
        click.echo(f"{plugin['name']}{version}{kind}: {', '.join(plugin['hooks'])}")
    click.echo(f"sources: {', '.join(reg.sources)}")
    click.echo(f"embedders: {', '.join(reg.embedders)}")
    click.echo(f"managers: {', '.join(managers) or '(none)'}")


COMMANDS = [plugins]
