"""`check` / `validate-vectors`, `repair`, `quality` / `verify-quality` through the real CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from planvec.cli.main import cli
from planvec.store import open_store


def invoke(*args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False, env=env)
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def indexed(plan_tree: Path, tmp_path: Path) -> str:
    idx = str(tmp_path / "idx")
    code, _, err = invoke("index", str(plan_tree), "--index", idx, "--offline")
    assert code == 0, err
    return idx


def test_check_json_markdown_and_exit_codes(plan_tree: Path, indexed: str, tmp_path: Path) -> None:
    md = tmp_path / "check.md"
    code, out, _ = invoke(
        "check", str(plan_tree), "--index", indexed, "--offline", "--json", "--markdown", str(md)
    )
    assert code == 0
    report = json.loads(out)
    assert report["status"] == "ok" and report["tasks"] == report["points"] == 12
    assert "planvec check: ✅ ok" in md.read_text(encoding="utf-8")

    store = open_store(index_dir=Path(indexed))
    victim = next(store.scroll("planvec_tasks", with_payload=True))
    store.delete("planvec_tasks", ids=[victim.id])
    store.close()

    code, out, _ = invoke(
        "validate-vectors", str(plan_tree), "--index", indexed, "--offline", "--json"
    )
    assert code == 1
    findings = json.loads(out)["findings"]
    assert [(f["kind"], f["id"], f["action"]) for f in findings] == [
        ("missing", str(victim.id), "upsert")
    ]

    code, out, _ = invoke("repair", str(plan_tree), "--index", indexed, "--offline")
    assert code == 1 and "Dry run" in out and "re-embed and upsert: 1" in out
    code, out, _ = invoke("check", str(plan_tree), "--index", indexed, "--offline")
    assert code == 1 and "`missing`" in out  # the dry run changed nothing

    code, out, _ = invoke(
        "repair", str(plan_tree), "--index", indexed, "--offline", "--apply", "--json"
    )
    assert code == 0
    result = json.loads(out)
    assert result["applied"] and result["written"]["upserted"] == 1
    assert result["after"]["status"] == "ok"
    code, out, _ = invoke("check", str(plan_tree), "--index", indexed, "--offline")
    assert code == 0 and "No problem found" in out


@pytest.mark.parametrize("command", ["check", "repair"])
def test_a_path_that_does_not_exist_exits_2(command: str, indexed: str, tmp_path: Path) -> None:
    code, _, err = invoke(command, str(tmp_path / "nope"), "--index", indexed, "--offline")
    assert code == 2 and "nope" in err


def test_check_exits_2_when_the_store_cannot_be_reached(plan_tree: Path) -> None:
    code, _, err = invoke(
        "check",
        str(plan_tree),
        "--qdrant-url",
        "http://127.0.0.1:9",
        "--offline",
        env={"PLANVEC_RETRIES": "0", "PLANVEC_TIMEOUT": "2"},
    )
    assert code == 2 and "Error:" in err


def test_quality_baseline_round_trip(indexed: str, tmp_path: Path) -> None:
    base = tmp_path / "baseline.json"
    md = tmp_path / "quality.md"
    code, out, _ = invoke(
        "quality", "--index", indexed, "--offline", "--save-baseline", str(base), "--json"
    )
    assert code == 0 and json.loads(out)["status"] == "ok"
    assert set(json.loads(base.read_text())["metrics"]) >= {"probe_accuracy", "self_retrieval_at1"}
    code, out, err = invoke(
        "verify-quality",
        "--index",
        indexed,
        "--offline",
        "--baseline",
        str(base),
        "--markdown",
        str(md),
    )
    assert code == 0 and "ALERT" not in err
    assert "| probe_accuracy |" in md.read_text(encoding="utf-8")
    code, _, err = invoke(
        "quality", "--index", indexed, "--offline", "--baseline", str(tmp_path / "absent.json")
    )
    assert code == 2 and "cannot read the baseline" in err


@pytest.mark.parametrize(
    "name", ["check", "validate-vectors", "repair", "quality", "verify-quality"]
)
def test_help_has_an_example(name: str) -> None:
    code, out, _ = invoke(name, "-h")
    assert code == 0 and "Example:" in out
