"""Links between dependencies and plan tasks, both ways (``planvec deps links``).

A task is linked to a dependency when its text names the dependency (the name, or the last
segment of a Go module path, as a whole word, case-insensitive) or when it is a semantic
neighbour: the dense (cosine) score of the task against the dependency's indexed text is at
least ``threshold``. ``DEFAULT_THRESHOLD`` (0.5) is a cosine of the embedding model
(all-MiniLM-L6-v2): below it neighbours are mostly unrelated; the hashing embedder of tests
gives no semantic neighbours worth the name, so tests pass their own threshold.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from typing import Any

from planvec.errors import ConfigError
from planvec.managers.dependencies import COLLECTION, indexed_dependencies
from planvec.managers.dependencies.conflicts import Declared
from planvec.settings import Settings
from planvec.wiring import open_index

#: Smallest dense cosine for a semantic link (all-MiniLM-L6-v2); ``--threshold`` changes it.
DEFAULT_THRESHOLD = 0.5
#: Semantic neighbours examined per query.
NEIGHBOURS = 20


@dataclass(frozen=True)
class Link:
    """One task <-> dependency link and why it holds (``name`` or ``semantic``)."""

    dependency: str
    ecosystem: str
    manifest: str
    task_id: str
    plan: str
    line: int
    text: str
    how: str
    score: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "dependency": self.dependency,
            "ecosystem": self.ecosystem,
            "manifest": self.manifest,
            "task": {"id": self.task_id, "plan": self.plan, "line": self.line, "text": self.text},
            "how": self.how,
            "score": None if self.score is None else round(self.score, 4),
        }


def name_pattern(name: str) -> re.Pattern[str]:
    """Whole-word, case-insensitive match of a dependency's name (or its last path part)."""
    names = {name, name.rsplit("/", 1)[-1]} - {""}
    alternatives = "|".join(re.escape(n) for n in sorted(names, key=len, reverse=True))
    return re.compile(rf"(?<![\w.-])(?:{alternatives})(?![\w-])", re.IGNORECASE)


def dependency_links(
    settings: Settings,
    name: str | None = None,
    *,
    threshold: float = DEFAULT_THRESHOLD,
    opener: Callable[..., Any] = open_index,
) -> list[Link]:
    """The plan tasks linked to dependency ``name`` (every dependency when ``None``).

    Raises:
        ConfigError: no indexed dependency is called ``name``.
    """
    with opener(replace(settings, collection=COLLECTION)) as deps_index:
        declared = indexed_dependencies(deps_index)
    if name is not None:
        declared = [d for d in declared if d.name.lower() == name.lower()]
        if not declared:
            raise ConfigError(
                f"no indexed dependency is called {name!r}: run `planvec managers run PATH`, "
                "or see `planvec search NAME --kind dependency`"
            )
    first: dict[str, Declared] = {}
    for dep in declared:
        first.setdefault(dep.name, dep)
    links: list[Link] = []
    with opener(settings) as tasks:
        texts = [(str(p.id), p.payload) for p in tasks.points.scroll(with_payload=_TASK_FIELDS)]
        for dep in first.values():
            links.extend(_by_name(dep, texts))
            named = {link.task_id for link in links if link.dependency == dep.name}
            hits = tasks.search(_query(dep), limit=NEIGHBOURS, mode="dense", collapse=False)
            links.extend(
                _link(dep, hit.id, hit.payload, "semantic", hit.score)
                for hit in hits
                if hit.score >= threshold and hit.id not in named
            )
    return links


def task_links(
    settings: Settings,
    task_id: str,
    *,
    threshold: float = DEFAULT_THRESHOLD,
    opener: Callable[..., Any] = open_index,
) -> list[Link]:
    """The dependencies linked to plan task ``task_id`` (its id, or ``PLAN:LINE``).

    Raises:
        ConfigError: no task has this id.
    """
    with opener(settings) as tasks:
        task_id, payload = _find_task(tasks, task_id)
    text = str(payload.get("text", ""))
    links: list[Link] = []
    with opener(replace(settings, collection=COLLECTION)) as deps_index:
        declared = indexed_dependencies(deps_index)
        named = set()
        for dep in declared:
            if dep.name not in named and name_pattern(dep.name).search(text):
                named.add(dep.name)
                links.append(_link(dep, task_id, payload, "name"))
        by_id = {d.id: d for d in declared}
        for hit in deps_index.search(text, limit=NEIGHBOURS, mode="dense", collapse=False):
            near = by_id.get(hit.id)
            if near is not None and hit.score >= threshold and near.name not in named:
                named.add(near.name)
                links.append(_link(near, task_id, payload, "semantic", hit.score))
    return links


_TASK_FIELDS = ("text", "plan", "line")


def _query(dep: Declared) -> str:
    return f"{dep.name} ({dep.ecosystem} package)"


def _by_name(dep: Declared, texts: Iterable[tuple[str, dict[str, Any]]]) -> list[Link]:
    pattern = name_pattern(dep.name)
    return [
        _link(dep, point_id, payload, "name")
        for point_id, payload in texts
        if pattern.search(str(payload.get("text", "")))
    ]


def _link(dep: Declared, task_id: str, payload: Any, how: str, score: float | None = None) -> Link:
    return Link(
        dependency=dep.name,
        ecosystem=dep.ecosystem,
        manifest=dep.manifest,
        task_id=task_id,
        plan=str(payload.get("plan", "")),
        line=int(payload.get("line") or 0),
        text=str(payload.get("text", "")),
        how=how,
        score=score,
    )


def _find_task(tasks: Any, wanted: str) -> tuple[str, dict[str, Any]]:
    """The task ``wanted`` (a point id or ``PLAN:LINE``) and its payload."""
    plan, _, line = wanted.rpartition(":")
    for point in tasks.points.scroll(with_payload=_TASK_FIELDS):
        payload = point.payload
        if str(point.id) == wanted or (
            plan
            and line.isdigit()
            and payload.get("plan") == plan
            and payload.get("line") == int(line)
        ):
            return str(point.id), payload
    raise ConfigError(
        f"no plan task {wanted!r}: give its id (`planvec search --json`) or PLAN:LINE"
    )
