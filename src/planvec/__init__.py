"""planvec: Markdown project plans -> a searchable, always-correct Qdrant vector index.

The public API is small: open an index from settings, sync it from sources, search it::

    from planvec import load_settings, open_index, sources_for

    with open_index(load_settings(index_dir=".planvec"), write=True) as index:
        index.sync(sources_for(["plans/"]))
        hits = index.search("sauvegarde de la base", status="todo")
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from planvec.errors import (
    CollectionNotFound,
    ConfigError,
    EmbedError,
    IndexLocked,
    IndexMismatch,
    PlanvecError,
    SourceError,
    StoreError,
    StoreUnavailable,
)
from planvec.records import Plan, SearchHit, Task
from planvec.settings import Settings, load_settings

if TYPE_CHECKING:
    from planvec.index import Index, open_index, sources_for
    from planvec.sync import SyncReport

#: Names whose modules import numpy and the store: loaded on first use, so that a CLI call
#: answered by a running owner (``planvec serve``) never pays for them.
_LAZY = {
    "Index": "planvec.index",
    "open_index": "planvec.index",
    "sources_for": "planvec.index",
    "SyncReport": "planvec.sync",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'planvec' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


__version__ = "0.1.0"

__all__ = [
    "CollectionNotFound",
    "ConfigError",
    "EmbedError",
    "Index",
    "IndexLocked",
    "IndexMismatch",
    "Plan",
    "PlanvecError",
    "SearchHit",
    "Settings",
    "SourceError",
    "StoreError",
    "StoreUnavailable",
    "SyncReport",
    "Task",
    "__version__",
    "load_settings",
    "open_index",
    "sources_for",
]
