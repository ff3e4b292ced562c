"""Constraint compatibility through packaging (PEP 440) and semantic-version (npm, Cargo)."""

from __future__ import annotations

import pytest

from planvec.managers.dependencies.constraints import compatible, poetry_to_pep440


@pytest.mark.parametrize(
    ("ecosystem", "first", "second"),
    [
        ("pypi", ">=2.31,<3", ">=2.28"),
        ("pypi", "==2.31.0", ">=2.31,<3"),
        ("pypi", "~=24.1", ">=24.1.5"),
        ("pypi", ">=1.0,<1.0.5", "==1.0.3"),
        ("npm", "^18.2.0", "^18.0.0"),
        ("npm", ">=1.2.0 <2.0.0", "^1.6.0"),
        ("npm", "~5.3.0", "5.3.3"),
        ("cargo", "1.0", "1.0.195"),
        ("cargo", "1", ">=1.2, <1.5"),
        ("go", "v1.9.1", "v1.2.0"),
    ],
)
def test_compatible_constraints(ecosystem: str, first: str, second: str) -> None:
    assert compatible(ecosystem, first, second) is True
    assert compatible(ecosystem, second, first) is True


@pytest.mark.parametrize(
    ("ecosystem", "first", "second"),
    [
        ("pypi", "==3.0.2", "<3"),
        ("pypi", ">=2.0,<2.5", ">=2.5"),
        ("pypi", "~=1.4", ">=2"),
        ("npm", "^18.2.0", "^17.0.2"),
        ("npm", "~5.3.0", "5.4.0"),
        ("cargo", "0.11", "0.12"),
        ("cargo", "1.35", "<1.30"),
    ],
)
def test_incompatible_constraints(ecosystem: str, first: str, second: str) -> None:
    assert compatible(ecosystem, first, second) is False
    assert compatible(ecosystem, second, first) is False


def test_uncomparable_constraints_are_none_never_a_conflict() -> None:
    assert compatible("cargo", "path:../core", "1.0") is None
    assert compatible("pypi", "not a specifier", ">=1") is None


@pytest.mark.parametrize(
    ("poetry", "pep440"),
    [
        ("^1.2.3", ">=1.2.3,<2"),
        ("^0.2.3", ">=0.2.3,<0.3"),
        ("^0.0.3", ">=0.0.3,<0.0.4"),
        ("~1.2.3", ">=1.2.3,<1.3"),
        ("~1", ">=1,<2"),
        ("*", ""),
        ("1.4", "==1.4"),
        (">=1.2,<1.5", ">=1.2,<1.5"),
    ],
)
def test_poetry_constraints_as_pep440(poetry: str, pep440: str) -> None:
    assert poetry_to_pep440(poetry) == pep440
