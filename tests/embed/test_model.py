"""The real all-MiniLM-L6-v2: golden vectors, ONNX vs torch fidelity, normalisation, order.

Golden values were measured once with torch fp32 (sentence-transformers) and written here;
they pin the model, the tokenizer settings (truncation at 256, no lower-casing surprises)
and the pooling. Every test here loads the real model, hence ``@pytest.mark.model``.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from planvec.embed import Embedder, make_embedder
from planvec.embed.base import QueryEmbedder, embeds_outside_gil
from planvec.embed.cpu import core_count
from planvec.embed.onnx import OnnxEmbedder, onnx_file
from planvec.embed.sentence_transformers import SentenceTransformerEmbedder

pytestmark = pytest.mark.model

GOLDEN = {
    "Mettre en place le pipeline de vectorisation Go natif": [
        -0.042507,
        0.011939,
        -0.016094,
        -0.090238,
        0.016371,
    ],
    "Write integration tests for the Qdrant client": [
        -0.087954,
        0.018451,
        -0.035544,
        -0.008217,
        -0.122103,
    ],
    "✅ Étape 1.2.3 : migrer les données (dÃ©veloppement) 🚀": [
        -0.061085,
        0.038692,
        0.157566,
        -0.031431,
        0.045279,
    ],
}

TEXTS = [
    "Créer le fichier de configuration YAML",
    "Implémenter le client Qdrant en Go",
    "Ajouter la gestion des erreurs réseau avec retry exponentiel",
    "Documenter l'API REST dans le README",
    "Écrire les tests unitaires du parser Markdown",
    "Migrer les embeddings vers le nouveau modèle",
    "**1.2.3.4** Valider la cohérence des identifiants",
    "Micro-étape 1.1.1.1.1: vérifier `go mod tidy`",
    "Set up CI with GitHub Actions",
    "Benchmark the vector search latency (p50, p99)",
    "Configurer le monitoring Prometheus + Grafana 📊",
    "Nettoyer les fichiers temporaires",
    "Refactoriser le module d'indexation",
    "Supprimer les dépendances inutilisées",
    "Tâche 1.2 : revue de code",
    "a",
    "",
    "Déployer sur Kubernetes avec Helm",
    "Mettre à jour la roadmap v57",
    "intégration " * 300,  # longer than 256 word pieces: truncated like sentence-transformers
]


@pytest.fixture(scope="session")
def onnx_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("planvec-cache")


@pytest.fixture(scope="session")
def torch_fp32() -> Iterator[SentenceTransformerEmbedder]:
    yield SentenceTransformerEmbedder(precision="fp32")


@pytest.fixture(scope="session")
def onnx_fp32(onnx_cache: Path) -> Iterator[OnnxEmbedder]:
    yield OnnxEmbedder("fp32", cache_dir=onnx_cache)


def test_golden_values_torch(torch_fp32: SentenceTransformerEmbedder) -> None:
    assert torch_fp32.model_id == "all-MiniLM-L6-v2@torch-fp32"
    vectors = torch_fp32.embed(list(GOLDEN))
    for row, expected in enumerate(GOLDEN.values()):
        np.testing.assert_allclose(vectors[row, :5], expected, atol=1e-4)


def test_golden_values_onnx(onnx_fp32: OnnxEmbedder) -> None:
    vectors = onnx_fp32.embed(list(GOLDEN))
    for row, expected in enumerate(GOLDEN.values()):
        np.testing.assert_allclose(vectors[row, :5], expected, atol=1e-4)


def test_onnx_matches_torch(
    torch_fp32: SentenceTransformerEmbedder, onnx_fp32: OnnxEmbedder
) -> None:
    assert isinstance(onnx_fp32, Embedder)
    assert onnx_fp32.family == torch_fp32.family == "all-MiniLM-L6-v2"
    assert onnx_fp32.model_id == "all-MiniLM-L6-v2@onnx-fp32"
    cosines = np.sum(torch_fp32.embed(TEXTS) * onnx_fp32.embed(TEXTS), axis=1)
    assert cosines.min() > 0.999, cosines


@pytest.mark.parametrize("backend", ["torch_fp32", "onnx_fp32"])
def test_unit_norm_shape_and_order(backend: str, request: pytest.FixtureRequest) -> None:
    embedder: Embedder = request.getfixturevalue(backend)
    vectors = embedder.embed(TEXTS)
    assert vectors.shape == (len(TEXTS), 384) and vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert embedder.embed([]).shape == (0, 384)
    # Rows follow the input order whatever the batching / length sorting does.
    reversed_vectors = embedder.embed(TEXTS[::-1])[::-1]
    np.testing.assert_allclose(reversed_vectors, vectors, atol=1e-5)
    alone = np.vstack([embedder.embed([text]) for text in TEXTS[:5]])
    np.testing.assert_allclose(alone, vectors[:5], atol=1e-5)


def test_queries_run_on_their_own_one_thread_session(onnx_fp32: OnnxEmbedder) -> None:
    # search embeds one query on one core while its lexical side runs on the other
    assert isinstance(onnx_fp32, QueryEmbedder) and embeds_outside_gil(onnx_fp32)
    assert onnx_fp32.embed_queries([]).shape == (0, 384)
    queries = np.vstack([onnx_fp32.embed_queries([text]) for text in TEXTS])
    np.testing.assert_allclose(queries, onnx_fp32.embed(TEXTS), atol=1e-6)
    np.testing.assert_allclose(onnx_fp32.embed_aside(TEXTS), onnx_fp32.embed(TEXTS), atol=1e-6)
    alone = np.vstack([onnx_fp32.embed_queries_alone([text]) for text in TEXTS])
    np.testing.assert_allclose(alone, queries, atol=1e-6)
    sessions = (onnx_fp32._one_thread, onnx_fp32._session)
    threads = [s.get_session_options().intra_op_num_threads for s in sessions]
    assert threads == [1, core_count()]


def test_int8_is_close_but_distinct(onnx_cache: Path, onnx_fp32: OnnxEmbedder) -> None:
    int8 = make_embedder("onnx-int8", onnx_cache)
    assert int8.model_id == "all-MiniLM-L6-v2@onnx-int8"
    cosines = np.sum(int8.embed(TEXTS) * onnx_fp32.embed(TEXTS), axis=1)
    assert cosines.min() > 0.9
    assert cosines.mean() < 0.99999  # really quantized, not the fp32 graph again


def test_embed_path_does_not_import_torch(onnx_cache: Path, onnx_fp32: OnnxEmbedder) -> None:
    onnx_fp32.embed(["export first"])
    code = (
        "import sys; from pathlib import Path; from planvec.embed import make_embedder; "
        f"e = make_embedder('auto', Path({str(onnx_cache)!r})); "
        "print(e.model_id, e.embed(['bonjour']).shape, 'torch' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["all-MiniLM-L6-v2@onnx-fp32", "(1,", "384)", "False"]


def test_broken_model_file_is_re_exported(
    tmp_path: Path, onnx_cache: Path, onnx_fp32: OnnxEmbedder
) -> None:
    expected = onnx_fp32.embed(TEXTS[:3])
    good = onnx_file(onnx_cache, "fp32")
    broken = onnx_file(tmp_path, "fp32")
    broken.parent.mkdir(parents=True)
    with good.open("rb") as src:  # what a killed plain write would leave behind
        broken.write_bytes(src.read(good.stat().st_size // 2))
    leftover = broken.parent / f".{broken.stem}.abc123.raw.onnx"
    leftover.write_bytes(b"partial export")
    again = OnnxEmbedder("fp32", cache_dir=tmp_path)
    np.testing.assert_allclose(again.embed(TEXTS[:3]), expected, atol=1e-5)
    assert broken.stat().st_size == good.stat().st_size
    assert not leftover.exists()
    shutil.rmtree(broken.parent)
