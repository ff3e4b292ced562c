"""The manifest refuses mixed models; the write lock refuses a second writer."""

from __future__ import annotations

from pathlib import Path

import pytest

from planvec.embed.hashing import HashingEmbedder
from planvec.errors import CollectionNotFound, IndexLocked, IndexMismatch
from planvec.index import Index, open_index, sources_for
from planvec.manifest import SCHEMA_VERSION
from planvec.settings import load_settings
from planvec.store import open_store
from planvec.text.lexical import LexicalEncoder


def test_other_dimension_is_refused_with_the_fix(plan_tree: Path, tmp_path: Path) -> None:
    store = open_store(index_dir=tmp_path / "idx")
    try:
        Index(store, HashingEmbedder(384), lexical=LexicalEncoder()).sync(sources_for([plan_tree]))
        other = Index(store, HashingEmbedder(256), lexical=LexicalEncoder())
        with pytest.raises(IndexMismatch, match=r"384-d.*256-d.*--collection"):
            other.search("anything")
        with pytest.raises(IndexMismatch):
            other.sync(sources_for([plan_tree]))
        assert store.count("planvec_tasks") == 9  # nothing touched
    finally:
        store.close()


def test_manifest_records_model_and_last_sync(plan_tree: Path, tmp_path: Path) -> None:
    store = open_store(index_dir=tmp_path / "idx")
    try:
        index = Index(store, HashingEmbedder(), lexical=LexicalEncoder())
        index.sync(sources_for([plan_tree]))
        manifest = store.read_manifest("planvec_tasks")
        assert manifest is not None
        assert manifest["schema_version"] == SCHEMA_VERSION
        assert (manifest["model"], manifest["dimension"]) == ("planvec-hashing", 384)
        assert manifest["lexical"] == LexicalEncoder().version
        assert manifest["plans"] == {"roadmap.md": 7, "sub/notes.md": 2}
        assert manifest["last_sync"]["added"] == 9
    finally:
        store.close()


def test_newer_schema_is_refused(plan_tree: Path, tmp_path: Path) -> None:
    store = open_store(index_dir=tmp_path / "idx")
    try:
        index = Index(store, HashingEmbedder(), lexical=LexicalEncoder())
        index.sync(sources_for([plan_tree]))
        manifest = dict(store.read_manifest("planvec_tasks") or {})
        manifest["schema_version"] = SCHEMA_VERSION + 1
        store.write_manifest("planvec_tasks", manifest)
        fresh = Index(store, HashingEmbedder(), lexical=LexicalEncoder())
        with pytest.raises(IndexMismatch, match="newer planvec"):
            fresh.search("x")
    finally:
        store.close()


def test_search_without_index_names_the_command(tmp_path: Path) -> None:
    settings = load_settings(
        env={}, index_dir=tmp_path / "none", embedder="hashing", cache_dir=tmp_path / "c"
    )
    with open_index(settings) as index, pytest.raises(CollectionNotFound, match="planvec index"):
        index.search("x")


def test_second_writer_fails_fast(tmp_path: Path) -> None:
    settings = load_settings(
        env={}, index_dir=tmp_path / "idx", embedder="hashing", cache_dir=tmp_path / "c"
    )
    with open_index(settings, write=True), pytest.raises(IndexLocked, match="--wait"):
        open_index(settings, write=True)
    with open_index(settings, write=True):  # released on close
        pass
