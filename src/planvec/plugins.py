"""The plugin registry: pluggy, entry-point group ``planvec``, register callbacks.

``load_plugins(allow)`` loads the installed third-party plugins once per process (the CLI
calls it with ``PLANVEC_PLUGINS``: unset loads all, ``""`` none, ``"a,b"`` only those
distributions or entry points). planvec's own source and embedders (``builtin_plugins``)
are always registered, through the same hooks. ``make_source``/``make_embedder`` build
what a name refers to; ``loaded_plugins`` lists what is loaded (``planvec plugins``).
"""

from __future__ import annotations

import importlib.metadata
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pluggy

from planvec import builtin_plugins, hookspecs
from planvec.errors import ConfigError
from planvec.settings import allow_embedders
from planvec.sources.base import Source

if TYPE_CHECKING:  # numpy stays unimported until an embedder is built
    from planvec.embed.base import Embedder

log = logging.getLogger(__name__)

#: The entry-point group third-party plugins publish under.
ENTRY_POINT_GROUP = "planvec"

SourceFactory = Callable[[Sequence[Path]], Source]
EmbedderFactory = Callable[[Path], "Embedder"]


@dataclass(frozen=True)
class PluginInfo:
    """One loaded plugin: its name, distribution version and the hooks it implements."""

    name: str
    hooks: tuple[str, ...]
    version: str | None = None
    builtin: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "hooks": list(self.hooks),
            "version": self.version,
            "builtin": self.builtin,
        }


@dataclass
class Registry:
    """What the plugins registered, by name (the first registration of a name wins)."""

    sources: dict[str, SourceFactory] = field(default_factory=dict)
    embedders: dict[str, EmbedderFactory] = field(default_factory=dict)


class _State:
    """The process-wide plugin manager and its registry (built lazily)."""

    def __init__(self) -> None:
        self.pm = pluggy.PluginManager("planvec")
        self.pm.add_hookspecs(hookspecs)
        self.pm.register(builtin_plugins, name="planvec.builtin")
        self.versions: dict[str, str | None] = {}
        self.loaded = False
        self.registry: Registry | None = None


_STATE = _State()


def plugin_manager() -> pluggy.PluginManager:
    """The plugin manager (tests register fakes on it and unregister them)."""
    return _STATE.pm


def load_plugins(allow: str | None = None) -> None:
    """Load the third-party plugins of the ``planvec`` entry-point group, once.

    Args:
        allow: ``PLANVEC_PLUGINS``: ``None`` loads every installed plugin, ``""`` none,
            a comma-separated list only the distributions or entry points it names.

    A plugin that fails to import is skipped with a warning: it must not stop planvec.
    """
    if _STATE.loaded:
        return
    _STATE.loaded = True
    wanted = None if allow is None else {n.strip() for n in allow.split(",") if n.strip()}
    for entry in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
        dist = entry.dist
        names = {entry.name} | ({dist.name} if dist is not None else set())
        if wanted is not None and not names & wanted:
            continue
        if _STATE.pm.get_plugin(entry.name) is not None:
            continue
        try:
            module = entry.load()
            _STATE.pm.register(module, name=entry.name)
        except Exception as exc:  # a broken plugin is reported, never fatal
            log.warning("plugin %r could not be loaded: %s", entry.name, exc)
            continue
        _STATE.versions[entry.name] = dist.version if dist is not None else None
    _STATE.registry = None


def registry() -> Registry:
    """Everything the loaded plugins registered (built on first use)."""
    if _STATE.registry is None:
        reg = Registry()
        _STATE.pm.hook.register_sources(register=_adder(reg.sources, "source"))
        _STATE.pm.hook.register_embedders(register=_adder(reg.embedders, "embedder"))
        allow_embedders(reg.embedders)
        _STATE.registry = reg
    return _STATE.registry


def refresh() -> None:
    """Forget the registry (after registering or unregistering a plugin by hand)."""
    _STATE.registry = None


def _adder(target: dict[str, Any], kind: str) -> Callable[[str, Any], None]:
    def register(name: str, factory: Any) -> None:
        if name in target:
            log.warning("%s %r is registered twice: keeping the first", kind, name)
            return
        target[name] = factory

    return register


def make_source(name: str, paths: Sequence[Path]) -> Source:
    """The source called ``name`` over ``paths`` (``markdown`` is planvec's own)."""
    factories = registry().sources
    if name not in factories:
        raise ConfigError(f"unknown source {name!r}: choose one of {', '.join(factories)}")
    return factories[name](paths)


def make_embedder(name: str, cache_dir: Path) -> Embedder:
    """The embedder called ``name``; the model loads lazily (see ``planvec.embed.factory``)."""
    factories = registry().embedders
    if name not in factories:
        raise ConfigError(f"unknown embedder {name!r}: choose one of {', '.join(factories)}")
    return factories[name](cache_dir)


def register_commands(cli: Any) -> None:
    """Let every plugin add its commands to the root group ``cli``."""
    _STATE.pm.hook.register_commands(cli=cli)


def loaded_plugins() -> list[PluginInfo]:
    """Every registered plugin with the hooks it implements, planvec's own first."""
    out = []
    for name, plugin in _STATE.pm.list_name_plugin():
        hooks = tuple(sorted(h.name for h in _STATE.pm.get_hookcallers(plugin) or ()))
        # planvec's own: the builtin plugin and the builtin manager modules
        builtin = plugin is builtin_plugins or name.startswith("planvec.managers.")
        version = None if builtin else _STATE.versions.get(name)
        out.append(PluginInfo(name=name, hooks=hooks, version=version, builtin=builtin))
    return sorted(out, key=lambda p: (not p.builtin, p.name))
