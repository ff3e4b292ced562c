"""Aliases of the Edge backend: one ``aliases.json`` beside the collections.

See ``planvec.store.aliases`` (used by ``planvec migrate-model``).
"""

from __future__ import annotations

from planvec.errors import CollectionNotFound, StoreError
from planvec.store.edge_convert import (
    check_name,
    write_json_atomic,
)
from planvec.store.edge_shards import EdgeShards


class EdgeAliases(EdgeShards):
    """``AliasStore`` on Qdrant Edge: an alias file, replaced atomically."""

    def aliases(self) -> dict[str, str]:
        """``{alias: collection}`` from ``<index_dir>/collections/aliases.json``."""
        from planvec.store.aliases import read_alias_file

        return read_alias_file(self.root)

    def set_alias(self, alias: str, name: str) -> None:
        """Point ``alias`` at collection ``name`` (one atomic file replace).

        Unlike a server, an alias may shadow a collection directory of the same name: that
        is how an index created before aliases is switched without copying it.
        """
        from planvec.store.aliases import ALIAS_FILE, read_alias_file

        check_name(alias)
        if self._layout(name) is None:
            raise CollectionNotFound(f"cannot point alias {alias!r} at missing collection {name!r}")

        def run() -> None:
            with self._lock:
                mapping = read_alias_file(self.root)
                if name in mapping:
                    raise StoreError(f"{name!r} is an alias: point {alias!r} at a collection")
                mapping[alias] = name
                write_json_atomic(self.root / ALIAS_FILE, {"aliases": mapping})

        self._observe("set_alias", run, lambda _: 0)

    def delete_alias(self, alias: str) -> None:
        """Remove ``alias`` from the alias file (no error when missing)."""
        from planvec.store.aliases import ALIAS_FILE, read_alias_file

        def run() -> None:
            with self._lock:
                mapping = read_alias_file(self.root)
                if mapping.pop(alias, None) is not None:
                    write_json_atomic(self.root / ALIAS_FILE, {"aliases": mapping})

        self._observe("delete_alias", run, lambda _: 0)
