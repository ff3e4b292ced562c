"""``planvec health``: exit 0 on a healthy index, 1 with an actionable message otherwise."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from planvec.cli.main import cli
from planvec.records import point_id
from planvec.store import CollectionSpec, PointRecord, open_store


def build_index(index: Path) -> None:
    store = open_store(index_dir=index)
    try:
        store.ensure_collection("planvec_tasks", CollectionSpec(dimension=4))
        store.upsert(
            "planvec_tasks",
            [
                PointRecord(id=point_id(str(i)), vector=[1.0, i, 0.0, 1.0], payload={})
                for i in range(5)
            ],
        )
        store.write_manifest(
            "planvec_tasks",
            {"schema_version": 1, "model": "hashing", "dimension": 4, "last_sync": {"tasks": 5}},
        )
    finally:
        store.close()


def test_health_ok_json(tmp_path: Path) -> None:
    build_index(tmp_path / "idx")
    result = CliRunner().invoke(cli, ["health", "--index", str(tmp_path / "idx"), "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["ok"] and report["reachable"] and report["collection_present"]
    assert (report["backend"], report["points"], report["dimension"]) == ("edge", 5, 4)
    assert report["manifest"] == {
        "schema_version": 1,
        "model": "hashing",
        "dimension": 4,
        "last_sync.tasks": 5,
    }


def test_health_text_and_missing_collection(tmp_path: Path) -> None:
    build_index(tmp_path / "idx")
    ok = CliRunner().invoke(cli, ["health", "--index", str(tmp_path / "idx")])
    assert ok.exit_code == 0 and "points: 5" in ok.output
    missing = CliRunner().invoke(
        cli, ["health", "--index", str(tmp_path / "idx"), "--collection", "other"]
    )
    assert missing.exit_code == 1
    assert "collection 'other' not found" in missing.stderr and "planvec index" in missing.stderr
    empty = CliRunner().invoke(cli, ["health", "--index", str(tmp_path / "none")])
    assert empty.exit_code == 1 and "planvec index" in empty.stderr
    assert not (tmp_path / "none").exists()  # health never creates an index


def test_health_unreachable_server_hides_api_key(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        cli,
        ["health", "--qdrant-url", "http://127.0.0.1:9", "--json"],
        env={"PLANVEC_API_KEY": "s3cr3t-key"},
    )
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    assert not report["reachable"] and "not reachable" in report["problems"][0]
    assert "s3cr3t-key" not in result.output


def test_health_help() -> None:
    result = CliRunner().invoke(cli, ["health", "-h"])
    assert result.exit_code == 0 and "Example" in result.output


def test_manifest_summary_stays_short() -> None:
    from planvec.store.health import summarize_manifest

    manifest = {
        "model": "m",
        "plans": {f"plan-{i}.md": i for i in range(500)},
        "last_sync": {"tasks": 3, "nested": {"deep": 1}},
        "history": [1, 2, 3],
    }
    assert summarize_manifest(manifest) == {
        "model": "m",
        "history.count": 3,
        "last_sync.tasks": 3,
        "plans.count": 500,
    }
