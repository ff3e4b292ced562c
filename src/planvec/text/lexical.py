"""French/English lexical analyzer and the BM25-style sparse encoder of hybrid search.

Why: the dense model (all-MiniLM-L6-v2) is English-only while most plans are French, and
users search with identifiers (``LoadFromEnv``, ``1.2.3``, ``docker-compose.yml``) that no
sentence model represents well. A sparse "lexical" vector per task, scored by Qdrant as BM25,
finds the tasks the dense side misses. It is pure Python (plus ``snowballstemmer``), so the
same vectors are built for every store backend (embedded Edge, server, memory): Qdrant only
needs the ``Idf`` modifier on the sparse vector to turn our term weights into BM25.

Analysis: see ``planvec.text.analyzer`` (re-exported here).

Encoding (``LexicalEncoder``): a token maps to a u32 index by a stable hash (blake2b, 4
bytes), never Python's salted ``hash()``. Document values are BM25's term-frequency part
``tf * (k1 + 1) / (tf + k1 * (1 - b + b * len / avg_len))``; Qdrant's IDF modifier supplies
the IDF, so a query (value 1 per unique token; 0.5 for each of a word's two stems) scores
``sum(idf * value)`` = BM25 (k1 = 1.2, b = 0.75). ``avg_len`` is a fixed constant
(``AVG_DOC_LEN``, the mean analysed length of a task in the real corpus) rather than a
corpus statistic, so that a vector never changes when other tasks are
added or removed (incremental sync stays exact). Words of the task's section path (its open
headings) are added with a lower weight (``section_weight``) as context.

Cross-language expansion (``default_lexical_encoder``): with a glossary
(``planvec.text.glossary``), a task's vector also gets the English side of the French
glossary phrases it contains (and the French side of English ones), and so does a query,
at ``EXPANSION_WEIGHT`` and only for tokens the text lacks. An English query then shares
terms with a French task: sparse recall@10 on the dev queries 0.585 → 0.754 (see
docs/benchmarks.md, "Search quality (hybrid, FR/EN)").
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Sequence
from typing import Protocol

from planvec.records import SparseVector
from planvec.text.analyzer import DEFAULT_ANALYZER, Analyzer, Stemming, analyze
from planvec.text.folding import ENGLISH_STOP_WORDS, FRENCH_STOP_WORDS, STOP_WORDS

__all__ = [
    "ANALYZER_VERSION",
    "AVG_DOC_LEN",
    "ENGLISH_STOP_WORDS",
    "EXPANSION_WEIGHT",
    "FRENCH_STOP_WORDS",
    "STOP_WORDS",
    "Analyzer",
    "Expansion",
    "LexicalEncoder",
    "Stemming",
    "analyze",
    "default_lexical_encoder",
    "token_index",
]

#: Changes whenever analysis or encoding changes the vectors: an index whose manifest holds
#: another version must rebuild its sparse vectors.
ANALYZER_VERSION = "planvec-lexical-2"

#: Mean analysed length of a task in the real corpus (20,512 DEV tasks, default analyzer):
#: 5.9 text tokens + 0.4 x 17.4 section tokens = 12.8. Fixed on purpose: see the module
#: docstring. The section path counts in the length, so that long headings do not inflate
#: the score of every task under them (measured better than text-only length).
AVG_DOC_LEN = 13.0


@functools.lru_cache(maxsize=1 << 16)
def token_index(token: str) -> int:
    """The u32 index of a token: the first 4 bytes of its blake2b digest, little-endian.

    Memoised: a corpus repeats a few thousand tokens over and over."""
    digest = hashlib.blake2b(token.encode("utf-8", "surrogatepass"), digest_size=4).digest()
    return int.from_bytes(digest, "little")


def _sparse(weights: dict[int, float]) -> SparseVector:
    indices = tuple(sorted(weights))
    return SparseVector(indices=indices, values=tuple(weights[i] for i in indices))


class Expansion(Protocol):
    """Cross-language expansion (``planvec.text.glossary.Glossary``)."""

    version: str

    def translations(self, text: str) -> list[str]: ...


class LexicalEncoder:
    """Turns task texts and queries into sparse vectors that Qdrant scores as BM25.

    Args:
        analyzer: the text analyzer (default: ``Analyzer()``).
        k1: BM25 term-frequency saturation.
        b: BM25 length normalisation.
        avg_len: fixed average document length (``AVG_DOC_LEN``).
        section_weight: weight of a section-path token relative to a text token.
        expansion: a glossary whose translations of a text are added to its vector (only
            tokens the text lacks, at ``expansion_weight``), so that French tasks and
            English queries (and the reverse) share terms.
        expansion_weight: weight of a translated token relative to a text token.
        expand_documents: expand task vectors (changes stored vectors).
        expand_queries: expand query vectors (free at index time).
    """

    def __init__(
        self,
        analyzer: Analyzer | None = None,
        *,
        k1: float = 1.2,
        b: float = 0.75,
        avg_len: float = AVG_DOC_LEN,
        section_weight: float = 0.4,
        expansion: Expansion | None = None,
        expansion_weight: float = 0.3,
        expand_documents: bool = True,
        expand_queries: bool = True,
    ) -> None:
        if k1 < 0 or not 0 <= b <= 1 or avg_len <= 0 or section_weight < 0:
            raise ValueError("need k1 >= 0, 0 <= b <= 1, avg_len > 0, section_weight >= 0")
        self.analyzer = analyzer or DEFAULT_ANALYZER
        self.k1 = k1
        self.b = b
        self.avg_len = avg_len
        self.section_weight = section_weight
        self.expansion = expansion
        self.expansion_weight = expansion_weight
        self._sections: dict[tuple[str, ...], list[tuple[str, float]]] = {}
        self._phrases: dict[str, list[tuple[str, float]]] = {}
        self.expand_documents = expand_documents and expansion is not None
        self.expand_queries = expand_queries and expansion is not None
        self.version = (
            f"{ANALYZER_VERSION};stem={self.analyzer.stemming};k1={k1:g};b={b:g};"
            f"avg={avg_len:g};sec={section_weight:g}"
        )
        if expansion is not None and (self.expand_documents or self.expand_queries):
            sides = ("d" if self.expand_documents else "") + ("q" if self.expand_queries else "")
            self.version += f";x={expansion.version}:{sides}:{expansion_weight:g}"

    def _expanded(self, text: str, present: dict[str, float]) -> dict[str, float]:
        """Tokens of the translations of ``text`` missing from ``present``, weighted."""
        extra: dict[str, float] = {}
        if self.expansion is None or not self.expansion_weight:
            return extra
        for phrase in self.expansion.translations(text):
            for tok, weight in self._phrase_tokens(phrase):
                if tok not in present:
                    extra[tok] = max(extra.get(tok, 0.0), self.expansion_weight * weight)
        return extra

    def _phrase_tokens(self, phrase: str) -> list[tuple[str, float]]:
        """Tokens of a glossary phrase, memoised: the glossary has a few thousand of them and
        every task containing one would analyse it again (a third of the encoding time)."""
        hit = self._phrases.get(phrase)
        if hit is None:
            hit = self.analyzer.analyze_weighted(phrase)
            if len(self._phrases) < 50_000:
                self._phrases[phrase] = hit
        return hit

    def _section_tokens(self, section: tuple[str, ...]) -> list[tuple[str, float]]:
        """Tokens of a section path, memoised: thousands of tasks share a few sections."""
        hit = self._sections.get(section)
        if hit is None:
            hit = self.analyzer.analyze_weighted(" \n ".join(section))
            if len(self._sections) < 50_000:
                self._sections[section] = hit
        return hit

    def document_terms(self, text: str, section: Sequence[str] = ()) -> dict[str, float]:
        """Token → BM25 term weight for a task (before hashing); useful to debug scores.

        Args:
            text: the task text.
            section: the task's open headings, top-down.

        Returns:
            A weight per distinct token.
        """
        tf: dict[str, float] = {}
        length = 0.0
        for tok, weight in self.analyzer.analyze_weighted(text):
            tf[tok] = tf.get(tok, 0.0) + weight
            length += weight
        if self.section_weight and section:
            for tok, weight in self._section_tokens(tuple(section)):
                tf[tok] = tf.get(tok, 0.0) + self.section_weight * weight
                length += self.section_weight * weight
        if self.expand_documents:
            # translations do not count in the length: a task is not "longer" for them
            for tok, weight in self._expanded(text, tf).items():
                tf[tok] = weight
        norm = self.k1 * (1.0 - self.b + self.b * length / self.avg_len)
        return {tok: f * (self.k1 + 1.0) / (f + norm) for tok, f in tf.items()}

    def encode_document(self, text: str, section: Sequence[str] = ()) -> SparseVector:
        """The sparse vector stored for a task.

        Args:
            text: the task text.
            section: the task's open headings, top-down (lower-weight context).

        Returns:
            Sorted unique u32 indices with BM25 term-frequency values (hash collisions are
            summed). Empty when the text has no searchable token.
        """
        weights: dict[int, float] = {}
        for tok, value in self.document_terms(text, section).items():
            idx = token_index(tok)
            weights[idx] = weights.get(idx, 0.0) + value
        return _sparse(weights)

    def encode_query(self, text: str) -> SparseVector:
        """The sparse query vector: 1 per unique token, 0.5 for each of a word's two stems.

        Qdrant multiplies each value by the token's IDF and the document's value.

        Args:
            text: the user's query.

        Returns:
            Sorted unique indices (values of colliding tokens summed). Empty when the
            query has only stop words.
        """
        per_token: dict[str, float] = {}
        for tok, weight in self.analyzer.analyze_weighted(text):
            per_token[tok] = max(per_token.get(tok, 0.0), weight)
        if self.expand_queries:
            per_token.update(self._expanded(text, per_token))
        weights: dict[int, float] = {}
        for tok, weight in per_token.items():
            idx = token_index(tok)
            weights[idx] = weights.get(idx, 0.0) + weight
        return _sparse(weights)


#: Weight of a glossary translation token relative to a text token (docs/benchmarks.md,
#: "Search quality (hybrid, FR/EN)": 0.5 measured best on the dev queries, 0.3-0.8 close).
EXPANSION_WEIGHT = 0.5


def default_lexical_encoder() -> LexicalEncoder:
    """planvec's lexical encoder: the default analyzer plus the built-in FR/EN glossary.

    Task vectors get the English side of the French glossary phrases they contain (and the
    reverse), queries too, at ``EXPANSION_WEIGHT``: an English query then meets a French
    task on shared terms, the single largest gain measured on the query set.

    Returns:
        A ``LexicalEncoder`` whose ``version`` names the glossary.
    """
    from planvec.text.glossary import default_glossary  # the glossary imports this module

    return LexicalEncoder(expansion=default_glossary(), expansion_weight=EXPANSION_WEIGHT)
