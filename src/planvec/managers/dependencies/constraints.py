"""Version constraints of several ecosystems, and whether two can be met at once.

Comparison is delegated to maintained libraries: ``packaging`` (PEP 440) for PyPI,
``semantic_version`` for npm ranges (``NpmSpec``) and Cargo requirements (``SimpleSpec``,
where Cargo's bare ``1.2`` means ``^1.2``). Two constraints are *compatible* when some
version satisfies both. The libraries test one version against one constraint, so the
search runs over candidate versions built from every bound either constraint names (the
bound itself and its immediate neighbours: the next patch, minor and major, and the
largest versions just below it): an intersection of ranges, when it exists, always holds
one of them. Go's ``go.mod`` states minimum versions (minimal version selection), which
never conflict.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

import semantic_version
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import InvalidVersion, Version

_NUMBERS = re.compile(r"\d+(?:\.\d+){0,2}")

Matcher = Callable[[str], bool]


def poetry_to_pep440(constraint: str) -> str:
    """Poetry's ``^``/``~``/``*`` constraints as PEP 440 (others are PEP 440 already)."""
    parts = []
    for part in (p.strip() for p in constraint.split(",")):
        if part in ("", "*"):
            continue
        if part.startswith("^"):
            parts.append(_caret(part[1:].strip()))
        elif part.startswith("~") and not part.startswith("~="):
            parts.append(_tilde(part[1:].strip()))
        elif re.fullmatch(r"\d[\w.]*", part):
            parts.append(f"=={part}")
        else:
            parts.append(part)
    return ",".join(parts)


def _release(text: str) -> list[int]:
    return [int(n) for n in text.split("+")[0].split("-")[0].split(".") if n.isdigit()]


def _caret(version: str) -> str:
    """``^1.2.3`` -> ``>=1.2.3,<2.0.0``; ``^0.2.3`` -> ``<0.3.0``; ``^0.0.3`` -> ``<0.0.4``."""
    release = _release(version) or [0]
    upper = list(release) + [0] * (3 - len(release))
    first = next((i for i, n in enumerate(release) if n != 0), len(release) - 1)
    upper = upper[: first + 1]
    upper[first] += 1
    return f">={version},<{'.'.join(map(str, upper))}"


def _tilde(version: str) -> str:
    """``~1.2.3`` -> ``>=1.2.3,<1.3``; ``~1`` -> ``>=1,<2``."""
    release = _release(version) or [0]
    upper = [release[0] + 1] if len(release) == 1 else [release[0], release[1] + 1]
    return f">={version},<{'.'.join(map(str, upper))}"


def matcher(ecosystem: str, spec: str) -> Matcher | None:
    """A predicate "version satisfies ``spec``", or ``None`` when ``spec`` cannot be
    compared (a git/path source, or a syntax the library rejects)."""
    spec = spec.strip()
    if spec.startswith(("path:", "git:", "url:")) or spec in ("latest",):
        return None
    try:
        if ecosystem == "pypi":
            specifier = SpecifierSet(spec)
            return lambda v: _pep440_contains(specifier, v)
        if ecosystem == "npm":
            npm = semantic_version.NpmSpec(spec or "*")
            return lambda v: _semver_contains(npm, v)
        if ecosystem in ("cargo", "go"):
            simple = semantic_version.SimpleSpec(_cargo_spec(spec) or "*")
            return lambda v: _semver_contains(simple, v)
    except (InvalidSpecifier, ValueError):
        return None
    return None


def _cargo_spec(spec: str) -> str:
    """Cargo's bare requirement ``1.2`` means ``^1.2``."""
    return ",".join(
        f"^{p}" if re.match(r"\d", p) else p for p in (q.strip() for q in spec.split(",")) if p
    )


def _pep440_contains(specifier: SpecifierSet, version: str) -> bool:
    try:
        return specifier.contains(Version(version), prereleases=False)
    except InvalidVersion:
        return False


def _semver_contains(spec: semantic_version.BaseSpec, version: str) -> bool:
    try:
        return bool(spec.match(semantic_version.Version.coerce(version)))
    except ValueError:
        return False


def candidate_versions(specs: Iterable[str], extra: Iterable[str] = ()) -> list[str]:
    """Versions worth testing against ``specs``: every bound and its neighbours."""
    found: set[tuple[int, int, int]] = {(0, 0, 0), (0, 0, 1), (0, 1, 0), (1, 0, 0)}
    for text in (*specs, *extra):
        for number in _NUMBERS.findall(text or ""):
            major, minor, patch = ([int(n) for n in number.split(".")] + [0, 0])[:3]
            found.update(
                {
                    (major, minor, patch),
                    (major, minor, patch + 1),
                    (major, minor + 1, 0),
                    (major + 1, 0, 0),
                }
            )
            if patch:
                found.add((major, minor, patch - 1))
            if minor:
                found.add((major, minor - 1, 9999))
            if major:
                found.add((major - 1, 9999, 9999))
    return [".".join(map(str, v)) for v in sorted(found)]


def compatible(ecosystem: str, first: str, second: str, extra: Iterable[str] = ()) -> bool | None:
    """Whether one version satisfies both constraints; ``None`` when they cannot be compared.

    ``extra``: known versions (resolved ones from lock files) also tried as candidates.
    """
    if ecosystem == "go":
        return True  # minimum versions: the highest one satisfies every go.mod
    a, b = matcher(ecosystem, first), matcher(ecosystem, second)
    if a is None or b is None:
        return None
    return any(a(v) and b(v) for v in candidate_versions((first, second), extra))
