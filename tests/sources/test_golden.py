"""The parser against the golden extractions of ../shared/corpus (all 317 tasks, six fields)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from planvec.cli.main import cli
from planvec.sources.files import parse_paths

GOLDEN_FIELDS = ("line", "checked", "text", "depth", "parent_line", "section")


def _goldens(golden_dir: Path) -> list[Path]:
    files = sorted(golden_dir.rglob("*.jsonl"))
    assert files, "no golden file found"
    return files


def _expected(golden: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in golden.read_text("utf-8").splitlines() if line.strip()]


def test_cli_json_matches_every_golden_file(golden_dir: Path, corpus_dir: Path) -> None:
    runner = CliRunner()
    total = 0
    for golden in _goldens(golden_dir):
        rel = golden.relative_to(golden_dir).as_posix().removesuffix(".jsonl")
        result = runner.invoke(cli, ["parse", str(corpus_dir / rel), "--json"])
        assert result.exit_code == 0, result.stderr
        got = [json.loads(line) for line in result.stdout.splitlines()]
        expected = _expected(golden)
        assert [{k: t[k] for k in GOLDEN_FIELDS} for t in got] == expected, rel
        assert {t["plan"] for t in got} == {Path(rel).name}
        total += len(expected)
    assert total == 317


def test_library_matches_golden_with_root_relative_paths(
    golden_dir: Path, corpus_dir: Path
) -> None:
    plans, failures = parse_paths([corpus_dir])
    assert failures == []
    by_path = {plan.path: plan for plan in plans}
    for golden in _goldens(golden_dir):
        rel = golden.relative_to(golden_dir).as_posix().removesuffix(".jsonl")
        got = [{k: t.to_dict()[k] for k in GOLDEN_FIELDS} for t in by_path[rel].tasks]
        assert got == _expected(golden), rel


def test_broken_fence_plan_reports_each_repair(golden_dir: Path, corpus_dir: Path) -> None:
    rel = "consolidated/plan-dev-v56-go-native-vectorization-migration.md"
    if not (golden_dir / f"{rel}.jsonl").exists():
        pytest.skip("golden file for v56 not available")
    plans, _ = parse_paths([corpus_dir / rel])
    repaired = [w for w in plans[0].warnings if "```plaintext" in w.message]
    assert repaired, "the v56 plan has '```plaintext' closing fences"
    text = (corpus_dir / rel).read_text("utf-8").splitlines()
    for warning in repaired:
        assert warning.line is not None
        assert text[warning.line - 1].strip().startswith("```plaintext")
