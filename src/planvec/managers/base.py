"""The ``Manager`` contract: one more kind of thing to index, on the one plugin registry.

A manager is registered through the ``register_managers`` hook (``planvec.hookspecs``) and
owns one collection (``planvec_dependencies``, ``planvec_configs``, ``planvec_schemas``,
``planvec_policies``). It adds **no second pipeline**: ``source(inputs)`` returns an ordinary
``planvec.sources.base.Source`` whose ``Plan`` objects are the manager's files (a manifest, a
config file, a schema, a policy document) and whose ``Task`` records are its items (one
dependency, one key path, one column, one rule). The orchestrator syncs that source into the
manager's collection with the same ``Index.sync`` plans use, so crash safety, the deletion
guard, ``check``, ``export``/``import`` and the service apply unchanged.

Items as ``Task`` records:

- ``plan``: the file's path relative to the input root (POSIX), or ``postgres/<db>/<schema>``
  for an introspected schema; ``line``: 1-based line of the item in that file (1 when the
  format has no lines).
- ``text``: the human-readable line that is embedded and shown by search (secrets already
  redacted; nothing secret may reach ``text`` or ``metadata``).
- ``status``: ``"item"``; ``checked``: ``False``; ``depth``/``parent_line``/``parent_id``:
  nesting when the format has it, else ``0``/``None``.
- ``section``: the path to the item (e.g. ``("package.json", "devDependencies")``).
- ``key``: the item's stable name inside the file (the dependency name, the dotted key
  path, ``table.column``, the rule id): ids are ``point_id(kind, plan, key)`` so they survive
  edits that move lines.
- ``metadata``: ``{"kind": <manager kind>, ...}`` plus the manager's own fields (ecosystem,
  constraint, resolved version; value; type; severity...). The payload's ``kind`` comes from
  ``metadata["kind"]``.

After a successful sync the orchestrator calls ``analyse`` with the open index: the place for
conflicts (dependencies), anomalies (every manager) and classifications (security). One
manager raising never stops the others: the orchestrator records the failure in its report.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from planvec.records import STATUS_ITEM
from planvec.sources.base import Source

if TYPE_CHECKING:
    from planvec.index import Index
    from planvec.sync_report import SyncReport

#: ``Task.status`` of every manager item (plans use todo/done/in_progress/cancelled).
ITEM_STATUS = STATUS_ITEM


@dataclass(frozen=True)
class ManagerInputs:
    """What a managers run was given.

    ``paths``: project directories or files to scan (manifests, configs, policies);
    ``dsn``: a PostgreSQL DSN for schema introspection (never logged unredacted);
    ``options``: manager-specific settings by name (``"links_threshold"``...).
    """

    paths: tuple[Path, ...] = ()
    dsn: str | None = None
    options: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Finding:
    """Something a manager's analysis reports: a conflict, an anomaly, a classification.

    ``kind``: ``"conflict"``, ``"anomaly"``, ``"classification"``, ``"event"``...;
    ``message``: one sentence a person can act on; ``items``: the point ids or keys involved;
    ``details``: JSON-serializable specifics (constraints, distances, CWE ids and scores).
    """

    manager: str
    kind: str
    message: str
    items: tuple[str, ...] = ()
    details: Mapping[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "manager": self.manager,
            "kind": self.kind,
            "message": self.message,
            "items": list(self.items),
            "details": dict(self.details),
        }


@runtime_checkable
class Manager(Protocol):
    """One kind of project artefact indexed into its own collection. See the module docstring.

    ``name``: the name users type (``planvec managers run dependencies``); ``kind``: the
    payload ``kind`` and the ``planvec search --kind`` value; ``collection``: its collection;
    ``order``: managers run in ascending ``order`` (ties by name).
    """

    name: str
    kind: str
    collection: str
    order: int

    def source(self, inputs: ManagerInputs) -> Source:
        """The items of ``inputs`` as plans of tasks (never raises for one bad file).

        Raises:
            ConfigError: the inputs themselves are unusable (no path, no DSN when needed).
        """

    def analyse(self, index: Index, report: SyncReport, inputs: ManagerInputs) -> Sequence[Finding]:
        """Findings over the freshly synced collection (may be empty)."""
