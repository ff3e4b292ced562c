"""``planvec model prepare``: the embedder's one-time work, done ahead of a first index.

Through the real CLI (click runner). The ONNX case loads the real model and exports it into
a temporary cache (``model`` + ``slow``: ~15 s through torch).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from planvec.cli.main import cli


def test_prepare_hashing_reports_ready_without_export() -> None:
    result = CliRunner().invoke(cli, ["model", "prepare", "--offline", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["embedder"] == "hashing" and data["exported"] is False and data["path"] is None


@pytest.mark.model
@pytest.mark.slow
def test_prepare_exports_the_onnx_model_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    first = CliRunner().invoke(cli, ["model", "prepare", "--embedder", "onnx", "--json"])
    assert first.exit_code == 0, first.output
    data = json.loads(first.stdout)
    assert data["exported"] is True and Path(data["path"]).is_file()
    again = CliRunner().invoke(cli, ["model", "prepare", "--embedder", "onnx", "--json"])
    assert json.loads(again.stdout)["exported"] is False
