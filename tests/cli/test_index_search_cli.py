"""``planvec index`` / ``search`` through the real CLI entry point (click runner)."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from planvec.cli.main import cli

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "examples" / "plans"


def invoke(*args: str) -> tuple[int, str, str]:
    runner = CliRunner()
    result = runner.invoke(cli, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def test_index_json_then_noop_then_search(tmp_path: Path) -> None:
    idx = str(tmp_path / "idx")
    code, out, _ = invoke("index", str(EXAMPLES), "--index", idx, "--offline", "--json")
    assert code == 0
    report = json.loads(out)
    for key in (
        "added",
        "updated",
        "payload_only",
        "unchanged",
        "deleted",
        "failed",
        "embedded",
        "seconds",
    ):
        assert key in report
    assert report["added"] > 20 and report["failed"] == 0
    code, out, _ = invoke("vectorize", str(EXAMPLES), "--index", idx, "--offline", "--json")
    again = json.loads(out)
    assert code == 0 and again["unchanged"] == report["added"] and again["embedded"] == 0

    code, out, _ = invoke(
        "search", "sauvegarde base de données", "--index", idx, "--json", "--limit", "3"
    )
    assert code == 0
    hits = json.loads(out)
    assert 0 < len(hits) <= 3
    for key in ("id", "score", "plan", "line", "text", "section", "status"):
        assert key in hits[0]
    assert "sauvegarde" in hits[0]["text"].lower()

    code, out, _ = invoke("search", "sauvegarde", "--index", idx, "--status", "done", "--json")
    assert code == 0 and all(h["status"] == "done" for h in json.loads(out))


def test_dry_run_lists_changes_and_writes_nothing(tmp_path: Path) -> None:
    idx = str(tmp_path / "idx")
    code, out, _ = invoke("index", str(EXAMPLES), "--index", idx, "--offline", "--dry-run")
    assert code == 0 and "Dry run: nothing was written." in out
    code, _, errout = invoke("search", "anything", "--index", idx)
    assert code == 1 and "planvec index" in errout


def test_bad_paths_and_bad_options_are_clear_errors(tmp_path: Path) -> None:
    code, _, errout = invoke(
        "index", str(tmp_path / "missing"), "--index", str(tmp_path / "i"), "--offline"
    )
    assert code != 0 and "Traceback" not in errout
    code, _, errout = invoke("search", "x", "--qdrant-url", "ftp://nope")
    assert code == 2 and "http://" in errout


def test_every_command_has_help_with_an_example() -> None:
    for name, command in cli.commands.items():
        code, out, _ = invoke(name, "-h")
        assert code == 0, name
        assert "Example" in out, f"{name} -h has no example"
        assert command.help
