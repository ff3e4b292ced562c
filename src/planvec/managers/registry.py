"""The managers registry: every ``register_managers`` implementation, in declared order.

Managers come through the one plugin manager (``planvec.plugins.plugin_manager``):
third-party plugins by their entry point, planvec's own managers by the modules of
``BUILTIN_MANAGER_MODULES`` (each with a ``@hookimpl def register_managers(register)``),
registered on first use under their module name so that ``planvec plugins`` lists them.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Iterable, Sequence

from planvec.errors import ConfigError
from planvec.managers.base import Manager
from planvec.plugins import plugin_manager

log = logging.getLogger(__name__)

#: planvec's own managers, registered through the same hook as third-party ones.
BUILTIN_MANAGER_MODULES = (
    "planvec.managers.dependencies",
    "planvec.managers.storage",
    "planvec.managers.security",
)


def register_builtin_managers() -> None:
    """Register planvec's own manager modules on the plugin manager (once)."""
    pm = plugin_manager()
    for module_name in BUILTIN_MANAGER_MODULES:
        if pm.get_plugin(module_name) is None:
            pm.register(importlib.import_module(module_name), name=module_name)


def all_managers() -> list[Manager]:
    """Every registered manager, in run order (``order``, then name).

    A registration that is not a ``Manager`` or repeats a name is skipped with a warning
    (the first registration of a name wins), as for sources and embedders.
    """
    register_builtin_managers()
    found: dict[str, Manager] = {}

    def register(manager: object) -> None:
        if not isinstance(manager, Manager):
            log.warning("ignored a registered manager that lacks the Manager contract: %r", manager)
            return
        if manager.name in found:
            log.warning("manager %r is registered twice: keeping the first", manager.name)
            return
        found[manager.name] = manager

    plugin_manager().hook.register_managers(register=register)
    return sorted(found.values(), key=lambda m: (m.order, m.name))


def select_managers(names: Iterable[str] = ()) -> list[Manager]:
    """The managers called ``names`` (all of them when empty), in run order.

    Raises:
        ConfigError: a name is not registered (the message lists the known ones).
    """
    managers = all_managers()
    wanted = [n.strip() for n in names if n.strip()]
    if not wanted:
        return managers
    known = {m.name for m in managers}
    unknown = [n for n in wanted if n not in known]
    if unknown:
        raise ConfigError(
            f"unknown manager {', '.join(map(repr, unknown))}: choose among "
            f"{', '.join(sorted(known)) or '(none registered)'} (`planvec managers list`)"
        )
    return [m for m in managers if m.name in wanted]


def manager_for_kind(kind: str, managers: Sequence[Manager] | None = None) -> Manager | None:
    """The manager whose items have payload ``kind`` (``None`` for plan tasks)."""
    for manager in managers if managers is not None else all_managers():
        if manager.kind == kind:
            return manager
    return None
