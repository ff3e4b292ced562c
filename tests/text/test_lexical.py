"""The French/English lexical analyzer and the BM25 sparse encoder (planvec.text.lexical)."""

from __future__ import annotations

import itertools
import json
import math
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from planvec.store import open_store
from planvec.store.base import CollectionSpec, PointRecord, SearchRequest, SparseVector
from planvec.text.lexical import (
    ANALYZER_VERSION,
    STOP_WORDS,
    Analyzer,
    LexicalEncoder,
    analyze,
    token_index,
)


def shares_token(a: str, b: str) -> bool:
    return bool(set(analyze(a)) & set(analyze(b)))


# ----------------------------------------------------------------------------- analyzer


def test_accents_and_case_are_folded() -> None:
    assert analyze("Créer l'INTÉGRATION sécurisée à Noël") == analyze(
        "creer l'integration securisee a noel"
    )
    assert "oeuvr" in analyze("Mise en œuvre")  # ligature, then stemmed


@pytest.mark.parametrize(
    ("text", "word"),
    [
        ("Documenter l'API publique", "api"),
        ("Tests d’intégration du parser", "integration"),
        ("Tests d'intégration du parser", "integration"),
        ("Vérifier qu'il existe", "existe"),
        ("jusqu’au déploiement", "au"),
        ("Lancer l’orchestrateur", "orchestrateur"),
    ],
)
def test_elision_is_removed(text: str, word: str) -> None:
    tokens = analyze(text)
    bare = analyze(word)
    assert set(bare) <= set(tokens)
    assert not any(t.startswith(("l'", "d'", "qu'", "l’")) for t in tokens)
    assert "lapi" not in tokens and "dintegr" not in tokens


def test_elided_and_plain_forms_match() -> None:
    assert analyze("l'API") == analyze("API")
    assert analyze("d’intégration") == analyze("intégration")


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("sauvegardes", "sauvegarder"),
        ("running", "runs"),
        ("déploiement", "déployer"),
        ("journalisation", "journaliser"),
        ("erreurs", "erreur"),
        ("monitoring", "monitor"),
        ("dependencies", "dependency"),
    ],
)
def test_inflections_share_a_stem(a: str, b: str) -> None:
    assert shares_token(a, b)


def test_unrelated_words_do_not_match() -> None:
    assert not shares_token("sauvegarde", "déploiement")
    assert not shares_token("cache", "workflow")


@pytest.mark.parametrize(
    ("text", "token"),
    [
        ("**1.2.3** Créer le parser", "1.2.3"),
        ("Micro-étape 1.1.1.1.1: valider", "1.1.1.1.1"),
        (
            "8.1.1.1.1.4.1.1.3.5.2.1.2.1.6.1.2.1.2.1.1 Tâche profonde",
            "8.1.1.1.1.4.1.1.3.5.2.1.2.1.6.1.2.1.2.1.1",
        ),
        ("Tâche 1.2.", "1.2"),
        ("Plan v56 de migration", "v56"),
        ("Go 1.22+ requis", "1.22"),
    ],
)
def test_numbering_ids_are_kept_whole(text: str, token: str) -> None:
    assert token in analyze(text)


def test_numbering_ids_are_not_split_into_digits() -> None:
    tokens = analyze("1.2.3 Créer")
    assert "1" not in tokens and "2" not in tokens and "3" not in tokens


def test_identifiers_keep_whole_and_parts() -> None:
    tokens = analyze("Éditer snake_case dans file.go et docker-compose.yml")
    for whole in ("snake_case", "file.go", "docker-compose.yml"):
        assert whole in tokens
    for part in ("snake", "case", "docker", "compos", "yml"):
        assert part in tokens


def test_camel_case_identifiers_yield_their_words() -> None:
    tokens = analyze("Implémenter LoadFromEnv et getDefaultConfig")
    assert {"loadfromenv", "load", "env", "getdefaultconfig", "default", "config"} <= set(tokens)
    assert shares_token("ContainerManager", "container manager")
    # all-caps words and plurals of acronyms stay whole
    assert "kpis" in analyze("KPIs") and "http" in analyze("HTTP")


def test_paths_give_their_segments() -> None:
    tokens = analyze("pkg/events/n8n_integration.go")
    assert {"pkg", "event", "n8n_integration.go", "n8n"} <= set(tokens)


