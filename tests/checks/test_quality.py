"""`quality`: metrics on a real index, near-duplicates, baselines and the model-swap alert."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

from planvec.checks.baseline import compare_baseline, load_baseline, save_baseline
from planvec.checks.quality import (
    METRICS,
    SCALE_FREE_METRICS,
    QualityOptions,
    load_probes,
    measure_quality,
)
from planvec.cli.main import cli
from planvec.errors import CheckFailed, ConfigError
from planvec.index import Index, sources_for
from planvec.store.base import PointRecord, VectorStore


def test_probe_set_is_shipped_and_balanced() -> None:
    pairs, distractors = load_probes()
    assert len(pairs) >= 40 and len(distractors) >= 10
    assert {lang for _, _, lang in pairs} == {"en", "fr", "fr-en"}
    assert len({a for a, _, _ in pairs}) == len(pairs)


def test_metrics_on_a_hashing_index(index: Index, tmp_path: Path) -> None:
    report = measure_quality(index, QualityOptions(near_duplicate_threshold=0.8))
    assert set(METRICS) <= set(report.metrics)
    assert report.points == report.sampled == 12
    # the text of an indexed task finds that task first
    assert report.metrics["self_retrieval_at1"] == 1.0
    assert report.vectors["dimensions"] == {"384": 12}
    assert report.vectors["not_normalized"] == report.vectors["zero"] == 0
    assert abs(report.vectors["norm_mean"] - 1.0) < 1e-3
    # the same backup task is planned in two plans: listed as a cross-plan near-duplicate
    pairs = {(d["plan"], d["other_plan"]) for d in report.near_duplicates}
    assert pairs <= {("roadmap.md", "other.md"), ("other.md", "roadmap.md")} and pairs
    assert all("sauvegarde de la base" in d["text"] for d in report.near_duplicates)
    assert report.exit_code == 0 and "planvec quality" in report.to_markdown()

    path = tmp_path / "baseline.json"
    save_baseline(report, path)
    again = measure_quality(index)
    assert compare_baseline(again, load_baseline(path)) == []
    assert again.comparison["probe_accuracy"]["drop"] == 0.0


def test_a_drop_beyond_the_threshold_is_an_alert(index: Index, tmp_path: Path) -> None:
    report = measure_quality(index)
    better = report.baseline_dict()
    better["metrics"] = dict(
        better["metrics"],
        probe_accuracy=report.metrics["probe_accuracy"] + 0.04,
        probe_mrr=report.metrics["probe_mrr"] + 0.2,
    )
    alerts = compare_baseline(report, better, max_drop=0.05)
    assert len(alerts) == 1 and alerts[0].startswith("probe_mrr dropped")
    assert report.exit_code == 1 and "🚨" in report.to_markdown()


def test_across_model_families_only_rank_metrics_are_compared(index: Index) -> None:
    """A model with another cosine scale (e5: most pairs above 0.7) has smaller margins
    without ranking worse: the migration gate compares only the scale-free metrics."""
    report = measure_quality(index)
    wider = report.baseline_dict()
    wider["metrics"] = dict(wider["metrics"], probe_margin=report.metrics["probe_margin"] + 0.07)
    assert compare_baseline(report, wider, metrics=SCALE_FREE_METRICS) == []
    assert [a.split()[0] for a in compare_baseline(report, wider)] == ["probe_margin"]
    assert "probe_margin" not in SCALE_FREE_METRICS and "probe_mrr" in SCALE_FREE_METRICS


def test_damaged_vectors_show_in_statistics_and_alert(index: Index) -> None:
    baseline = measure_quality(index).baseline_dict()
    point = next(index.points.scroll(with_vectors=True))
    index.points.upsert([PointRecord(point.id, [0.0] * 384, point.payload, point.sparse)])
    report = measure_quality(index)
    assert report.vectors["zero"] == 1
    assert any("damaged vectors" in a for a in compare_baseline(report, baseline))


def test_quality_refuses_an_index_of_another_model(
    store: VectorStore, plan_tree: Path, new_index: Callable[..., Index]
) -> None:
    new_index(store, dimension=64).sync(sources_for([plan_tree]))
    with pytest.raises(CheckFailed, match="64"):
        measure_quality(new_index(store))


def test_bad_baseline_file_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "b.json"
    path.write_text("{}", encoding="utf-8")
    with pytest.raises(ConfigError, match="not a planvec quality baseline"):
        load_baseline(path)


@pytest.mark.model
def test_swapping_in_a_worse_model_raises_the_alert(plan_tree: Path, tmp_path: Path) -> None:
    """Baseline with the real model; the same plans indexed with the hashing embedder fall
    below it on the paraphrase probes: alert, exit code 1."""
    from planvec.embed.factory import make_embedder
    from planvec.store import open_store
    from planvec.text.lexical import LexicalEncoder

    store = open_store(index_dir=tmp_path / "real")
    try:
        real = Index(store, make_embedder("onnx", tmp_path / "cache"), lexical=LexicalEncoder())
        real.sync(sources_for([plan_tree]))
        baseline = measure_quality(real)
    finally:
        store.close()
    path = tmp_path / "real-baseline.json"
    save_baseline(baseline, path)
    assert baseline.metrics["probe_accuracy"] >= 0.6  # the real model knows paraphrases

    runner = CliRunner()
    idx = str(tmp_path / "hashing")
    result = runner.invoke(cli, ["index", str(plan_tree), "--index", idx, "--offline"])
    assert result.exit_code == 0, result.output
    result = runner.invoke(
        cli, ["quality", "--index", idx, "--offline", "--baseline", str(path), "--json"]
    )
    assert result.exit_code == 1
    data = json.loads(result.stdout)
    assert data["status"] == "alert"
    assert any(a.startswith("probe_accuracy dropped") for a in data["alerts"])
    assert "ALERT: probe_accuracy dropped" in result.stderr
