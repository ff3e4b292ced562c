"""Manifest readers: one ``Dependency`` per (manifest, dependency), with its line.

Formats: ``requirements*.txt`` (PEP 508 lines), ``pyproject.toml`` (PEP 621
``[project]`` dependencies and optional dependencies, PEP 735 ``[dependency-groups]``,
Poetry ``[tool.poetry.*dependencies]``), ``package.json`` (+ ``package-lock.json`` beside it
for resolved versions), ``go.mod`` and ``Cargo.toml`` (+ ``Cargo.lock``). TOML is read with
the standard ``tomllib``, which gives no line numbers: a dependency's line is the first
line of its section that names it.
"""

from __future__ import annotations

import json
import re
import tomllib
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from planvec.managers.dependencies.constraints import poetry_to_pep440


@dataclass(frozen=True)
class Dependency:
    """One declared dependency of one manifest."""

    name: str
    ecosystem: str  # pypi, npm, go, cargo
    constraint: str  # as written ("" = any version)
    group: str  # dependencies, devDependencies, optional:docs, require...
    line: int
    resolved: str | None = None
    #: the constraint in the ecosystem's comparable syntax (Poetry's ^1.2 as PEP 440)
    spec: str | None = None

    @property
    def key(self) -> str:
        return f"{self.group}:{self.name}"


def is_manifest(path: Path) -> bool:
    """Whether ``path`` is a manifest this manager reads (lock files are read beside them)."""
    name = path.name
    if name in ("pyproject.toml", "package.json", "go.mod", "Cargo.toml"):
        return True
    return name.startswith("requirements") and name.endswith(".txt")


def read_manifest(path: Path, text: str) -> tuple[list[Dependency], list[str]]:
    """The dependencies declared in manifest ``path`` (whose content is ``text``).

    Raises:
        ValueError: the file is not valid for its format (bad TOML or JSON).
    """
    name = path.name
    if name == "pyproject.toml":
        return _pyproject(text)
    if name == "package.json":
        return _package_json(path, text)
    if name == "go.mod":
        return _go_mod(text)
    if name == "Cargo.toml":
        return _cargo(path, text)
    return _requirements(text)


# -- Python ---------------------------------------------------------------------------------


def _logical_lines(text: str) -> Iterator[tuple[int, str]]:
    """Lines of a requirements file with ``\\`` continuations joined, comments removed."""
    pending, start = "", 0
    for number, raw in enumerate(text.splitlines(), 1):
        line = re.sub(r"(^|\s)#.*$", "", raw).rstrip()
        if not pending:
            start = number
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        joined = (pending + line).strip()
        pending = ""
        if joined:
            yield start, joined


def _requirements(text: str) -> tuple[list[Dependency], list[str]]:
    deps, warnings = [], []
    for number, line in _logical_lines(text):
        if line.startswith("-"):  # options (-r, -c, -e, --index-url): not a dependency
            continue
        requirement = _requirement(line.split(" --", 1)[0].split(";", 1)[0].strip())
        if requirement is None:
            warnings.append(f"line {number}: not a PEP 508 requirement: {line!r}")
            continue
        deps.append(_pypi(requirement, "requirements", number, line))
    return deps, warnings


def _requirement(line: str) -> Requirement | None:
    try:
        return Requirement(line)
    except InvalidRequirement:
        return None


def _written(text: str, req: Requirement) -> str:
    """The version constraint as the manifest writes it (``packaging`` reorders it)."""
    rest = re.sub(r"^\s*[A-Za-z0-9._-]+\s*(\[[^\]]*\])?", "", text).split(";", 1)[0].strip()
    rest = rest.strip("()").strip()
    return rest if rest and not rest.startswith("@") else str(req.specifier)


def _pypi(req: Requirement, group: str, line: int, text: str) -> Dependency:
    constraint = _written(text, req)
    pins = [
        s.version for s in req.specifier if s.operator in ("==", "===") and "*" not in s.version
    ]
    return Dependency(
        name=canonicalize_name(req.name),
        ecosystem="pypi",
        constraint=constraint,
        group=group,
        line=line,
        resolved=pins[0] if len(pins) == 1 else None,
        spec=str(req.specifier),
    )


