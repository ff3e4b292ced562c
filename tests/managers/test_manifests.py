"""Manifest readers on real manifests of five ecosystems (tests/fixtures/manifests)."""

from __future__ import annotations

from pathlib import Path

import pytest

from planvec.managers.dependencies.manifests import Dependency, is_manifest, read_manifest
from planvec.managers.items import discover_files

from .conftest import MANIFESTS


def _read(rel: str) -> dict[str, Dependency]:
    path = MANIFESTS / rel
    deps, warnings = read_manifest(path, path.read_text(encoding="utf-8"))
    assert warnings == []
    return {d.key: d for d in deps}


def test_discovery_finds_every_manifest_and_skips_lock_files() -> None:
    names = [rel for _, rel in discover_files([MANIFESTS], is_manifest)]
    assert names == [
        "admin/package.json",
        "api/pyproject.toml",
        "api/requirements-base.txt",
        "api/requirements.txt",
        "core/Cargo.toml",
        "gateway/go.mod",
        "web/package.json",
        "worker/pyproject.toml",
    ]


def test_requirements_lines_options_continuations_and_pins() -> None:
    deps = _read("api/requirements.txt")
    assert list(deps) == [
        "requirements:requests",
        "requirements:flask",
        "requirements:pydantic",
        "requirements:gunicorn",
    ]
    assert deps["requirements:flask"].resolved == "3.0.2" and deps["requirements:flask"].line == 4
    assert deps["requirements:gunicorn"].line == 6  # the continuation starts on line 6
    assert deps["requirements:gunicorn"].constraint == ">=21.2"
    assert deps["requirements:requests"].resolved is None


def test_pep621_dependencies_and_extras_with_their_lines() -> None:
    deps = _read("api/pyproject.toml")
    assert deps["dependencies:requests"].line == 10
    assert deps["dependencies:sqlalchemy"].constraint == ">=2.0"
    assert deps["optional:docs:mkdocs"].line == 16
    assert deps["optional:test:httpx"].line == 19


def test_poetry_caret_and_tilde_become_pep440_and_python_is_skipped() -> None:
    deps = _read("worker/pyproject.toml")
    assert "poetry:python" not in deps
    assert deps["poetry:requests"].spec == ">=2.31,<3"
    assert deps["poetry:celery"].constraint == "^5.3" and deps["poetry:celery"].line == 10
    assert deps["poetry:boto3"].spec == ">=1.34,<1.35"
    assert deps["poetry:dev:pytest"].line == 14


def test_package_json_with_lock_resolves_versions() -> None:
    deps = _read("web/package.json")
    assert deps["dependencies:react"].resolved == "18.2.0"
    assert deps["devDependencies:typescript"].resolved == "5.3.3"
    assert deps["devDependencies:vite"].line == 15
    admin = _read("admin/package.json")
    assert admin["dependencies:react"].resolved is None  # no lock file beside it


def test_go_mod_single_and_block_requires() -> None:
    deps = _read("gateway/go.mod")
    assert deps["require:github.com/gin-gonic/gin"].line == 5
    assert deps["require:indirect:golang.org/x/net"].constraint == "v0.20.0"
    assert deps["require:github.com/jackc/pgx/v5"].spec == ">=5.5.2"


def test_cargo_inline_table_and_dotted_table_forms_with_lock() -> None:
    deps = _read("core/Cargo.toml")
    assert deps["dependencies:tokio"].constraint == "1.35"
    assert deps["dependencies:tokio"].resolved == "1.35.1"
    assert deps["dependencies:reqwest"].line == 11  # [dependencies.reqwest]
    assert deps["dev-dependencies:proptest"].line == 16


@pytest.mark.parametrize(
    ("name", "text"),
    [("pyproject.toml", "[project\nname="), ("package.json", "{not json"), ("Cargo.toml", "= 1")],
)
def test_broken_manifest_raises_value_error(tmp_path: Path, name: str, text: str) -> None:
    path = tmp_path / name
    with pytest.raises(ValueError, match="invalid"):
        read_manifest(path, text)


def test_bad_requirement_line_is_a_warning_not_a_failure(tmp_path: Path) -> None:
    path = tmp_path / "requirements-dev.txt"
    deps, warnings = read_manifest(path, "pytest>=8\nthis is not ==a requirement\n")
    assert [d.name for d in deps] == ["pytest"]
    assert len(warnings) == 1 and "line 2" in warnings[0]
