"""Dependency conflicts: one package with incompatible constraints in two manifests."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from itertools import combinations
from typing import Any

from planvec.managers.base import Finding
from planvec.managers.dependencies.constraints import compatible


@dataclass(frozen=True)
class Declared:
    """One dependency as indexed: where it is declared and what it asks for."""

    id: str
    name: str
    ecosystem: str
    constraint: str
    spec: str
    manifest: str
    line: int
    resolved: str | None = None

    @classmethod
    def from_payload(cls, point_id: str, payload: Mapping[str, Any]) -> Declared | None:
        meta = payload.get("metadata") or {}
        if not isinstance(meta, Mapping) or "name" not in meta:
            return None
        return cls(
            id=point_id,
            name=str(meta["name"]),
            ecosystem=str(meta.get("ecosystem", "")),
            constraint=str(meta.get("constraint", "")),
            spec=str(meta.get("spec") or meta.get("constraint") or ""),
            manifest=str(payload.get("plan", "")),
            line=int(payload.get("line") or 0),
            resolved=meta.get("resolved"),
        )

    def where(self) -> str:
        return f"{self.manifest}:{self.line}"


def find_conflicts(declared: Iterable[Declared], manager: str = "dependencies") -> list[Finding]:
    """A finding per package whose constraints in two manifests admit no common version.

    Declarations inside one manifest (a dev and a runtime group) are compared too: the
    installer must satisfy both. Constraints that cannot be compared (a git or path
    source) are skipped, never reported as conflicts.
    """
    groups: dict[tuple[str, str], list[Declared]] = defaultdict(list)
    for dep in declared:
        groups[(dep.ecosystem, dep.name)].append(dep)
    findings = []
    for (ecosystem, name), deps in sorted(groups.items()):
        deps.sort(key=lambda d: (d.manifest, d.line))
        resolved = [d.resolved for d in deps if d.resolved]
        pairs = [
            (a, b)
            for a, b in combinations(deps, 2)
            if compatible(ecosystem, a.spec, b.spec, resolved) is False
        ]
        if pairs:
            findings.append(_finding(manager, ecosystem, name, pairs))
    return findings


def _finding(
    manager: str, ecosystem: str, name: str, pairs: list[tuple[Declared, Declared]]
) -> Finding:
    a, b = pairs[0]
    more = f" (and {len(pairs) - 1} more pair(s))" if len(pairs) > 1 else ""
    message = (
        f"{ecosystem} package {name!r}: {a.constraint or 'any'} at {a.where()} and "
        f"{b.constraint or 'any'} at {b.where()} admit no common version{more}; "
        "align the constraints"
    )
    ids = sorted({d.id for pair in pairs for d in pair})
    details = {
        "name": name,
        "ecosystem": ecosystem,
        "pairs": [
            [{"manifest": d.manifest, "line": d.line, "constraint": d.constraint} for d in pair]
            for pair in pairs
        ],
    }
    return Finding(
        manager=manager, kind="conflict", message=message, items=tuple(ids), details=details
    )
