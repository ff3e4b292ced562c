"""With the real model (all-MiniLM-L6-v2, ONNX): planted off-topic rules, CWE accuracy.

``model`` + ``slow``: the ONNX export alone takes a while on 2 cores.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from planvec.embed.base import Embedder
from planvec.managers.anomalies import find_anomalies
from planvec.managers.base import ManagerInputs
from planvec.managers.cwe import CweClassifier, accuracy, load_catalogue
from planvec.managers.security import SecurityManager
from planvec.settings import load_settings
from planvec.wiring import open_index

from .conftest import FIXTURES, PLANTED

pytestmark = [pytest.mark.model, pytest.mark.slow]


@pytest.fixture(scope="module")
def model(tmp_path_factory: pytest.TempPathFactory) -> Embedder:
    from planvec.embed.factory import make_embedder

    return make_embedder("onnx", tmp_path_factory.mktemp("model-cache"))


def _sync_and_analyse(model: Embedder, index_dir: Path, *paths: Path) -> list[dict[str, object]]:
    settings = load_settings(index_dir=index_dir, collection="planvec_policies")
    manager = SecurityManager()
    inputs = ManagerInputs(paths=paths, options={"classify": False})
    with open_index(settings, write=True, embedder=model) as index:
        report = index.sync(manager.source(inputs))
        found = find_anomalies(index, new_ids=report.added_ids, manager=manager.name)
        return [dict(f.details) for f in [*found, *manager.analyse(index, report, inputs)]]


def test_planted_off_topic_rules_are_flagged_and_ordinary_ones_are_not(
    model: Embedder, tmp_path: Path, example_policies: Path, fixture_policies: Path
) -> None:
    found = _sync_and_analyse(model, tmp_path / "idx", example_policies, fixture_policies)
    assert sorted(str(d["item"]["key"]) for d in found) == sorted(PLANTED)  # type: ignore[index]
    assert all(d["reason"] == "outlier" for d in found)


def test_planted_rules_added_later_are_reported(
    model: Embedder, tmp_path: Path, example_policies: Path, fixture_policies: Path
) -> None:
    copy = tmp_path / "policies"
    shutil.copytree(fixture_policies, copy)
    originals = {p: p.read_text(encoding="utf-8") for p in copy.iterdir()}
    for path, text in originals.items():  # the YAML's planted rule is its last 3 lines
        lines = [ln for ln in text.splitlines() if not any(k in ln for k in PLANTED)]
        if path.suffix == ".yaml":
            lines = lines[:-3]
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert _sync_and_analyse(model, tmp_path / "idx", example_policies, copy) == []
    for path, text in originals.items():
        path.write_text(text, encoding="utf-8")
    found = _sync_and_analyse(model, tmp_path / "idx", example_policies, copy)
    assert sorted(str(d["item"]["key"]) for d in found) == sorted(PLANTED)  # type: ignore[index]


def test_cwe_accuracy_is_computed_on_the_held_out_set(model: Embedder) -> None:
    """The figure is computed (what it reaches is reported in docs, never asserted)."""
    rows = [
        json.loads(line)
        for line in (FIXTURES / "cwe_findings_test.jsonl").read_text(encoding="utf-8").splitlines()
    ]
    result = accuracy(CweClassifier(model, load_catalogue()), rows, k=3)
    assert result["n"] == len(rows) >= 60
    assert 0.0 <= result["top1"] <= result["top3"] <= 1.0
    assert set(result["by_lang"]) == {"en", "fr"}
    assert all(len(r["predicted"]) == 3 for r in result["rows"])
