"""The plugin hooks of planvec (pluggy, project name ``planvec``).

A plugin is a module (or object) with functions decorated by ``hookimpl``, named after the
hooks below, and published under the entry-point group ``planvec``::

    [project.entry-points.planvec]
    my_plugin = "my_package.plugin"

Each hook receives a ``register`` callback (the style of simonw/llm): a plugin calls it once
per thing it adds. planvec's own Markdown source and embedders register through the same
hooks (``planvec.builtin_plugins``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pluggy

hookspec = pluggy.HookspecMarker("planvec")
hookimpl = pluggy.HookimplMarker("planvec")


@hookspec
def register_sources(register: Callable[..., None]) -> None:
    """Add sources: ``register(name, factory)``.

    ``factory(paths: Sequence[Path]) -> Source`` builds a ``planvec.sources.base.Source``
    for the given paths.
    """


@hookspec
def register_embedders(register: Callable[..., None]) -> None:
    """Add embedders: ``register(name, factory)``.

    ``factory(cache_dir: Path) -> Embedder`` builds a ``planvec.embed.base.Embedder``; the
    name becomes a valid ``--embedder`` / ``PLANVEC_EMBEDDER`` value.
    """


@hookspec
def register_commands(cli: Any) -> None:
    """Add CLI commands to the root ``click.Group`` (``cli.add_command(...)``)."""


@hookspec
def register_managers(register: Callable[..., None]) -> None:
    """Add managers: ``register(manager)`` with a ``planvec.managers.base.Manager``.

    A manager indexes one kind of project artefact (dependencies, configuration files,
    database schemas, security policies) into its own collection through the same sync as
    plans; ``planvec managers run`` runs them in their declared ``order``.
    """