def test_stop_words_are_dropped_in_both_languages() -> None:
    assert analyze("le la les de des du et ou à pour dans avec sur") == []
    assert analyze("the of and to in is are for with on at by") == []
    assert analyze("Mettre à jour la base de données") == analyze("mettre jour base données")


def test_stop_words_are_not_stemmed_into_content() -> None:
    # "est-ce que" / "how do we" carry no content
    assert analyze("Comment est-ce que") == []
    assert analyze("How do we") == []
    assert all(t not in STOP_WORDS for t in analyze("Créer les tests pour l'API de la base"))


def test_mojibake_is_repaired() -> None:
    assert analyze("Plan de dÃ©veloppement") == analyze("Plan de développement")
    assert analyze("dâ€™information") == analyze("d’information")


def test_stemming_modes_differ_as_documented() -> None:
    assert Analyzer(stemming="none").analyze("sauvegardes") == ["sauvegardes"]
    assert Analyzer(stemming="fr").analyze("running") == ["running"]
    assert Analyzer(stemming="en").analyze("running") == ["run"]
    both = Analyzer(stemming="both").analyze_weighted("monitoring")
    assert sorted(both) == [("monitor", 0.5), ("monitoring", 0.5)]
    assert Analyzer(stemming="detect").analyze("the running of tests") == ["run", "test"]
    with pytest.raises(ValueError, match="stemming"):
        Analyzer(stemming="klingon")  # type: ignore[arg-type]


# ----------------------------------------------------------------------------- encoder


def test_indices_are_sorted_unique_u32() -> None:
    enc = LexicalEncoder()
    vec = enc.encode_document(
        "1.2 Implémenter les sauvegardes incrémentales des sauvegardes",
        ["Plan v21 - Scalabilité", "2. Résilience"],
    )
    assert list(vec.indices) == sorted(set(vec.indices))
    assert len(vec.indices) == len(vec.values) > 0
    assert all(0 <= i < 2**32 for i in vec.indices)
    assert all(v > 0 for v in vec.values)


def test_token_index_is_stable_across_processes() -> None:
    words = ["sauvegard", "1.2.3", "api", "déploiement"]
    code = (
        "import json, sys; from planvec.text.lexical import LexicalEncoder, token_index;"
        "e = LexicalEncoder(); v = e.encode_document('Implémenter l\\'API 1.2.3', ['Plan']);"
        f"print(json.dumps([[token_index(w) for w in {words!r}], list(v.indices), list(v.values)]))"
    )
    outputs = []
    for seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        done = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True
        )
        outputs.append(json.loads(done.stdout))
    assert outputs[0] == outputs[1]
    vec = LexicalEncoder().encode_document("Implémenter l'API 1.2.3", ["Plan"])
    assert outputs[0] == [[token_index(w) for w in words], list(vec.indices), list(vec.values)]


def test_query_values_are_one_per_unique_token() -> None:
    enc = LexicalEncoder()
    q = enc.encode_query("cache cache Qdrant 1.2.3")
    assert len(q.indices) == 3
    assert q.values == (1.0, 1.0, 1.0)
    two_stems = enc.encode_query("monitoring")
    assert sorted(two_stems.values) == [0.5, 0.5]


def test_stop_word_query_is_empty() -> None:
    assert LexicalEncoder().encode_query("le la les the of") == SparseVector((), ())
    assert LexicalEncoder().encode_document("", ()) == SparseVector((), ())


def test_hash_collisions_are_summed() -> None:
    # find two numbering tokens (kept verbatim by the analyzer) with the same index
    seen: dict[int, str] = {}
    for n in itertools.count():
        tok = f"7.{n}"
        idx = token_index(tok)
        if idx in seen:
            first = seen[idx]
            break
        seen[idx] = tok
    enc = LexicalEncoder()
    q = enc.encode_query(f"{first} {tok}")
    assert q.indices == (idx,) and q.values == (2.0,)
    doc = enc.encode_document(f"{first} {tok}")
    single = enc.encode_document(f"{first} 8.1")  # same length, no collision
    assert doc.indices == (idx,)
    assert doc.values[0] == pytest.approx(2 * single.values[single.indices.index(idx)])


