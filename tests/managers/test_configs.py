"""The configs manager end to end: discovery, records, and planted secrets that never reach
the index (points, embedded texts), an export archive, the logs or the reports.

Runs against the embedded Qdrant Edge store and the hashing embedder, through the ordinary
sync path (``open_index`` + ``Index.sync``), on tests/fixtures/configs.
"""

from __future__ import annotations

import gzip
import json
import logging
import shutil
import tarfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from planvec.cli.main import cli
from planvec.embed.hashing import HashingEmbedder
from planvec.errors import ConfigError
from planvec.managers.base import ManagerInputs
from planvec.managers.configs import ConfigManager, ConfigSource
from planvec.records import Plan, SourceFailure
from planvec.settings import Settings, load_settings
from planvec.wiring import open_index

from .planted import CONFIGS, KEPT, NEVER_READ, PLANTED


class RecordingEmbedder(HashingEmbedder):
    """The hashing embedder, keeping every text it was asked to embed."""

    def __init__(self) -> None:
        super().__init__()
        self.seen: list[str] = []

    def embed(self, texts: Sequence[str]) -> Any:
        self.seen.extend(texts)
        return super().embed(texts)


def _settings(tmp_path: Path) -> Settings:
    return load_settings(
        env={},
        index_dir=tmp_path / "idx",
        embedder="hashing",
        cache_dir=tmp_path / "cache",
        collection="planvec_configs",
    )


def _items() -> tuple[list[Plan], list[SourceFailure]]:
    plans, failures = [], []
    for item in ConfigSource([CONFIGS]).iter_plans():
        (plans if isinstance(item, Plan) else failures).append(item)  # type: ignore[arg-type]
    return plans, failures


def _assert_clean(blob: str, where: str) -> None:
    for secret in (*PLANTED, *NEVER_READ):
        assert secret not in blob, f"{secret!r} leaked into {where}"


def test_discovery_skips_dependencies_and_venvs_and_isolates_the_bad_file() -> None:
    plans, failures = _items()
    assert [p.path for p in plans] == [
        ".env",
        "app.yaml",
        "config.toml",
        "deploy/k8s.yml",
        "settings.json",
        "setup.cfg",
    ]
    assert [f.path for f in failures] == ["broken.json"]
    assert "invalid JSON at line 3" in failures[0].message


def test_records_carry_key_paths_lines_and_kept_values() -> None:
    plans, _ = _items()
    tasks = {(t.plan, t.key): t for p in plans for t in p.tasks}
    by_key = {t.key: t for t in tasks.values()}
    for key, shown in KEPT:
        assert by_key[key].text == f"{key} = {shown}", key
        assert by_key[key].metadata["redacted"] == []
    port = tasks[("app.yaml", "server.port")]
    assert (port.line, port.metadata["value"], port.metadata["value_type"]) == (4, 8443, "int")
    assert port.section == ("app.yaml", "server")
    assert port.metadata["kind"] == "config" and port.status == "item"
    password = tasks[("app.yaml", "database.password")]
    assert password.line == 11 and password.text == "database.password = [REDACTED:secret-key]"
    assert tasks[("config.toml", "mirrors[1].url")].line == 25
    assert tasks[(".env", "SESSION_SECRET")].line == 7
    assert tasks[("setup.cfg", "upload.password")].line == 12
    assert tasks[("settings.json", "telemetry.session")].metadata["redacted"] == ["jwt"]
    assert len({t.id for t in tasks.values()}) == len(tasks)


