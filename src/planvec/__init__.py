"""planvec: Markdown project plans -> a searchable, always-correct Qdrant vector index.

The public API is small: open an index from settings, sync it from sources, search it::

    from planvec import load_settings, open_index

    with open_index(load_settings(index_dir=".planvec"), write=True) as index:
        index.sync(index.source(["plans/"]))
        hits = index.search("sauvegarde de la base", status="todo")
"""

from __future__ import annotations

from planvec.errors import (
    CollectionNotFound,
    ConfigError,
    DeleteRefused,
    EmbedError,
    IndexDamaged,
    IndexLocked,
    IndexMismatch,
    PlanvecError,
    SourceError,
    StoreError,
    StoreUnavailable,
)
from planvec.index import Index, open_index, sources_for
from planvec.records import Plan, SearchHit, Task
from planvec.settings import Settings, load_settings
from planvec.sync import SyncReport

__version__ = "0.1.0"

__all__ = [
    "CollectionNotFound",
    "ConfigError",
    "DeleteRefused",
    "EmbedError",
    "Index",
    "IndexDamaged",
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