def _pyproject(text: str) -> tuple[list[Dependency], list[str]]:
    data = _toml(text)
    lines = text.splitlines()
    deps: list[Dependency] = []
    warnings: list[str] = []
    project = data.get("project") or {}
    groups: list[tuple[str, str, Any]] = [("dependencies", "project", project.get("dependencies"))]
    for extra, items in (project.get("optional-dependencies") or {}).items():
        groups.append((f"optional:{extra}", "project.optional-dependencies", items))
    for group, items in (data.get("dependency-groups") or {}).items():
        groups.append((f"group:{group}", "dependency-groups", items))
    for group, header, items in groups:
        for entry in items or ():
            if not isinstance(entry, str):  # PEP 735 {include-group = ...}
                continue
            req = _requirement(entry)
            line = _line_of(lines, header, _quoted_name(entry))
            if req is None:
                warnings.append(f"line {line}: not a PEP 508 requirement: {entry!r}")
                continue
            deps.append(_pypi(req, group, line, entry))
    poetry = (data.get("tool") or {}).get("poetry") or {}
    tables = [("poetry", "tool.poetry.dependencies", poetry.get("dependencies"))]
    tables.append(("poetry:dev", "tool.poetry.dev-dependencies", poetry.get("dev-dependencies")))
    for group, body in (poetry.get("group") or {}).items():
        header = f"tool.poetry.group.{group}.dependencies"
        tables.append((f"poetry:{group}", header, (body or {}).get("dependencies")))
    for group, header, table in tables:
        for name, value in (table or {}).items():
            if name.lower() == "python":
                continue
            deps.append(_poetry_dependency(name, value, group, _line_of(lines, header, name)))
    return deps, warnings


def _poetry_dependency(name: str, value: Any, group: str, line: int) -> Dependency:
    """A Poetry dependency: ``"^1.2"`` or ``{version = "^1.2", ...}`` or a path/git one."""
    if isinstance(value, Mapping):
        constraint = str(value.get("version") or _source_of(value))
    elif isinstance(value, list):  # multiple-constraint dependency: keep the first
        constraint = str((value[0] or {}).get("version", "")) if value else ""
    else:
        constraint = str(value)
    return Dependency(
        name=canonicalize_name(name),
        ecosystem="pypi",
        constraint=constraint,
        group=group,
        line=line,
        spec=poetry_to_pep440(constraint),
    )


def _quoted_name(requirement: str) -> str:
    return re.split(r"[\s\[<>=!~;@(]", requirement.strip(), maxsplit=1)[0]


# -- npm ------------------------------------------------------------------------------------

NPM_GROUPS = ("dependencies", "devDependencies", "peerDependencies", "optionalDependencies")


def _package_json(path: Path, text: str) -> tuple[list[Dependency], list[str]]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"invalid JSON at line {exc.lineno}: {exc.msg}") from exc
    if not isinstance(data, dict):
        raise ValueError("package.json is not a JSON object")
    lines = text.splitlines()
    locked = _npm_lock(path.with_name("package-lock.json"))
    deps = []
    for group in NPM_GROUPS:
        table = data.get(group)
        if not isinstance(table, dict):
            continue
        start = _find(lines, f'"{group}"', 0)
        for name, constraint in table.items():
            deps.append(
                Dependency(
                    name=name,
                    ecosystem="npm",
                    constraint=str(constraint),
                    group=group,
                    line=_find(lines, f'"{name}"', start) or start or 1,
                    resolved=locked.get(name),
                    spec=str(constraint),
                )
            )
    return deps, []


