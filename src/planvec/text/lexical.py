"""French/English lexical analyzer and the BM25-style sparse encoder of hybrid search.

Why: the dense model (all-MiniLM-L6-v2) is English-only while most plans are French, and
users search with identifiers (``LoadFromEnv``, ``1.2.3``, ``docker-compose.yml``) that no
sentence model represents well. A sparse "lexical" vector per task, scored by Qdrant as BM25,
finds the tasks the dense side misses. It is pure Python (plus ``snowballstemmer``), so the
same vectors are built for every store backend (embedded Edge, server, memory): Qdrant only
needs the ``Idf`` modifier on the sparse vector to turn our term weights into BM25.

Analysis (``analyze``), in order:

1. repair of UTF-8 text that was decoded as Windows-1252 (``dÃ©veloppement``), which
   occurs in the real plans; then NFKC;
2. apostrophes unified (’ ‘ ʼ → '), French elisions dropped (``l'API`` → ``API``,
   ``d’intégration`` → ``intégration``, also ``qu'``, ``jusqu'``, ``lorsqu'``, ``puisqu'``);
3. tokens are runs of letters/digits joined by ``.``, ``_`` or ``-``: a joined token
   (``1.2.3``, ``snake_case``, ``file.go``, ``sous-modules``) is kept whole *and* split into
   its parts; numbering ids (digits and dots only) are kept whole only; ``camelCase`` and
   ``PascalCase`` identifiers also yield their words (``LoadFromEnv`` → ``load``,
   ``from``, ``env``); ``/`` separates (paths give their segments);
4. case folding and accent folding (``é`` → ``e``, ``œ`` → ``oe``, ``ß`` → ``ss``);
5. French and English stop words dropped (after folding, before stemming); one-character
   tokens dropped;
6. stemming of plain words with *both* Snowball stemmers, French and English: a word whose
   two stems agree yields that stem; otherwise it yields both, at weight 0.5 each, so that
   every word weighs the same. The language of a task is unknown and often mixed (French
   sentences full of English terms: ``monitoring``, ``workflows``), and queries may be in
   the other language. Emitting both stems makes analysis language-independent (an
   identical word always matches itself) and lets each language's inflections meet
   (``sauvegardes``/``sauvegarder``, ``déploiement``/``déployer``, ``runs``/``running``):
   31 of 36 French/English inflection pairs conflate, against 23 (French stemmer only),
   28 (English only) and 30 (shorter stem). On the query set the modes are within one
   query of each other, while full-weight double stems and per-text language detection
   (by stop-word counts) measured worse; see docs/benchmarks.md, "Lexical analyzer".

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
(``planvec.embed.glossary``), a task's vector also gets the English side of the French
glossary phrases it contains (and the French side of English ones), and so does a query,
at ``EXPANSION_WEIGHT`` and only for tokens the text lacks. An English query then shares
terms with a French task: sparse recall@10 on the dev queries 0.585 → 0.754 (see
docs/benchmarks.md, "Search quality (hybrid, FR/EN)").
"""

from __future__ import annotations

import hashlib
import re
import threading
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from functools import lru_cache
from typing import Literal, Protocol

import snowballstemmer

from planvec.store.base import SparseVector

#: Changes whenever analysis or encoding changes the vectors: an index whose manifest holds
#: another version must rebuild its sparse vectors.
ANALYZER_VERSION = "planvec-lexical-2"

#: Mean analysed length of a task in the real corpus (20,512 DEV tasks, default analyzer):
#: 5.9 text tokens + 0.4 x 17.4 section tokens = 12.8. Fixed on purpose: see the module
#: docstring. The section path counts in the length, so that long headings do not inflate
#: the score of every task under them (measured better than text-only length).
AVG_DOC_LEN = 13.0

Stemming = Literal["both", "union", "short", "fr", "en", "detect", "none"]

_FRENCH_STOP = """
a à afin ai aie ainsi ait alors apres après as au aucun aussi autre autres avant aucune
aupres auquel aura aurai auraient aurait aux avaient avais avait avec avez aviez avions
avoir avons ayant c ca ce ceci cela celle celles celui ces cet cette ceux chaque chez ci
comme comment d dans de des deja depuis donc dont du duquel elle elles en encore entre es
est et etaient etais etait etant etc ete etre eu eux ex fait faut il ils j je jusqu l la
laquelle le lequel les lesquelles lesquels leur leurs lors lorsqu lui m ma mais me meme mes
moi mon n ne ni nos notre nous on ont or ou où par parce pas pendant peu peut peuvent plus
pour pourquoi puis puisqu qu quand que quel quelle quelles quels qui quoi s sa sans se selon
sera serait ses si soi soient soit sommes son sont sous suis sur t ta tel telle telles tels
te tes toi ton tous tout toute toutes tres tu un une unes uns vers via voici voila vos votre
vous y
"""

