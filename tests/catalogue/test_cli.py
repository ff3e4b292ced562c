"""``planvec catalogue`` through click's runner (real PostgreSQL where a DSN is used)."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from planvec.cli.main import cli

from .conftest import query


def test_help_works_without_a_database() -> None:
    runner = CliRunner()
    for args in (["catalogue", "-h"], ["catalogue", "sync", "-h"], ["catalogue", "migrate", "-h"]):
        result = runner.invoke(cli, args)
        assert result.exit_code == 0 and "Example:" in result.output


def test_missing_dsn_is_a_usage_error(plans_dir: Path) -> None:
    result = CliRunner().invoke(cli, ["catalogue", "sync", str(plans_dir)])
    assert result.exit_code == 2 and "--dsn" in result.output


def test_unreachable_database_is_a_clear_error_without_the_password(plans_dir: Path) -> None:
    dsn = "postgresql://app:hunter22@/db?host=/nonexistent-dir&connect_timeout=2"
    result = CliRunner().invoke(cli, ["catalogue", "sync", str(plans_dir), "--dsn", dsn])
    assert result.exit_code == 1
    # the CLI's generic redaction masks the whole user-info part (user and password)
    assert "Error: cannot connect to postgresql://***@/db" in result.output
    assert "hunter22" not in result.output and "Traceback" not in result.output


def test_sync_json_and_env_dsn(dsn: str, plans_dir: Path) -> None:
    runner = CliRunner()
    migrated = runner.invoke(
        cli, ["catalogue", "migrate", "--json"], env={"PLANVEC_CATALOGUE_DSN": dsn}
    )
    assert migrated.exit_code == 0, migrated.output
    assert json.loads(migrated.output)["schema_version"] >= 2
    result = runner.invoke(
        cli, ["catalogue", "sync", str(plans_dir), "--json"], env={"PLANVEC_CATALOGUE_DSN": dsn}
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["added"] == 12


def test_conflict_exits_1_and_writes_the_markdown_report(
    dsn: str, plans_dir: Path, tmp_path: Path
) -> None:
    runner = CliRunner()
    assert runner.invoke(cli, ["catalogue", "sync", str(plans_dir), "--dsn", dsn]).exit_code == 0
    ops = plans_dir / "ops.md"
    ops.write_bytes(ops.read_bytes().replace(b"- [ ] **4.1**", b"- [x] **4.1**"))
    query(dsn, "UPDATE planvec.tasks SET status = 'cancelled' WHERE key = '4.1' RETURNING 1")
    report = tmp_path / "conflicts.md"
    result = runner.invoke(
        cli, ["catalogue", "sync", str(plans_dir), "--dsn", dsn, "--report", str(report)]
    )
    assert result.exit_code == 1
    text = report.read_text(encoding="utf-8")
    assert "## Conflicts (1" in text and "4.1 Rotate keys" in text
    assert text == result.stdout