def _npm_lock(path: Path) -> dict[str, str]:
    """Resolved versions of ``package-lock.json`` (v1, v2 or v3); empty when absent/bad."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    found: dict[str, str] = {}
    for key, entry in (data.get("packages") or {}).items():
        if key.count("node_modules/") == 1 and isinstance(entry, dict) and "version" in entry:
            found[key.split("node_modules/", 1)[1]] = str(entry["version"])
    for name, entry in (data.get("dependencies") or {}).items():
        if isinstance(entry, dict) and "version" in entry:
            found.setdefault(name, str(entry["version"]))
    return found


# -- Go -------------------------------------------------------------------------------------

_GO_REQUIRE = re.compile(r"^\s*(?:require\s+)?([^\s()]+)\s+(v[^\s]+)(\s*//\s*indirect)?")


def _go_mod(text: str) -> tuple[list[Dependency], list[str]]:
    deps = []
    in_block = False
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if line.startswith("require ("):
            in_block = True
            continue
        if in_block and line.startswith(")"):
            in_block = False
            continue
        if not (in_block or line.startswith("require ")):
            continue
        match = _GO_REQUIRE.match(line)
        if match is None or match.group(1).startswith("//"):
            continue
        module, version, indirect = match.groups()
        deps.append(
            Dependency(
                name=module,
                ecosystem="go",
                constraint=version,
                group="require:indirect" if indirect else "require",
                line=number,
                resolved=version,  # minimal version selection: the stated one is the minimum
                spec=f">={version.lstrip('v').split('+', 1)[0]}",
            )
        )
    return deps, []


# -- Cargo ----------------------------------------------------------------------------------

CARGO_GROUPS = ("dependencies", "dev-dependencies", "build-dependencies")


def _cargo(path: Path, text: str) -> tuple[list[Dependency], list[str]]:
    data = _toml(text)
    lines = text.splitlines()
    locked = _cargo_lock(path.with_name("Cargo.lock"))
    tables: list[tuple[str, str, Any]] = [(g, g, data.get(g)) for g in CARGO_GROUPS]
    workspace = data.get("workspace") or {}
    tables.append(("workspace", "workspace.dependencies", workspace.get("dependencies")))
    for target, body in (data.get("target") or {}).items():
        for group in CARGO_GROUPS:
            tables.append((f"target:{target}:{group}", group, (body or {}).get(group)))
    deps = []
    for group, header, table in tables:
        for name, value in (table or {}).items():
            constraint = _cargo_constraint(value)
            deps.append(
                Dependency(
                    name=name,
                    ecosystem="cargo",
                    constraint=constraint,
                    group=group,
                    line=_cargo_line(lines, header, name),
                    resolved=locked.get(name),
                    spec=constraint,
                )
            )
    return deps, []


def _cargo_constraint(value: Any) -> str:
    if isinstance(value, Mapping):
        return str(value.get("version") or _source_of(value))
    return str(value)


def _cargo_line(lines: list[str], header: str, name: str) -> int:
    """Line of ``name = ...`` in ``[header]``, or of its own ``[header.name]`` table."""
    return _find(lines, f"[{header}.{name}]", 0) or _line_of(lines, header, name)


def _cargo_lock(path: Path) -> dict[str, str]:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return {
        str(p["name"]): str(p["version"])
        for p in data.get("package") or ()
        if isinstance(p, dict) and "name" in p and "version" in p
    }


# -- helpers ----------------------------------------------------------------------------------


def _toml(text: str) -> dict[str, Any]:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"invalid TOML: {exc}") from exc


def _source_of(value: Mapping[str, Any]) -> str:
    """The constraint of a dependency given by path or git instead of a version."""
    for field in ("path", "git", "url"):
        if field in value:
            return f"{field}:{value[field]}"
    return ""


def _line_of(lines: list[str], header: str, name: str | None) -> int:
    """1-based line of ``name`` inside the TOML table ``[header]`` (else of the header, else 1)."""
    start = _find(lines, f"[{header}]", 0)
    found = _find(lines, name, start, word=True) if name else 0
    return found or start or 1


def _find(lines: Iterable[str], needle: str, after: int, *, word: bool = False) -> int:
    """1-based number of the first line after line ``after`` containing ``needle``; 0 if none.

    With ``word``, ``needle`` must stand alone (not inside a longer name)."""
    pattern = re.compile(r"(?<![\w.-])" + re.escape(needle) + r"(?![\w-])") if word else None
    for number, line in enumerate(lines, 1):
        if number > after and (pattern.search(line) if pattern else needle in line):
            return number
    return 0