_ENGLISH_STOP = """
a about above after again against all also am an and any are as at be because been before
being below between both but by can could did do does doing done down during each else etc
few for from further had has have having he her here hers him his how i if in into is it its
itself just let may me might more most must my no nor not of off on once only or other our
ours out over own same shall she should so some such than that the their theirs them then
there these they this those through to too under until up us very was we were what when where
which while who whom why will with within without would yet you your yours
"""


def _fold(text: str) -> str:
    """Case fold and strip accents: ``Été`` → ``ete``, ``œuvre`` → ``oeuvre``."""
    text = text.casefold()
    if text.isascii():
        return text
    text = text.translate(_LIGATURES)
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


_LIGATURES = str.maketrans({"œ": "oe", "æ": "ae", "ø": "o", "đ": "d", "ł": "l", "ħ": "h", "ı": "i"})

FRENCH_STOP_WORDS: frozenset[str] = frozenset(_fold(w) for w in _FRENCH_STOP.split())
ENGLISH_STOP_WORDS: frozenset[str] = frozenset(_fold(w) for w in _ENGLISH_STOP.split())
STOP_WORDS: frozenset[str] = FRENCH_STOP_WORDS | ENGLISH_STOP_WORDS

_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u02bc": "'", "\u00b4": "'", "`": "'"})
_ELISION = re.compile(r"(?<![^\W_])(?:jusqu|lorsqu|puisqu|quoiqu|qu|[cdjlmnst])'(?=[^\W\d_])", re.I)
_MOJIBAKE = re.compile(r"\S*(?:Ã|Â|â€)\S*")
_COMPOUND = re.compile(r"[^\W_]+(?:[._\-][^\W_]+)*")
_CONNECTOR = re.compile(r"[._\-]")
_NUMBERING = re.compile(r"\d+(?:\.\d+)+")
_CAMEL_SPLIT = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")
_HAS_CAMEL = re.compile(r"[a-z][A-Z]")


def _repair_mojibake(text: str) -> str:
    """Undo UTF-8 read as Windows-1252 (``dÃ©veloppement`` → ``développement``), per word."""

    def fix(match: re.Match[str]) -> str:
        word = match.group(0)
        try:
            return word.encode("cp1252").decode("utf-8")
        except UnicodeError:
            return word

    return _MOJIBAKE.sub(fix, text)


@lru_cache(maxsize=2)
def _stemmer(language: str) -> Callable[[str], str]:
    """A memoised stemmer. Snowball stemmer objects keep state between calls, so misses
    run under a lock: encoders may be shared by threads (e.g. a parse/embed pipeline)."""
    stemmer = snowballstemmer.stemmer(language)
    cache: dict[str, str] = {}
    lock = threading.Lock()

    def stem(word: str) -> str:
        out = cache.get(word)
        if out is None:
            with lock:
                out = stemmer.stemWord(word)
            if len(cache) < 200_000:
                cache[word] = out
        return out

    return stem


class Analyzer:
    """Text → tokens for French/English plans. See the module docstring for the steps.

    Args:
        stemming: ``"both"`` (French and English stems, half weight each when they
            differ; the default), ``"union"`` (both at full weight), ``"short"`` (the
            shorter of the two), ``"fr"``, ``"en"``, ``"detect"`` (one stemmer per text,
            chosen by counting French vs English stop words; ties go to French) or
            ``"none"``. The alternatives exist to be measured (bench/eval_search.py).
        split_camel: also emit the words of ``camelCase`` identifiers.
        keep_compounds: also emit joined tokens (``file.go``) whole.
    """

    def __init__(
        self,
        *,
        stemming: Stemming = "both",
        split_camel: bool = True,
        keep_compounds: bool = True,
    ) -> None:
        if stemming not in ("both", "union", "short", "fr", "en", "detect", "none"):
            raise ValueError(f"unknown stemming mode {stemming!r}")
        self.stemming = stemming
        self.split_camel = split_camel
        self.keep_compounds = keep_compounds
        # word -> its (token, weight) pairs: most words recur, stemming is the hot path
        self._memo: dict[tuple[str, bool, str], tuple[tuple[str, float], ...]] = {}

    def _words(self, text: str) -> Iterable[tuple[str, bool]]:
        """(folded token, is_plain_word) pairs, before stop words and stemming."""
        if "Ã" in text or "Â" in text or "â€" in text:
            text = _repair_mojibake(text)
        text = unicodedata.normalize("NFKC", text)
        text = _ELISION.sub("", text.translate(_APOSTROPHES))
        for match in _COMPOUND.finditer(text):
            raw = match.group(0)
            if _CONNECTOR.search(raw) is None:
                yield from self._simple(raw)
                continue
            if _NUMBERING.fullmatch(raw):
                yield _fold(raw), False
                continue
            parts = _CONNECTOR.split(raw)
            if self.keep_compounds and any(
                len(p) > 1 and _fold(p) not in STOP_WORDS for p in parts
            ):  # "est-ce" is no identifier
                yield _fold(raw), False
            for part in parts:
                yield from self._simple(part)

    def _simple(self, raw: str) -> Iterable[tuple[str, bool]]:
        if self.split_camel and _HAS_CAMEL.search(raw):
            if self.keep_compounds:
                yield _fold(raw), False
            for piece in _CAMEL_SPLIT.split(raw):
                yield piece.casefold(), True
        else:
            yield raw.casefold(), True  # folded in _word_tokens

    def analyze(self, text: str) -> list[str]:
        """The tokens of ``text``, in order (a word may yield two stems).

        Args:
            text: any text; never raises on odd input.

        Returns:
            Folded, stop-word-free, stemmed tokens.
        """
        return [tok for tok, _ in self.analyze_weighted(text)]

    def analyze_weighted(self, text: str) -> list[tuple[str, float]]:
        """Like ``analyze``, with the weight of each token occurrence.

        A word has weight 1. In ``"both"`` mode a word whose French and English stems differ
        yields both stems at weight 0.5 each, so that it counts as much as any other word
        (in ``"union"`` mode both stems get weight 1).

        Args:
            text: any text.

        Returns:
            (token, weight) pairs in order.
        """
        words = list(self._words(text))
        mode = self.stemming
        if mode == "detect":
            folded = [_fold(w) for w, _ in words]
            fr = sum(1 for w in folded if w in FRENCH_STOP_WORDS)
            en = sum(1 for w in folded if w in ENGLISH_STOP_WORDS)
            mode = "en" if en > fr else "fr"
        out: list[tuple[str, float]] = []
        for word, plain in words:
            out.extend(self._word_tokens(word, plain, mode))
        return out

    def _word_tokens(self, raw: str, plain: bool, mode: str) -> tuple[tuple[str, float], ...]:
        """The weighted tokens of one (lower-cased) word, memoised."""
        key = (raw, plain, mode)
        hit = self._memo.get(key)
        if hit is not None:
            return hit
        word = _fold(raw)
        result: tuple[tuple[str, float], ...]
        if len(word) <= 1 or word in STOP_WORDS:
            result = ()
        elif not plain or word.isdigit() or mode == "none":
            result = ((word, 1.0),)
        else:
            fr = _stemmer("french")(word)
            fr = fr if len(fr) > 1 else word  # "0s" -> "0" would be dropped
            en = _stemmer("english")(word)
            en = en if len(en) > 1 else word
            if mode == "fr":
                result = ((fr, 1.0),)
            elif mode == "en":
                result = ((en, 1.0),)
            elif mode == "short":
                result = ((en if len(en) < len(fr) else fr, 1.0),)
            elif fr == en:
                result = ((fr, 1.0),)
            else:  # both (half weight each: a word counts once) / union
                half = 0.5 if mode == "both" else 1.0
                result = ((fr, half), (en, half))
        if len(self._memo) < 300_000:
            self._memo[key] = result
        return result


_DEFAULT = Analyzer()


def analyze(text: str) -> list[str]:
    """Analyse ``text`` with the default analyzer (see the module docstring).

    Args:
        text: any text.

    Returns:
        The list of tokens, in order.
    """
    return _DEFAULT.analyze(text)


def token_index(token: str) -> int:
    """The u32 index of a token: the first 4 bytes of its blake2b digest, little-endian."""
    digest = hashlib.blake2b(token.encode("utf-8", "surrogatepass"), digest_size=4).digest()
    return int.from_bytes(digest, "little")


def _sparse(weights: dict[int, float]) -> SparseVector:
    indices = tuple(sorted(weights))
    return SparseVector(indices=indices, values=tuple(weights[i] for i in indices))


class Expansion(Protocol):
    """Cross-language expansion (``planvec.embed.glossary.Glossary``)."""

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
        self.analyzer = analyzer or _DEFAULT
        self.k1 = k1
        self.b = b
        self.avg_len = avg_len
        self.section_weight = section_weight
        self.expansion = expansion
        self.expansion_weight = expansion_weight
        self._sections: dict[tuple[str, ...], list[tuple[str, float]]] = {}
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
            for tok, weight in self.analyzer.analyze_weighted(phrase):
                if tok not in present:
                    extra[tok] = max(extra.get(tok, 0.0), self.expansion_weight * weight)
        return extra

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
    from planvec.embed.glossary import default_glossary  # the glossary imports this module

    return LexicalEncoder(expansion=default_glossary(), expansion_weight=EXPANSION_WEIGHT)
