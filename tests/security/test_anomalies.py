"""The anomaly rule on controlled vectors, and through a real index with the hashing embedder."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from planvec.embed.hashing import HashingEmbedder
from planvec.managers.anomalies import AnomalyRule, anomalies_of, find_anomalies
from planvec.managers.base import ManagerInputs
from planvec.managers.security import SecurityManager
from planvec.settings import load_settings
from planvec.sync_report import SyncReport
from planvec.wiring import open_index

Record = tuple[str, list[float], dict[str, Any]]


def _clusters(rng: np.random.Generator, n_clusters: int = 3, per: int = 15) -> list[Record]:
    out = []
    for c in range(n_clusters):
        center = rng.normal(size=64)
        for i in range(per):
            vec = center + 0.35 * rng.normal(size=64)
            out.append(
                (
                    f"c{c}-{i}",
                    vec.tolist(),
                    {"text": f"cluster {c} item {i}", "plan": "p.md", "line": i + 1},
                )
            )
    return out


def _far(rng: np.random.Generator, name: str) -> Record:
    return (name, rng.normal(size=64).tolist(), {"text": name, "plan": "x.md", "line": 1})


def test_planted_outliers_are_flagged_with_why_and_cluster_members_are_not() -> None:
    rng = np.random.default_rng(7)
    records = [*_clusters(rng), _far(rng, "far-1"), _far(rng, "far-2")]
    findings = anomalies_of(records, "c")
    assert sorted(f.items[0] for f in findings) == ["far-1", "far-2"]
    details = findings[0].details
    assert details["reason"] == "outlier"
    assert details["score"] > details["threshold"] > details["q3"] >= details["median"]
    assert details["nearest"]["id"].startswith(("c", "far"))
    assert details["nearest"]["distance"] <= details["score"]
    assert "> fence" in findings[0].message and "x.md:1" in findings[0].message


def test_copies_count_once() -> None:
    rng = np.random.default_rng(3)
    far = _far(rng, "dup-a")
    records = [*_clusters(rng), far, ("dup-b", far[1], dict(far[2]))]
    findings = anomalies_of(records, "c")
    assert len(findings) == 1
    assert set(findings[0].items) == {"dup-a", "dup-b"} and findings[0].details["copies"] == 2
    # cluster members that are copies of each other are not pulled to distance 0
    clusters = _clusters(np.random.default_rng(3))
    doubled = clusters + [(f"{pid}-copy", vec, p) for pid, vec, p in clusters]
    assert anomalies_of(doubled, "c") == []


def test_new_items_far_from_the_older_ones() -> None:
    rng = np.random.default_rng(11)
    base = _clusters(rng)
    center = rng.normal(size=64)
    pair = [
        (f"new-{i}", (center + 0.1 * rng.normal(size=64)).tolist(), {"text": f"new {i}"})
        for i in range(6)
    ]
    usual = (
        "usual-new",
        (np.asarray(base[0][1]) + 0.05 * rng.normal(size=64)).tolist(),
        {"text": "u"},
    )
    records = [*base, *pair, usual]
    # six new items in a new tight group are each other's neighbours: no outliers overall
    assert anomalies_of(records, "c") == []
    new_ids = {p[0] for p in pair} | {"usual-new"}
    findings = anomalies_of(records, "c", new_ids=new_ids)
    assert sorted(f.items[0] for f in findings) == sorted(p[0] for p in pair)
    assert {f.details["reason"] for f in findings} == {"new_far"}
    assert all(f.details["nearest"]["id"].startswith("c") for f in findings)


def test_small_collections_are_not_judged() -> None:
    rng = np.random.default_rng(1)
    records = [_far(rng, f"x{i}") for i in range(5)]
    assert anomalies_of(records, "c", rule=AnomalyRule(min_items=8)) == []


def _write_policies(root: Path, extra: str = "") -> None:
    rules = "\n".join(
        f"- PW-{i}: Account passwords MUST be rotated and account passwords MUST be {word}."
        for i, word in enumerate(
            ["long", "unique", "random", "salted", "hashed", "secret", "private", "strong",
             "checked", "renewed", "audited", "stored safely"]
        )
    )  # fmt: skip
    (root / "policies").mkdir(exist_ok=True)
    (root / "policies" / "passwords.md").write_text(
        f"# Passwords\n\n{rules}\n{extra}", encoding="utf-8"
    )


def test_end_to_end_through_the_orchestrator(tmp_path: Path) -> None:
    """Hashing vectors are lexical: a rule sharing no word with the others is far from them.

    ``planvec managers run`` checks every manager's collection after its sync."""
    from planvec.managers.orchestrator import run_managers

    _write_policies(tmp_path)
    settings = load_settings(index_dir=tmp_path / "idx", embedder="hashing")
    inputs = ManagerInputs(paths=(tmp_path,))
    first = run_managers(settings, inputs, ["security"]).runs[0]
    assert first.status == "ok" and first.sync is not None and first.sync["added"] == 12
    assert [f for f in first.findings if f.kind == "anomaly"] == []
    _write_policies(
        tmp_path, extra="- FUN-1: Le tournoi de football du samedi DOIT commencer à midi.\n"
    )
    second = run_managers(settings, inputs, ["security"]).runs[0]
    assert second.sync is not None and second.sync["added"] == 1
    findings = [f for f in second.findings if f.kind == "anomaly"]
    assert [f.details["item"]["key"] for f in findings] == ["FUN-1"]
    assert findings[0].manager == "security"
    assert findings[0].details["item"]["plan"] == "policies/passwords.md"
    policies = replace(settings, collection="planvec_policies")
    with open_index(policies, embedder=HashingEmbedder()) as index:
        assert find_anomalies(index) == find_anomalies(index)  # deterministic
        assert SecurityManager().analyse(index, _empty_report(), inputs) == []  # hashing


def _empty_report() -> SyncReport:
    return SyncReport()


@pytest.mark.parametrize("chunk", [1, 7, 1024])
def test_chunking_does_not_change_the_result(chunk: int) -> None:
    rng = np.random.default_rng(5)
    records = [*_clusters(rng), _far(rng, "far")]
    found = anomalies_of(records, "c", rule=AnomalyRule(chunk=chunk))
    assert [f.items for f in found] == [("far",)]
