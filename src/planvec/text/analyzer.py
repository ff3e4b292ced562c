"""The French/English analyzer: text -> weighted tokens for the lexical (BM25) vectors.

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
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from typing import Literal

from planvec.text.folding import (
    APOSTROPHES,
    ELISION,
    ENGLISH_STOP_WORDS,
    FRENCH_STOP_WORDS,
    STOP_WORDS,
    fold,
    repair_mojibake,
    stemmer,
)

Stemming = Literal["both", "union", "short", "fr", "en", "detect", "none"]

_COMPOUND = re.compile(r"[^\W_]+(?:[._\-][^\W_]+)*")
_CONNECTOR = re.compile(r"[._\-]")
_NUMBERING = re.compile(r"\d+(?:\.\d+)+")
_CAMEL_SPLIT = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")
_HAS_CAMEL = re.compile(r"[a-z][A-Z]")


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
            text = repair_mojibake(text)
        text = unicodedata.normalize("NFKC", text)
        text = ELISION.sub("", text.translate(APOSTROPHES))
        for match in _COMPOUND.finditer(text):
            raw = match.group(0)
            if _CONNECTOR.search(raw) is None:
                yield from self._simple(raw)
                continue
            if _NUMBERING.fullmatch(raw):
                yield fold(raw), False
                continue
            parts = _CONNECTOR.split(raw)
            if self.keep_compounds and any(
                len(p) > 1 and fold(p) not in STOP_WORDS for p in parts
            ):  # "est-ce" is no identifier
                yield fold(raw), False
            for part in parts:
                yield from self._simple(part)

    def _simple(self, raw: str) -> Iterable[tuple[str, bool]]:
        if self.split_camel and _HAS_CAMEL.search(raw):
            if self.keep_compounds:
                yield fold(raw), False
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
            folded = [fold(w) for w, _ in words]
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
        word = fold(raw)
        result: tuple[tuple[str, float], ...]
        if len(word) <= 1 or word in STOP_WORDS:
            result = ()
        elif not plain or word.isdigit() or mode == "none":
            result = ((word, 1.0),)
        else:
            fr = stemmer("french")(word)
            fr = fr if len(fr) > 1 else word  # "0s" -> "0" would be dropped
            en = stemmer("english")(word)
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


DEFAULT_ANALYZER = Analyzer()


def analyze(text: str) -> list[str]:
    """Analyse ``text`` with the default analyzer (see the module docstring).

    Args:
        text: any text.

    Returns:
        The list of tokens, in order.
    """
    return DEFAULT_ANALYZER.analyze(text)
