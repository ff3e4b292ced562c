"""The dependency manager: manifests of several ecosystems -> ``planvec_dependencies``.

One item per (manifest, dependency): its name, ecosystem, constraint, resolved version
(from the lock file beside the manifest when there is one), manifest path and line. After
each sync, ``analyse`` reports conflicts (``conflicts.py``) over everything indexed; a
dependency added since the last run is announced as an event by the orchestrator.
Links between dependencies and plan tasks: ``links.py`` (``planvec deps links``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from planvec.hookspecs import hookimpl
from planvec.managers.base import Finding, ManagerInputs
from planvec.managers.dependencies.conflicts import Declared, find_conflicts
from planvec.managers.dependencies.manifests import Dependency, is_manifest, read_manifest
from planvec.managers.items import FileItemSource, Item, discover_files
from planvec.sources.base import Source

if TYPE_CHECKING:
    from planvec.index import Index
    from planvec.sync_report import SyncReport

KIND = "dependency"
COLLECTION = "planvec_dependencies"


def dependency_text(dep: Dependency, manifest: str) -> str:
    """The line that is embedded and shown by search for ``dep``."""
    head = f"{dep.name} {dep.constraint}".strip()
    resolved = f", resolved {dep.resolved}" if dep.resolved else ""
    return f"{head} ({dep.ecosystem} dependency, {dep.group}) in {manifest}{resolved}"


def manifest_items(path: Path, text: str, name: str) -> tuple[list[Item], list[str]]:
    """The items of one manifest (the parser of the manager's ``FileItemSource``)."""
    deps, warnings = read_manifest(path, text)
    items = [
        Item(
            key=dep.key,
            line=dep.line,
            text=dependency_text(dep, name),
            section=(name, dep.group),
            metadata={
                "name": dep.name,
                "ecosystem": dep.ecosystem,
                "constraint": dep.constraint,
                "spec": dep.spec,
                "resolved": dep.resolved,
                "group": dep.group,
                "manifest": name,
            },
        )
        for dep in deps
    ]
    return items, warnings


class DependencyManager:
    """Manifests -> dependency items; conflicts after each sync. See the module docstring."""

    name = "dependencies"
    kind = KIND
    collection = COLLECTION
    order = 10
    #: the orchestrator reports items added since the last run as events
    announces_additions = True

    def source(self, inputs: ManagerInputs) -> Source:
        return FileItemSource(KIND, discover_files(inputs.paths, is_manifest), manifest_items)

    def analyse(self, index: Index, report: SyncReport, inputs: ManagerInputs) -> Sequence[Finding]:
        return find_conflicts(indexed_dependencies(index), manager=self.name)


def indexed_dependencies(index: Index) -> list[Declared]:
    """Every dependency stored in ``index`` (the dependency collection)."""
    found = []
    for point in index.points.scroll(with_payload=("plan", "line", "metadata")):
        declared = Declared.from_payload(str(point.id), point.payload)
        if declared is not None:
            found.append(declared)
    return found


@hookimpl
def register_managers(register: Callable[..., None]) -> None:
    register(DependencyManager())
