"""Switching an index to another embedding model: served throughout, switch, rollback."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from planvec.backup.model_migration import (
    delete_old,
    migrate_model,
    migration_status,
    rollback_model,
)
from planvec.embed.hashing import HashingEmbedder
from planvec.errors import ConfigError
from planvec.index import Index, open_index, sources_for
from planvec.settings import Settings
from planvec.store.aliases import resolve_collection
from planvec.store.base import VectorStore
from planvec.text.lexical import LexicalEncoder

from .conftest import make_index

OLD, NEW = HashingEmbedder(384), HashingEmbedder(512)
QUERY = "rotation des sauvegardes"


def _live(store: VectorStore, embedder: HashingEmbedder) -> Index:
    """What a reader opening the index now gets (the alias resolved at open)."""
    return make_index(store, embedder, collection=resolve_collection(store, "planvec_tasks"))


def test_switch_serves_searches_throughout_then_rolls_back(indexed: Index, plan_tree: Path) -> None:
    store = indexed.admin
    baseline = [h.id for h in indexed.search(QUERY, limit=5)]
    served: list[list[str]] = []

    def during_build(written: int) -> None:  # readers keep searching the live collection
        served.append([h.id for h in _live(store, OLD).search(QUERY, limit=5)])

    plan = migrate_model(store, "planvec_tasks", NEW, old_embedder=OLD, lexical=LexicalEncoder())
    assert plan.action == "plan" and not plan.switched
    assert migration_status(store, "planvec_tasks")["collections"] == ["planvec_tasks"]

    report = migrate_model(
        store,
        "planvec_tasks",
        NEW,
        apply=True,
        old_embedder=OLD,
        lexical=LexicalEncoder(),
        batch_size=8,
        progress=during_build,
    )
    assert report.verified and report.switched, report.problems
    assert report.check["status"] == "ok" and not report.quality["alerts"]
    assert len(served) >= 3 and all(ids == baseline for ids in served)
    status = migration_status(store, "planvec_tasks")
    assert status["live"] == report.new_collection and status["dimension"] == 512
    assert len(status["collections"]) == 2  # the old one is kept

    after = _live(store, NEW)
    assert after.count() == indexed.count()
    assert after.search(QUERY, limit=1)[0].key == "1.1.2"
    with pytest.raises(Exception, match=r"512|384"):
        _live(store, OLD).search(QUERY)  # the old model no longer fits the live index
    # the new collection is in sync: indexing the same plans changes nothing
    again = after.sync(sources_for([plan_tree]))
    assert (again.added, again.updated, again.payload_only, again.embedded) == (0, 0, 0, 0)

    back = rollback_model(store, "planvec_tasks")
    assert back.live_after == resolve_collection(store, "planvec_tasks") != report.new_collection
    assert [h.id for h in _live(store, OLD).search(QUERY, limit=5)] == baseline
    forward = rollback_model(store, "planvec_tasks")  # a second rollback rolls forward
    assert forward.live_after == report.new_collection

    deleted = delete_old(store, "planvec_tasks")
    assert len(deleted.deleted) == 1
    assert migration_status(store, "planvec_tasks")["collections"] == [report.new_collection]
    with pytest.raises(ConfigError, match="no previous"):
        rollback_model(store, "planvec_tasks")
    assert _live(store, NEW).search(QUERY, limit=1)[0].key == "1.1.2"


def test_a_worse_model_is_not_switched(indexed: Index) -> None:
    worse = HashingEmbedder(16)
    report = migrate_model(
        indexed.admin,
        "planvec_tasks",
        worse,
        apply=True,
        old_embedder=OLD,
        lexical=LexicalEncoder(),
    )
    assert not report.switched and report.problems
    assert any("quality" in p for p in report.problems)
    assert resolve_collection(indexed.admin, "planvec_tasks") == report.live_before
    assert [h.key for h in indexed.search(QUERY, limit=1)] == ["1.1.2"]


def test_same_model_is_refused(indexed: Index) -> None:
    with pytest.raises(ConfigError, match="nothing to migrate"):
        migrate_model(indexed.admin, "planvec_tasks", HashingEmbedder(384), apply=True)


def test_open_index_follows_the_embedded_alias(
    store_at: Callable[[str, str], VectorStore], plan_tree: Path, tmp_path: Path
) -> None:
    store = store_at("edge", "idx")
    make_index(store, OLD).sync(sources_for([plan_tree]))
    report = migrate_model(
        store, "planvec_tasks", NEW, apply=True, old_embedder=OLD, lexical=LexicalEncoder()
    )
    assert report.switched
    store.close()
    settings = Settings(index_dir=tmp_path / "idx", cache_dir=tmp_path / "cache")
    with open_index(settings, embedder=NEW) as index:
        assert index.collection == report.new_collection
        assert index.search(QUERY, limit=1)[0].key == "1.1.2"
    assert (tmp_path / "idx" / "collections" / "aliases.json").is_file()


def test_restoring_an_aliased_index_keeps_the_alias(indexed: Index, tmp_path: Path) -> None:
    from planvec.backup.transfer import export_collection, import_archive

    store = indexed.admin
    report = migrate_model(store, "planvec_tasks", NEW, apply=True, lexical=LexicalEncoder())
    live = resolve_collection(store, "planvec_tasks")
    export_collection(store, live, tmp_path / "a.tar", logical="planvec_tasks")
    with pytest.raises(ConfigError, match="--force"):
        import_archive(store, tmp_path / "a.tar")
    restored = import_archive(store, tmp_path / "a.tar", force=True)
    assert restored.ok and restored.replaced
    assert resolve_collection(store, "planvec_tasks") == live == report.new_collection
    assert _live(store, NEW).search(QUERY, limit=1)[0].key == "1.1.2"
