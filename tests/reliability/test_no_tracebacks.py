"""Issue 19, class 6: no tracebacks. Every command, fed bad values, fails in one line.

The commands are enumerated from the click group, so a command added later is walked too.
Each bad value (flag or environment variable) must end the command with exit code 2, one
``Error: ...`` line that says how to fix it, no traceback, and no password of the URL.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from planvec.cli.main import cli

from .conftest import REPO

pytestmark = pytest.mark.reliability

EXAMPLES = REPO / "examples" / "plans"
SECRET = "hunter2-9f8e7d"

#: (case name, extra arguments, environment): each one is invalid for every store command.
BAD_VALUES: list[tuple[str, list[str], dict[str, str]]] = [
    ("url-no-host", ["--qdrant-url", "http://"], {}),
    ("url-bad-port", ["--qdrant-url", f"http://bob:{SECRET}@db:notaport"], {}),
    ("url-port-range", ["--qdrant-url", "http://localhost:99999"], {}),
    ("url-ipv6", ["--qdrant-url", "http://[::1"], {}),
    ("url-no-scheme", ["--qdrant-url", f"bob:{SECRET}@localhost:6333"], {}),
    ("url-space", ["--qdrant-url", "http://local host:6333"], {}),
    ("url-env", [], {"PLANVEC_QDRANT_URL": "ftp://example.org"}),
    ("collection-too-long", ["--collection", "c" * 300], {}),  # the issue's example
    ("collection-slash", ["--collection", "../escape"], {}),
    ("collection-env", [], {"PLANVEC_COLLECTION": "a b"}),
    ("timeout-zero", ["--timeout", "0"], {}),
    ("timeout-env", [], {"PLANVEC_TIMEOUT": "soon"}),
    ("timeout-env-negative", [], {"PLANVEC_TIMEOUT": "-3"}),
    ("timeout-env-inf", [], {"PLANVEC_TIMEOUT": "inf"}),
    ("timeout-env-nan", [], {"PLANVEC_TIMEOUT": "nan"}),
    ("retries-env", [], {"PLANVEC_RETRIES": "0"}),
    ("batch-env", [], {"PLANVEC_BATCH_SIZE": "-5"}),  # negative batch sizes (class 9)
    ("config-missing", ["--config", "/nonexistent/planvec.toml"], {}),
]


def _store_commands() -> Iterator[tuple[str, click.Command]]:
    for name, command in sorted(cli.commands.items()):
        if any(p.name == "qdrant_url" for p in command.params):
            yield name, command


def _required_args(command: click.Command, tmp_path: Path) -> list[str]:
    """Valid values for the command's required arguments (the bad value is elsewhere)."""
    archive = tmp_path / "some.planvec.tar"
    archive.write_bytes(b"not an archive")
    values = {"paths": str(EXAMPLES), "query": "sauvegarde", "archive": str(archive)}
    values["out"] = str(tmp_path / "out.planvec.tar")
    args = []
    for param in command.params:
        if isinstance(param, click.Argument) and param.required:
            args.append(values[str(param.name)])
    return args


def _invoke(args: list[str], env: dict[str, str]) -> tuple[int, str]:
    runner = CliRunner()
    result = runner.invoke(cli, args, env={"PLANVEC_EMBEDDER": "hashing", **env})
    assert result.exception is None or isinstance(result.exception, SystemExit), (
        f"{args}: raised {result.exception!r}"
    )
    return result.exit_code, result.stdout + result.stderr


COMMANDS = sorted(name for name, _ in _store_commands())


def test_the_walk_covers_every_store_command() -> None:
    for expected in ("index", "search", "health", "check", "repair", "quality", "export"):
        assert expected in COMMANDS
    assert len(COMMANDS) >= 12