def test_bm25_saturation_and_length_normalisation() -> None:
    enc = LexicalEncoder()
    k1 = enc.k1

    def weight(text: str, section: tuple[str, ...] = ()) -> float:
        return enc.document_terms(text, section)["qdrant"]

    once, twice = weight("Qdrant"), weight("Qdrant Qdrant")
    assert once < twice < k1 + 1
    long = weight("Qdrant " + " ".join(f"mot{i}" for i in range(30)))
    assert long < once
    # a word of the section path counts less than the same word in the text
    sec = enc.document_terms("Créer la collection", ("Intégration Qdrant",))
    assert 0 < sec["qdrant"] < enc.document_terms("Créer la collection Qdrant")["qdrant"]
    # with b = 0 the length does not matter
    flat = LexicalEncoder(b=0.0)
    assert flat.document_terms("Qdrant")["qdrant"] == pytest.approx(1.0)


def test_version_names_the_analyzer_and_parameters() -> None:
    enc = LexicalEncoder()
    assert enc.version.startswith(ANALYZER_VERSION)
    assert enc.version != LexicalEncoder(section_weight=0.2).version
    assert enc.version != LexicalEncoder(Analyzer(stemming="fr")).version
    with pytest.raises(ValueError):
        LexicalEncoder(b=2.0)


# ----------------------------------------------------------------------------- robustness


@settings(max_examples=300, deadline=None)
@given(st.text(), st.lists(st.text(max_size=40), max_size=4))
def test_never_raises_on_arbitrary_text(text: str, section: list[str]) -> None:
    tokens = analyze(text)
    assert all(isinstance(t, str) and len(t) > 1 for t in tokens)
    enc = LexicalEncoder()
    for vec in (enc.encode_document(text, section), enc.encode_query(text)):
        assert list(vec.indices) == sorted(set(vec.indices))
        assert all(0 <= i < 2**32 for i in vec.indices)
        assert all(math.isfinite(v) and v > 0 for v in vec.values)


@settings(max_examples=100, deadline=None)
@given(
    st.text(
        alphabet=st.sampled_from(list("aàâeéèêiîoôuùûcçœ'’-._/ 0123456789ÃƒÂ©€™lLdDqQ")),
        max_size=60,
    )
)
def test_never_raises_on_french_punctuation_soup(text: str) -> None:
    analyze(text)
    LexicalEncoder().encode_query(text)


# ----------------------------------------------------------------------------- in Qdrant


TASKS = [
    "Implémenter les sauvegardes incrémentales",
    "Développer les timeouts hiérarchiques",
    "Créer le convertisseur Markdown → JSON",
    "Implémenter LoadFromEnv(prefix string)",
    "1.2.3 Configurer l'intégration avec Qdrant",
    "Documenter l'API du gestionnaire de sauvegarde",
]


@pytest.mark.parametrize("backend", ["edge", "memory"])
def test_qdrant_scores_the_vectors_as_bm25(backend: str, tmp_path: Path) -> None:
    """Stored with the IDF modifier, the sparse vectors rank and score like BM25."""
    enc = LexicalEncoder()
    store = open_store(
        index_dir=tmp_path / "index", qdrant_url=None if backend == "edge" else "memory://"
    )
    try:
        store.ensure_collection("lex", CollectionSpec(dimension=4, sparse=True))
        docs = [enc.encode_document(t, ("Plan",)) for t in TASKS]
        ids = [str(uuid.uuid5(uuid.NAMESPACE_URL, t)) for t in TASKS]
        store.upsert(
            "lex",
            [
                PointRecord(id=i, vector=[1.0, 0.0, 0.0, 0.0], payload={"n": n}, sparse=d)
                for n, (i, d) in enumerate(zip(ids, docs, strict=True))
            ],
        )
        for query, want in [
            ("incremental backups", 0),
            ("sauvegarder", 0),
            ("timeout", 1),
            ("markdown json", 2),
            ("LoadFromEnv", 3),
            ("load env", 3),
            ("1.2.3", 4),
            ("API", 5),
        ]:
            qv = enc.encode_query(query)
            hits = store.search("lex", SearchRequest(sparse=qv, limit=3))
            assert hits and hits[0].payload["n"] == want, query
            # the score is sum(idf * query value * doc value), idf as in Qdrant's modifier
            n_docs = len(docs)
            expected = 0.0
            best = docs[want]
            for i, qval in zip(qv.indices, qv.values, strict=True):
                df = sum(1 for d in docs if i in d.indices)
                if i in best.indices:
                    idf = math.log((n_docs - df + 0.5) / (df + 0.5) + 1.0)
                    expected += qval * idf * best.values[best.indices.index(i)]
            assert hits[0].score == pytest.approx(expected, rel=1e-3), query
    finally:
        store.close()
