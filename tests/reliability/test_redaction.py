"""Issue 19, class 7: no leaked secrets. A password inside ``--qdrant-url`` (or an API key
in its query) never appears in errors, logs, ``health --json``, index reports, manifests or
archives: one helper (``planvec.redact``) renders every URL, and a logging filter cleans
every log line.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from planvec.cli.main import cli
from planvec.errors import ConfigError
from planvec.redact import RedactingFilter, has_credentials, redact_text, redact_url
from planvec.settings import load_settings

from .conftest import REPO

pytestmark = pytest.mark.reliability

SECRET = "s3cr3t-pw-77aa"
DEAD = f"http://admin:{SECRET}@127.0.0.1:1"  # nothing listens on port 1


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (DEAD, "http://***@127.0.0.1:1"),  # the example
        (f"https://{SECRET}@q.example/x", "https://***@q.example/x"),  # user only
        (f"https://a:b@h:1/?api_key={SECRET}&x=1", "https://***@h:1/?api_key=***&x=1"),
        (
            f"see http://u:{SECRET}@a:1 and http://v:{SECRET}@b:2.",
            "see http://***@a:1 and http://***@b:2.",
        ),
        (f"http://u:p@ss{SECRET}@h:1/c", "http://***@h:1/c"),  # an unencoded '@' in it
        ("http://localhost:6333 collection 'tasks'", "http://localhost:6333 collection 'tasks'"),
        ("mail bob@example.org, no URL", "mail bob@example.org, no URL"),
    ],
)
def test_redact_text(text: str, expected: str) -> None:
    assert redact_text(text) == expected
    assert SECRET not in redact_text(text)


def test_redact_url_and_has_credentials() -> None:
    assert redact_url(None) is None
    assert redact_url(f"bob:{SECRET}@localhost:6333") == "***@localhost:6333"
    assert has_credentials(DEAD) and not has_credentials("http://localhost:6333")


def test_settings_errors_never_echo_the_password() -> None:
    for url in (f"http://u:{SECRET}@host:notaport", f"ftp://u:{SECRET}@host"):
        with pytest.raises(ConfigError) as info:
            load_settings(env={}, qdrant_url=url)
        assert SECRET not in str(info.value) and "***" in str(info.value)


def test_logging_filter_redacts_messages_and_arguments(caplog: pytest.LogCaptureFixture) -> None:
    logger = logging.getLogger("planvec.test.redact")
    caplog.handler.addFilter(RedactingFilter())
    with caplog.at_level(logging.WARNING, logger="planvec.test.redact"):
        logger.warning("connecting to %s", DEAD)
        logger.warning(f"retrying {DEAD}")
    assert len(caplog.records) == 2
    assert SECRET not in caplog.text and "http://***@127.0.0.1:1" in caplog.text


def test_health_json_and_human_output_hide_the_password() -> None:
    runner = CliRunner()
    for extra in (["--json"], []):
        result = runner.invoke(cli, ["health", "--qdrant-url", DEAD, "--timeout", "2", *extra])
        assert result.exit_code == 1
        text = result.stdout + result.stderr
        assert SECRET not in text
        assert "http://***@127.0.0.1:1" in text
        if extra:
            report = json.loads(result.stdout)
            assert report["location"] == "http://***@127.0.0.1:1" and report["problems"]


def test_search_error_and_debug_logs_hide_the_password() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "planvec", "-vv", "search", "x", "--qdrant-url", DEAD,
         "--timeout", "3"],
        capture_output=True, text=True, timeout=120,
        env={**os.environ, "PLANVEC_EMBEDDER": "hashing", "PLANVEC_RETRIES": "2"},
    )  # fmt: skip
    assert proc.returncode == 1
    assert "Error: Qdrant at http://***@127.0.0.1:1 is not reachable" in proc.stderr
    assert "DEBUG" in proc.stderr  # logs were on: the test proves something
    assert SECRET not in proc.stderr + proc.stdout


def test_reports_and_manifests_of_a_memory_index_hold_no_url(tmp_path: Path) -> None:
    plans = REPO / "examples" / "plans"
    runner = CliRunner()
    idx = tmp_path / "idx"
    result = runner.invoke(
        cli, ["index", str(plans), "--index", str(idx), "--offline", "--json"],
        env={"PLANVEC_API_KEY": SECRET},
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    for path in idx.rglob("*"):
        if path.is_file():
            assert SECRET.encode() not in path.read_bytes()
