"""The version lives in one place (planvec.__version__); everything else reads it."""

from __future__ import annotations

import re
import tomllib
from importlib.metadata import version
from pathlib import Path

from click.testing import CliRunner

import planvec
from planvec.cli.main import cli

REPO = Path(__file__).resolve().parents[2]


def test_pyproject_reads_the_version_from_the_package() -> None:
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    assert "version" not in project["project"], "the version must not be written twice"
    assert "version" in project["project"]["dynamic"]
    dynamic = project["tool"]["setuptools"]["dynamic"]["version"]
    assert dynamic == {"attr": "planvec.__version__"}


def test_installed_metadata_and_cli_agree_with_the_package() -> None:
    assert re.fullmatch(r"\d+\.\d+\.\d+([ab]|rc)?\d*", planvec.__version__)
    assert version("planvec") == planvec.__version__
    result = CliRunner().invoke(cli, ["--version"])
    assert result.exit_code == 0 and planvec.__version__ in result.output


def test_the_changelog_has_a_section_for_this_version() -> None:
    changelog = (REPO / "CHANGELOG.md").read_text(encoding="utf-8")
    assert "## [Unreleased]" in changelog
    assert re.search(rf"^## \[{re.escape(planvec.__version__)}\] - \d{{4}}-\d\d-\d\d$",
                     changelog, re.MULTILINE)  # fmt: skip