@pytest.mark.parametrize("name", COMMANDS)
def test_every_command_rejects_bad_values_in_one_line(name: str, tmp_path: Path) -> None:
    command = cli.commands[name]
    for case, extra, env in BAD_VALUES:
        args = [name, *_required_args(command, tmp_path), *extra]
        code, output = _invoke(args, env)
        where = f"{name} [{case}]: {output}"
        assert code == 2, where
        assert "Traceback" not in output, where
        errors = [line for line in output.splitlines() if line.startswith("Error")]
        assert len(errors) == 1, where
        assert SECRET not in output, where


@pytest.mark.parametrize(
    "url", [f"http://u:{SECRET}@h:notaport", "http://", f"u:{SECRET}@h:6333", "memory://"]
)
def test_migrate_legacy_checks_its_source_url(url: str) -> None:
    code, output = _invoke(["migrate-legacy", "--from-url", url, "--dry-run"], {})
    assert code == 2, output
    assert "Traceback" not in output and SECRET not in output
    assert len([line for line in output.splitlines() if line.startswith("Error")]) == 1


def test_unwritable_paths_are_one_line_errors(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    idx = tmp_path / "idx"
    code, out = _invoke(["index", str(EXAMPLES), "--index", str(idx)], {})
    assert code == 0, out
    cases = [
        ["index", str(EXAMPLES), "--index", str(blocker / "idx")],  # --index under a file
        ["repair", str(EXAMPLES), "--apply", "--index", str(blocker / "idx")],
        ["export", str(blocker / "x.tar"), "--index", str(idx)],  # export under a file
        ["export", "/proc/planvec-test.tar", "--index", str(idx)],  # a read-only place
        ["check", "--index", str(idx), "--markdown", str(blocker / "report.md")],
        ["quality", "--index", str(idx), "--save-baseline", str(blocker / "b.json")],
    ]
    for args in cases:
        code, output = _invoke(args, {})
        assert code == 2, (args, output)
        assert "Traceback" not in output
        errors = [line for line in output.splitlines() if line.startswith("Error")]
        assert len(errors) == 1, (args, output)


@pytest.mark.parametrize(
    "content",
    [
        "{not json",
        "[1, 2]",
        '{"metrics": "x"}',
        '{"schema_version": "abc", "metrics": {}}',  # the crash reproduced at HEAD
        '{"schema_version": 1, "metrics": {"self_retrieval_at1": "high"}}',
        '{"schema_version": 1, "metrics": {"probe_accuracy": null}}',
    ],
)
def test_malformed_quality_baseline(content: str, tmp_path: Path) -> None:
    idx = tmp_path / "idx"
    code, out = _invoke(["index", str(EXAMPLES), "--index", str(idx)], {})
    assert code == 0, out
    baseline = tmp_path / "baseline.json"
    baseline.write_text(content)
    code, output = _invoke(["quality", "--index", str(idx), "--baseline", str(baseline)], {})
    assert code == 2, output
    assert "Traceback" not in output
    error = [line for line in output.splitlines() if line.startswith("Error")]
    assert len(error) == 1 and "--save-baseline" in error[0], output


def test_a_rejected_collection_name_leaves_no_lock_file(tmp_path: Path) -> None:
    idx = tmp_path / "idx"
    idx.mkdir()
    code, output = _invoke(
        ["index", str(EXAMPLES), "--index", str(idx), "--collection", "x" * 300], {}
    )
    assert code == 2, output
    assert list(idx.iterdir()) == []  # no stray ".xxx...lock" left behind
    code, output = _invoke(
        ["index", str(EXAMPLES), "--index", str(idx), "--collection", "ok_v2", "--json"], {}
    )
    assert code == 0, output
    assert json.loads(output.splitlines()[-1])["added"] > 0  # a valid name still works


def test_an_unexpected_exception_is_still_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    import planvec.store.health as health

    def boom(*_: object, **__: object) -> None:
        raise RuntimeError("simulated bug")

    monkeypatch.setattr(health, "health_report", boom)
    code, output = _invoke(["health"], {})
    assert code == 2
    assert "Traceback" not in output
    assert "Error: unexpected RuntimeError: simulated bug" in output
