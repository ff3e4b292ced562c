"""Vector sanity on pages of points as a legacy or dot-product collection can hold them."""

from __future__ import annotations

import math

from planvec.checks.findings import CheckReport
from planvec.checks.vectors import VectorChecker
from planvec.embed.hashing import HashingEmbedder
from planvec.store.base import PointRecord


def test_each_damaged_vector_is_named_and_sound_ones_pass() -> None:
    emb = HashingEmbedder(16)
    good = [float(x) for x in emb.embed(["write the docs"])[0]]
    page = [
        PointRecord("ok", good, {"plan": "p.md", "line": 1, "text": "write the docs"}),
        PointRecord("short", good[:8], {"plan": "p.md", "line": 2, "text": "x"}),
        PointRecord("nan", [math.nan, *good[1:]], {"plan": "p.md", "line": 3, "text": "x"}),
        PointRecord("zero", [0.0] * 16, {"plan": "p.md", "line": 4, "text": "x"}),
        PointRecord("scaled", [2 * x for x in good], {"plan": "p.md", "line": 5, "text": "x"}),
        PointRecord("novec", None, {"plan": "p.md", "line": 6, "text": "x"}),
        PointRecord("stale", good, {"plan": "p.md", "line": 7, "text": "something else"}),
    ]
    checker = VectorChecker(emb, family=emb.family, model_id=emb.model_id, sample=10)
    report = CheckReport()
    checker.check_page(page, report)
    checker.finish(report)
    assert {f.id: f.kind for f in report.findings} == {
        "short": "wrong_dimension",
        "nan": "vector_nan",
        "zero": "vector_zero",
        "scaled": "vector_not_normalized",
        "novec": "wrong_dimension",
        "stale": "stale_vector",
    }
    assert report.vectors_reembedded == 2  # only the sound vectors are re-embedded


def test_reembedding_sample_is_bounded() -> None:
    emb = HashingEmbedder(16)
    texts = [f"task number {i}" for i in range(50)]
    vecs = emb.embed(texts)
    page = [
        PointRecord(str(i), [float(x) for x in v], {"plan": "p", "line": i, "text": t})
        for i, (t, v) in enumerate(zip(texts, vecs, strict=True))
    ]
    checker = VectorChecker(emb, family=emb.family, model_id=emb.model_id, sample=7)
    report = CheckReport()
    checker.check_page(page[:20], report)
    checker.check_page(page[20:], report)
    checker.finish(report)
    assert report.vectors_reembedded == 7 and report.findings == []


def test_payload_comparison_agrees_with_payload_hash() -> None:
    """Pass 2 compares payloads as JSON values instead of hashing each stored payload."""
    from planvec.checks.compare import _same_payload
    from planvec.embedding_recipe import payload_hash

    expected = {
        "checked": True,
        "line": 3,
        "section": ["A", "B"],
        "metadata": {"tags": ["x"]},
        "estimate": 2.0,
        "key": None,
    }
    variants = [
        dict(expected),
        dict(expected, checked=1),
        dict(expected, line=3.0),
        dict(expected, section=["A"]),
        dict(expected, metadata={"tags": ["x"], "extra": 1}),
        dict(expected, estimate=2),
        {k: v for k, v in expected.items() if k != "key"},
        dict(expected, last_updated="2026-01-01", payload_hash="h"),
        dict(expected, new_field=1),
    ]
    for stored in variants:
        assert _same_payload(stored, expected) == (payload_hash(stored) == payload_hash(expected))
