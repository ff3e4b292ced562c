"""Damage an index in every way `check` knows, then check, dry-run repair and repair."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from planvec.checks.findings import KINDS, REPORT_SCHEMA
from planvec.checks.repair import repair_index
from planvec.checks.verify import check_index
from planvec.errors import CheckFailed, SourceError
from planvec.index import Index, sources_for
from planvec.records import Plan, SourceFailure, point_id
from planvec.store.base import PointRecord, VectorStore


class Points:
    """The points of an index, looked up by a fragment of their text."""

    def __init__(self, index: Index) -> None:
        self.all = list(index.points.scroll(with_vectors=True))

    def __getitem__(self, fragment: str) -> PointRecord:
        (match,) = [p for p in self.all if fragment in str(p.payload["text"])]
        return match


def changed(point: PointRecord, **changes: Any) -> PointRecord:
    """A copy of ``point`` with some fields replaced (vector, payload, id)."""
    return dataclasses.replace(point, **changes)


def kinds_by_id(report: Any) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for f in report.findings:
        out.setdefault(f.id or f.plan or "", set()).add(f.kind)
    return out


def test_clean_index_passes_with_stable_json(index: Index, plan_tree: Path) -> None:
    report = check_index(index, sources_for([plan_tree]))
    data = report.to_dict()
    assert (report.status, report.exit_code, data["findings"]) == ("ok", 0, [])
    assert data["schema_version"] == REPORT_SCHEMA
    assert data["points"] == data["tasks"] == 12
    assert data["plans"]["roadmap.md"] == {"tasks": 7, "points": 7, "problems": {}}
    assert data["plans_checked"] == 3
    # every point was verified against the embedding of its text (no cache: re-embedded)
    assert data["vectors_reembedded"] == 12
    assert "No problem found" in report.to_markdown()


def test_check_names_every_damage_and_repair_restores_a_clean_index(
    index: Index,
    plan_tree: Path,
    snapshot: Callable[[Index], Any],
    clean_snapshot: Callable[[], Any],
) -> None:
    pts = Points(index)
    gone = pts["Review security policies"]
    status = pts["Write the API documentation"]
    text = pts["Configurer l'intégration continue"]
    swapped = pts["Archive old dashboards"]
    zero = pts["Choisir le moteur de recherche vectorielle"]
    scaled = pts["Add rate limiting to the public endpoints"]
    fields = pts["Planifier la rotation des sauvegardes"]
    dup = pts["Recruter un développeur frontend"]
    base = pts["Traduire l'interface en espagnol"]
    orphan_id, dup_id = point_id("test", "orphan"), point_id("test", "duplicate")
    ghost_ids = [point_id("test", "ghost", str(i)) for i in range(2)]
    index.points.delete([gone.id])  # missing
    damage = [  # one upsert: every store write flushes
        changed(status, payload=dict(status.payload, status="done")),  # stale payload
        changed(text, payload=dict(text.payload, text="other", embed_hash="0" * 64)),
        changed(swapped, vector=dup.vector),  # vector of another text
        changed(zero, vector=[0.0] * 384),
        changed(scaled, vector=[3.0 * x for x in scaled.vector or []]),  # Qdrant normalizes
        changed(fields, payload={k: v for k, v in fields.payload.items() if k != "status"}),
        changed(dup, id=dup_id),  # duplicate: same plan + line, another id
        changed(
            base,
            id=orphan_id,  # orphan: its task no longer exists
            payload=dict(base.payload, line=999, key=None, text="a removed task"),
        ),
        *[
            changed(base, id=gid, payload=dict(base.payload, plan="deleted/plan.md"))
            for gid in ghost_ids
        ],  # orphan plan
    ]
    index.points.upsert(damage)

    report = check_index(index, sources_for([plan_tree]))
    found = kinds_by_id(report)
    assert report.exit_code == 1
    assert found[str(gone.id)] == {"missing"}
    assert found[str(status.id)] == {"stale_payload"}
    assert "stale_text" in found[str(text.id)]
    assert found[str(swapped.id)] == {"stale_vector"}
    assert found[str(zero.id)] == {"vector_zero"}
    assert str(scaled.id) not in found  # a cosine collection stores it normalized: harmless
    assert "missing_fields" in found[str(fields.id)]
    assert found[dup_id] == {"duplicate"}
    assert "orphan_task" in found[orphan_id]  # (its vector, made for another text, is stale too)
    assert found["deleted/plan.md"] == {"orphan_plan"}
    assert report.plans["sub/notes.md"].problems["missing"] == 1
    assert set(report.summary()) <= set(KINDS)
    markdown = report.to_markdown()
    for kind in (
        "missing",
        "stale_payload",
        "stale_text",
        "stale_vector",
        "vector_zero",
        "missing_fields",
        "duplicate",
        "orphan_task",
        "orphan_plan",
    ):
        assert f"`{kind}`" in markdown

    damaged = snapshot(index)
    dry = repair_index(index, sources_for([plan_tree]), apply=False)
    assert not dry.applied and dry.after is None
    assert snapshot(index) == damaged  # a dry run writes nothing
    assert dry.plan.delete_plans == ["deleted/plan.md"]
    assert set(dry.plan.delete) == {orphan_id, dup_id}
    assert set(dry.plan.upsert) == {str(p.id) for p in (gone, text, swapped, zero, fields)}
    assert dry.plan.payload == {str(status.id)}

    fixed = repair_index(index, sources_for([plan_tree]), apply=True)
    assert fixed.applied and fixed.after is not None
    assert fixed.after.status == "ok", fixed.after.to_dict()["findings"]
    assert fixed.written["upserted"] == 5 and fixed.written["payloads"] == 1
    assert fixed.written["deleted"] == 4 and fixed.written["rebuilt"] == 0
    assert snapshot(index) == clean_snapshot()
    assert check_index(index, sources_for([plan_tree])).exit_code == 0


def test_wrong_dimension_collection_is_named_and_rebuilt(
    store: VectorStore,
    plan_tree: Path,
    new_index: Callable[..., Index],
    snapshot: Callable[[Index], Any],
    clean_snapshot: Callable[[], Any],
) -> None:
    new_index(store, dimension=64).sync(sources_for([plan_tree]))
    index = new_index(store)  # the configuration now says 384-d
    report = check_index(index, sources_for([plan_tree]))
    kinds = report.summary()
    assert kinds.get("collection_mismatch") == 1
    assert any(
        f.detail.get("field") == "dimension"
        for f in report.findings
        if f.kind == "manifest_mismatch"
    )
    assert "wrong_dimension" not in kinds  # one collection finding, not one per point
    before = snapshot(index)
    dry = repair_index(index, sources_for([plan_tree]))
    assert dry.plan.rebuild and snapshot(index) == before
    fixed = repair_index(index, sources_for([plan_tree]), apply=True)
    assert fixed.after is not None and fixed.after.status == "ok"
    assert snapshot(index) == clean_snapshot()


def test_vector_is_compared_with_the_embedding_cache(
    index: Index, plan_tree: Path, tmp_path: Path
) -> None:
    from planvec.checks.vectors import text_embed_hash
    from planvec.checks.verify import CheckOptions
    from planvec.embed.cache import EmbeddingCache

    pts = list(index.points.scroll(with_vectors=True))
    cache = EmbeddingCache(tmp_path / "emb.sqlite")
    model_id = index.embedder.model_id
    from planvec.embedding_recipe import embedding_text_of

    # what the index embedded for each task: the embedding recipe, not the raw text
    refs = index.embedder.embed([embedding_text_of(str(p.payload["text"])) for p in pts])
    cache.put_many(
        model_id,
        [
            (text_embed_hash(str(p.payload["text"]), index.embedder.family), ref)
            for p, ref in zip(pts, refs, strict=True)
        ],
    )
    # a cache entry that disagrees with the stored vector: the point is stale
    victim = pts[0]
    other = np.asarray(refs[1], dtype=np.float32)
    cache.put_many(
        model_id, [(text_embed_hash(str(victim.payload["text"]), index.embedder.family), other)]
    )
    report = check_index(
        index, sources_for([plan_tree]), CheckOptions(vector_sample=0, cache=cache)
    )
    assert report.vectors_checked_against_cache == len(pts)
    assert report.vectors_reembedded == 0
    assert [(f.kind, f.id) for f in report.findings] == [("stale_vector", str(victim.id))]
    cache.close()


def test_without_plans_only_store_level_checks_run(index: Index) -> None:
    report = check_index(index, None)
    assert report.status == "ok" and report.tasks == 0 and report.points == 12


def test_missing_collection_is_a_problem_not_a_crash(
    store: VectorStore, plan_tree: Path, new_index: Callable[..., Index]
) -> None:
    index = new_index(store)
    report = check_index(index, sources_for([plan_tree]))
    assert report.summary() == {"collection_missing": 1} and report.exit_code == 1
    result = repair_index(index, sources_for([plan_tree]), apply=True)
    assert result.after is not None and result.after.status == "ok"
    assert index.points.count() == 12


def test_plans_that_fail_to_parse_keep_their_points(index: Index, plan_tree: Path) -> None:
    (plan_tree / "other.md").write_bytes(b"PK\x03\x04\x00binary\x00" * 50)
    report = check_index(index, sources_for([plan_tree]))
    assert report.summary() == {"unparsed_plan": 1}  # a warning: its points stay, as in sync
    assert report.exit_code == 0
    assert report.plans["other.md"].points == 2


class BrokenSource:
    """A source whose files vanish while it is read."""

    def iter_plans(self) -> Iterator[Plan | SourceFailure]:
        raise SourceError("plans/", "directory removed while reading")
        yield  # pragma: no cover


def test_a_source_that_fails_means_the_check_could_not_run(index: Index) -> None:
    report = check_index(index, BrokenSource())
    assert report.status == "error" and report.exit_code == 2
    assert report.error and "directory removed" in report.error
    with pytest.raises(CheckFailed, match="directory removed"):
        repair_index(index, BrokenSource(), apply=True)


def test_without_plans_repair_only_deletes(index: Index) -> None:
    pts = Points(index)
    stray = changed(
        pts["Review security policies"], id=point_id("test", "stray"), payload={"text": "no plan"}
    )
    zero = changed(pts["Archive old dashboards"], vector=[0.0] * 384)
    index.points.upsert([stray, zero])
    dry = repair_index(index, None)
    assert dry.plan.delete == {str(stray.id): "orphan_task"}
    assert [f.kind for f in dry.plan.unrepairable] == ["vector_zero"]
    done = repair_index(index, None, apply=True)
    assert done.after is not None and done.after.summary() == {"vector_zero": 1}
    assert index.points.count() == 12