def test_planted_secrets_never_reach_the_index_logs_or_reports(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    embedder = RecordingEmbedder()
    manager = ConfigManager()
    inputs = ManagerInputs(paths=(CONFIGS,))
    with open_index(_settings(tmp_path), write=True, embedder=embedder) as index:
        report = index.sync(manager.source(inputs))
        findings = manager.analyse(index, report, inputs)
        points = list(index.admin.scroll(index.collection, with_payload=True))
        hits = index.search("stripe payment api key", limit=20)
    assert report.added == sum(len(p.tasks) for p in _items()[0]) and report.failed == 1
    assert len(points) == report.added
    assert {p.payload["metadata"]["kind"] for p in points} == {"config"}
    _assert_clean(json.dumps([p.payload for p in points], ensure_ascii=False), "payloads")
    _assert_clean("\n".join(embedder.seen), "embedded texts")
    _assert_clean(json.dumps([h.to_dict() for h in hits], ensure_ascii=False), "search hits")
    _assert_clean(json.dumps(report.to_dict(), ensure_ascii=False), "the sync report")
    _assert_clean(json.dumps([f.to_dict() for f in findings], ensure_ascii=False), "findings")
    _assert_clean("\n".join(r.getMessage() for r in caplog.records), "logs")
    assert any(r.levelno == logging.DEBUG for r in caplog.records)  # DEBUG was captured
    assert any("stripe_api_key" in t and "REDACTED" in t for t in embedder.seen)


def test_dry_run_report_changes_hold_no_secret(tmp_path: Path) -> None:
    with open_index(_settings(tmp_path), write=True, embedder=HashingEmbedder()) as index:
        index.sync(ConfigSource([CONFIGS]))
        (tmp_path / "cfg").mkdir()
        shutil.copy(CONFIGS / "app.yaml", tmp_path / "cfg" / "app.yaml")
        report = index.sync(ConfigSource([tmp_path / "cfg"]), dry_run=True)
    assert report.to_dict()["changes"]
    _assert_clean(json.dumps(report.to_dict(), ensure_ascii=False), "a dry-run report")


def _archive_text(archive: Path) -> str:
    parts = []
    with tarfile.open(archive) as tar:
        for member in tar.getmembers():
            handle = tar.extractfile(member)
            if handle is None:
                continue
            data = handle.read()
            parts.append(gzip.decompress(data) if member.name.endswith(".gz") else data)
    return b"\n".join(parts).decode("utf-8", "replace")


def test_export_archive_cli_search_and_check_reports_hold_no_secret(tmp_path: Path) -> None:
    with open_index(_settings(tmp_path), write=True, embedder=HashingEmbedder()) as index:
        index.sync(ConfigSource([CONFIGS]))
    common = ["--index", str(tmp_path / "idx"), "--collection", "planvec_configs"]
    runner = CliRunner()
    out = tmp_path / "configs.planvec.tar"
    result = runner.invoke(cli, ["export", str(out), *common], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    text = _archive_text(out)
    assert "database.password = [REDACTED:secret-key]" in text  # the records are there
    _assert_clean(text, "the export archive")
    found = runner.invoke(
        cli, ["search", "database password", "--json", *common], catch_exceptions=False
    )
    assert found.exit_code == 0, found.output
    assert "database.password" in found.output
    _assert_clean(found.output, "search --json")
    markdown = tmp_path / "check.md"
    checked = runner.invoke(
        cli, ["check", "--json", "--markdown", str(markdown), *common], catch_exceptions=False
    )
    assert checked.exit_code == 0, checked.output  # payloads and vectors are sound
    assert "settings.json" in markdown.read_text(encoding="utf-8")
    _assert_clean(checked.output, "check --json")
    _assert_clean(markdown.read_text(encoding="utf-8"), "the check's Markdown report")


def test_a_second_sync_changes_nothing_and_an_edit_moves_one_record(tmp_path: Path) -> None:
    work = tmp_path / "cfg"
    shutil.copytree(CONFIGS, work)
    with open_index(_settings(tmp_path), write=True, embedder=HashingEmbedder()) as index:
        first = index.sync(ConfigSource([work]))
        again = index.sync(ConfigSource([work]))
        assert again.added == again.updated == again.deleted == 0
        assert again.unchanged == first.added
        app = work / "app.yaml"
        app.write_text(app.read_text().replace("port: 8443", "port: 9443"), encoding="utf-8")
        edited = index.sync(ConfigSource([work]))
    assert (edited.added, edited.updated, edited.deleted) == (0, 1, 0)


def test_manager_needs_paths() -> None:
    with pytest.raises(ConfigError, match="paths"):
        ConfigManager().source(ManagerInputs())


def test_storage_module_registers_both_managers() -> None:
    from planvec.managers import storage

    registered: list[Any] = []
    storage.register_managers(registered.append)
    assert [(m.name, m.kind, m.collection) for m in registered] == [
        ("configs", "config", "planvec_configs"),
        ("schemas", "schema", "planvec_schemas"),
    ]


def test_the_example_project_configs_read_cleanly() -> None:
    """examples/project/config (the demo's files): every file read, only the placeholder
    session secret redacted, env references kept."""
    example = Path(__file__).resolve().parents[2] / "examples" / "project" / "config"
    items = list(ConfigSource([example]).iter_plans())
    assert all(isinstance(i, Plan) for i in items)
    tasks = {t.key: t for p in items for t in p.tasks}  # type: ignore[union-attr]
    redacted = sorted(k for k, t in tasks.items() if t.metadata["redacted"])
    assert redacted == ["session.secret"]
    assert tasks["database.password"].text == "database.password = ${ORDERS_DB_PASSWORD}"
    assert tasks["upstreams[1].url"].text == "upstreams[1].url = http://billing.internal:8000"


def test_keys_equal_after_redaction_keep_distinct_ids(tmp_path: Path) -> None:
    """A mapping keyed by tokens: both keys redact to the same text, each keeps its record."""
    (tmp_path / "tokens.yaml").write_text(
        "users:\n"
        "  ghp_R8tK2mWq9ZxV4bN7cL1pD5fH3jS6gA0yE2uT: admin\n"
        "  ghp_Q7sJ1lVp8YwU3aM6bK0oC4eG2iR5fZ9xD1tS: reader\n",
        encoding="utf-8",
    )
    (plan,) = ConfigSource([tmp_path]).iter_plans()
    assert isinstance(plan, Plan)
    assert [(t.key, t.text) for t in plan.tasks] == [
        ('users."[REDACTED:github-token]"', 'users."[REDACTED:github-token]" = admin'),
        ('users."[REDACTED:github-token]"#2', 'users."[REDACTED:github-token]" = reader'),
    ]
    assert len({t.id for t in plan.tasks}) == 2
    assert "ghp_" not in json.dumps([t.to_dict() for t in plan.tasks])


def test_non_finite_numbers_become_text(tmp_path: Path) -> None:
    (tmp_path / "limits.toml").write_text("ceiling = inf\nratios = [nan, 0.5]\n", "utf-8")
    (plan,) = ConfigSource([tmp_path]).iter_plans()
    assert isinstance(plan, Plan)
    assert [t.metadata["value"] for t in plan.tasks] == ["inf", ["nan", 0.5]]
    json.dumps([t.to_dict() for t in plan.tasks], allow_nan=False)


def test_planted_secrets_are_absent_from_the_combined_managers_report(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """``planvec managers run`` over the planted configs: its JSON and Markdown reports (with
    the anomaly findings that quote item texts) and the CLI's output hold no secret."""
    project = tmp_path / "project"
    shutil.copytree(CONFIGS, project)
    report_file = tmp_path / "managers.md"
    args = ["managers", "run", "configs", str(project), "--index", str(tmp_path / "idx")]
    with caplog.at_level(logging.DEBUG):
        result = CliRunner().invoke(
            cli, [*args, "--offline", "--json", "--report", str(report_file)]
        )
    data = json.loads(result.stdout)
    assert data["managers"][0]["name"] == "configs" and data["managers"][0]["items"] > 20
    texts = {
        "json": result.stdout,
        "stderr": result.stderr,
        "markdown": report_file.read_text(encoding="utf-8"),
        "logs": caplog.text,
    }
    for where, text in texts.items():
        leaked = [secret for secret in PLANTED if secret in text]
        assert leaked == [], f"secrets in the {where} report: {leaked}"
