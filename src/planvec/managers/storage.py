"""The storage manager: configuration files (``planvec_configs``) and PostgreSQL schemas
(``planvec_schemas``), registered on the one plugin registry.

Two managers, because they own two collections and take different inputs (paths, a DSN):
``configs`` (``planvec.managers.configs``) and ``schemas`` (``planvec.managers.schemas``).
Both redact secrets with ``planvec.text.secrets`` before a record exists.
"""

from __future__ import annotations

from collections.abc import Callable

from planvec.hookspecs import hookimpl
from planvec.managers.configs import ConfigManager
from planvec.managers.schemas import SchemaManager

__all__ = ["ConfigManager", "SchemaManager", "register_managers"]


@hookimpl
def register_managers(register: Callable[..., None]) -> None:
    """Register the configuration and schema managers."""
    register(ConfigManager())
    register(SchemaManager())
