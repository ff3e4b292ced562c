"""HashingEmbedder: deterministic, unit-norm, shape-correct; the fast tests rely on it."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from planvec.embed import Embedder, HashingEmbedder

TEXTS = [
    "Mettre en place le pipeline de vectorisation",
    "Écrire les tests d'intégration ✅ 🚀",
    "",
    "x" * 5000,
]


def test_implements_the_protocol() -> None:
    embedder = HashingEmbedder()
    assert isinstance(embedder, Embedder)
    assert embedder.dimension == 384
    assert embedder.model_id == "planvec-hashing-384"


def test_shape_dtype_and_unit_norm() -> None:
    vectors = HashingEmbedder(dimension=64).embed(TEXTS)
    assert vectors.shape == (len(TEXTS), 64)
    assert vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, rtol=1e-6)


def test_empty_batch() -> None:
    vectors = HashingEmbedder().embed([])
    assert vectors.shape == (0, 384)
    assert vectors.dtype == np.float32


def test_same_vectors_in_another_process() -> None:
    """No dependence on PYTHONHASHSEED or any per-process state."""
    here = HashingEmbedder().embed(TEXTS[:2])
    code = (
        "import json; from planvec.embed import HashingEmbedder; "
        f"print(json.dumps(HashingEmbedder().embed({TEXTS[:2]!r}).tolist()))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env={"PYTHONHASHSEED": "123", "PATH": ""},
    )
    np.testing.assert_array_equal(np.asarray(json.loads(out.stdout), dtype=np.float32), here)


def test_row_does_not_depend_on_batch() -> None:
    embedder = HashingEmbedder()
    batch = embedder.embed(TEXTS)
    for row, text in enumerate(TEXTS):
        np.testing.assert_array_equal(embedder.embed([text])[0], batch[row])


def test_shared_words_are_closer_than_unrelated_text() -> None:
    a, b, c = HashingEmbedder().embed(
        ["migrer la base Qdrant", "migration de la base Qdrant", "dessiner un logo rose"]
    )
    assert float(a @ b) > float(a @ c) + 0.2


def test_rejects_tiny_dimension() -> None:
    with pytest.raises(ValueError, match="at least 8"):
        HashingEmbedder(dimension=4)
