"""The shipped CWE catalogue, the labelled sets, the classifier and `planvec security`."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from planvec.embed.hashing import HashingEmbedder
from planvec.errors import ConfigError
from planvec.managers import security as security_plugin
from planvec.managers.cwe import CweClassifier, accuracy, classify, load_catalogue

from .conftest import EXAMPLE_POLICIES, FIXTURES


def _labelled(name: str) -> list[dict[str, str]]:
    path = FIXTURES / f"cwe_findings_{name}.jsonl"
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


def test_catalogue_is_a_documented_versioned_subset_of_mitre_cwe() -> None:
    catalogue = load_catalogue()
    assert catalogue.version == "4.14" and catalogue.meta["cwe_date"] == "2024-02-29"
    ids = [w.id for w in catalogue.weaknesses]
    assert len(ids) == len(set(ids)) >= 40
    assert set(catalogue.meta["top25_2023"]) <= set(ids)
    assert "Terms of Use" in catalogue.meta["license"]
    by_id = {w.id: w for w in catalogue.weaknesses}
    assert by_id["CWE-79"].name.startswith("Improper Neutralization of Input During Web Page")
    assert "XSS" in by_id["CWE-79"].alternate_terms
    assert all(w.description for w in catalogue.weaknesses)
    license_file = Path(security_plugin.__file__).parents[1] / "data" / "cwe-LICENSE.txt"
    assert "MITRE" in license_file.read_text(encoding="utf-8")


def test_labelled_sets_use_catalogue_ids_and_mix_languages() -> None:
    ids = {w.id for w in load_catalogue().weaknesses}
    test, dev = _labelled("test"), _labelled("dev")
    assert len(test) >= 60 and Counter(r["lang"] for r in test).keys() == {"en", "fr"}
    assert all(r["cwe"] in ids for r in test + dev)
    assert not {r["text"] for r in test} & {r["text"] for r in dev}  # separate sets


def test_malformed_catalogue_is_a_clear_error() -> None:
    with pytest.raises(ConfigError, match="line 2 is malformed"):
        load_catalogue('{"_meta": {}}\n{"id": "CWE-1"}\n')


def test_classify_returns_k_ranked_matches() -> None:
    """Hashing vectors are lexical: a finding naming a weakness's alternate term finds it."""
    texts = ["XSS cross-site scripting", "ReDoS regular expression complexity"]
    results = classify(texts, HashingEmbedder(), k=4)
    assert [len(r) for r in results] == [4, 4]
    assert results[0][0].cwe_id == "CWE-79" and results[1][0].cwe_id == "CWE-1333"
    scores = [m.score for m in results[0]]
    assert scores == sorted(scores, reverse=True)
    assert classify([], HashingEmbedder()) == []


def test_accuracy_counts_top1_and_topk() -> None:
    classifier = CweClassifier(HashingEmbedder())
    rows = [
        {"text": "XSS", "cwe": "CWE-79", "lang": "en"},
        {"text": "XSS", "cwe": "CWE-89", "lang": "fr"},
    ]
    result = accuracy(classifier, rows, k=3)
    assert result["n"] == 2 and result["top1"] == 0.5
    assert result["by_lang"]["en"]["top1"] == 1.0 and result["by_lang"]["fr"]["top1"] == 0.0


@pytest.fixture
def security_cli() -> click.Group:
    """planvec's root CLI group (``planvec security`` is one of its commands)."""
    from planvec.cli.main import cli

    return cli


def test_cli_classify_texts(security_cli: click.Group) -> None:
    runner = CliRunner()
    text = "Cross-Site Request Forgery on the settings form"
    args = ["security", "classify", "--offline", "--json", "-k", "2", text]
    result = runner.invoke(security_cli, args)
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["cwe_version"] == "4.14"
    assert data["results"][0]["cwe"][0]["cwe_id"] == "CWE-352"
    assert len(data["results"][0]["cwe"]) == 2
    usage = runner.invoke(security_cli, ["security", "classify"])
    assert usage.exit_code == 2 and "give one or more TEXTS" in usage.output
    assert "Example" in runner.invoke(security_cli, ["security", "classify", "-h"]).output


def test_cli_classify_tasks_and_anomalies_of_an_index(
    security_cli: click.Group, tmp_path: Path
) -> None:
    from planvec.managers.base import ManagerInputs
    from planvec.managers.security import SecurityManager
    from planvec.settings import load_settings
    from planvec.wiring import open_index

    settings = load_settings(
        index_dir=tmp_path / "idx", collection="planvec_policies", embedder="hashing"
    )
    with open_index(settings, write=True) as index:
        index.sync(SecurityManager().source(ManagerInputs(paths=(EXAMPLE_POLICIES,))))
    common = ["--index", str(tmp_path / "idx"), "--collection", "planvec_policies", "--offline"]
    runner = CliRunner()
    result = runner.invoke(security_cli, ["security", "classify", "--tasks", "--json", *common])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)["results"]
    assert len(rows) == 22 and all(r["where"].endswith(tuple("0123456789")) for r in rows)
    result = runner.invoke(security_cli, ["security", "anomalies", "--json", *common])
    assert result.exit_code in (0, 1) and isinstance(json.loads(result.stdout), list)
    missing = runner.invoke(
        security_cli, ["security", "anomalies", "--index", str(tmp_path / "no"), "--offline"]
    )
    assert missing.exit_code == 1 and "planvec index" in missing.output
