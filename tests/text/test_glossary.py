"""The FR/EN glossary: rendering French for the English model, and lexical expansion."""

from __future__ import annotations

from importlib import resources

import pytest

import planvec.text.glossary as glossary_module
from planvec.text.clean import clean_task_text
from planvec.text.glossary import Glossary, default_glossary, parse_glossary
from planvec.text.lexical import LexicalEncoder, default_lexical_encoder


def test_shipped_glossary_loads() -> None:
    gl = default_glossary()
    assert gl.size > 500
    assert gl is default_glossary()  # parsed once


def test_to_english_replaces_phrases_and_inflections() -> None:
    gl = default_glossary()
    out = gl.to_english("Mettre en place la sauvegarde automatique des bases de données")
    assert "set up" in out and "automatic backup" in out and "database" in out
    assert "la" not in out.split()  # French function words are dropped or translated
    # inflected forms meet their entry through stemming and accent folding
    assert gl.to_english("Déployés") == gl.to_english("déployer") == "deploy"


def test_to_english_keeps_identifiers_and_english() -> None:
    gl = default_glossary()
    english = "Add rate limiting to the public endpoints"
    assert gl.to_english(english) == english
    out = gl.to_english("Créer le fichier config/http_client.go (v1.2)")
    assert "config/http_client.go" in out and "1.2" in out and out.startswith("create file")


def test_translations_go_both_ways() -> None:
    gl = default_glossary()
    assert "tableau de bord" in gl.translations("set up the backup dashboard")
    assert "dashboard" in gl.translations("Créer le tableau de bord")
    # a French word already matched is not re-read as English ("intégrer" ~ "integrity")
    assert gl.translations("Intégrer le module") == ["integrate"]


def test_parse_glossary_rejects_malformed_lines() -> None:
    assert parse_glossary(["# comment", "", "chat\tcat"]) == [("chat", "cat")]
    with pytest.raises(ValueError, match="line 1"):
        parse_glossary(["chat cat"])
    gl = Glossary([("chat noir", "black cat"), ("chat", "cat")])
    assert gl.to_english("un chat noir et un chat") == "black cat and cat"


def test_bilingual_adds_rendering_only_when_it_differs() -> None:
    gl = default_glossary()
    assert gl.bilingual("Write the docs") == "Write the docs"
    assert gl.bilingual("Créer le tableau de bord") == "Créer le tableau de bord (create dashboard)"


def test_expansion_lets_english_queries_meet_french_tasks() -> None:
    task = "Créer le tableau de bord des sauvegardes"
    query = "backup dashboard"
    plain = LexicalEncoder()
    expanded = default_lexical_encoder()
    shared_plain = set(plain.encode_document(task).indices) & set(plain.encode_query(query).indices)
    shared = set(expanded.encode_document(task).indices) & set(expanded.encode_query(query).indices)
    assert not shared_plain and len(shared) >= 2
    assert "x=" in expanded.version and expanded.version != plain.version
    # translated tokens weigh less than the task's own words
    terms = expanded.document_terms(task)
    assert terms["dashboard"] < terms["tableau"]


@pytest.mark.parametrize(
    ("text", "clean"),
    [
        ("**1.2.3** Créer X", "Créer X"),
        ("Micro-étape 1.1.3 : Intégrer la gestion", "Intégrer la gestion"),
        ("Sous-étape 3.5 : `ContinuousValidation` dans CI/CD", "ContinuousValidation dans CI/CD"),
        ("3.2) Créer", "Créer"),
        ("1.2", "1.2"),
        ("2023 budget", "2023 budget"),
    ],
)
def test_clean_task_text(text: str, clean: str) -> None:
    assert clean_task_text(text) == clean


def test_embedding_recipe_strips_numbering_and_renders_english() -> None:
    from planvec.embedding_recipe import embedding_text_of, query_embedding_text

    assert embedding_text_of("**1.2** Créer le tableau de bord") == "create dashboard"
    assert embedding_text_of("1.2.3") == "1.2.3"  # nothing left: the text itself
    assert query_embedding_text("tableau de bord des sauvegardes") == "dashboard of backup"
    assert query_embedding_text("backup dashboard") == "backup dashboard"


@pytest.mark.slow
def test_glossary_expansion_beats_plain_bm25_on_the_dev_split(corpus_dir: object) -> None:
    """Sparse search with the glossary finds more dev targets than without it."""
    import importlib.util
    import sys
    from pathlib import Path

    bench = Path(__file__).resolve().parents[2] / "bench"
    spec = importlib.util.spec_from_file_location("eval_search", bench / "eval_search.py")
    assert spec and spec.loader
    ev = importlib.util.module_from_spec(spec)
    sys.modules["eval_search"] = ev
    spec.loader.exec_module(ev)
    tasks, _ = ev.load_tasks(corpus_dir)
    queries = ev.load_queries(bench / "queries" / "dev.jsonl", "dev")
    scores = {
        name: ev.metrics(ev.evaluate(queries, ev.bm25_python_search(tasks, enc)))
        for name, enc in (("plain", LexicalEncoder()), ("glossary", default_lexical_encoder()))
    }
    assert scores["glossary"]["recall@10"] > scores["plain"]["recall@10"] + 0.05
    assert scores["glossary"]["mrr@10"] > scores["plain"]["mrr@10"]


def test_the_shipped_stem_tables_are_those_the_glossary_builds() -> None:
    """``data/glossary_stems.json`` spares every run the stemming of ~800 phrases; it must
    be exactly what ``_build`` makes. If this fails after changing the glossary, the matching
    or the stemmer, regenerate it:
    ``python -c "from planvec.text.glossary import write_stem_tables; write_stem_tables()"``.
    """
    text = resources.files("planvec").joinpath("data/glossary_fr_en.tsv").read_text("utf-8")
    built = Glossary(parse_glossary(text.splitlines()))._build()
    shipped = glossary_module._shipped_tables(text)
    assert shipped is not None, "stale data/glossary_stems.json: regenerate it (docstring)"
    assert shipped == built
    assert [list(t) for t in shipped] == [list(t) for t in built]  # same order
    assert default_glossary()._tables == built
    assert glossary_module._shipped_tables(text + "ajouter\tadd\n") is None  # another glossary
