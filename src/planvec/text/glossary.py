"""A small French/English glossary of project-plan vocabulary, and what search does with it.

Why: the embedding model (all-MiniLM-L6-v2) is English-only and most plans are French, so
French tasks embed poorly and English queries share no words with French tasks. A built-in
glossary (``planvec/data/glossary_fr_en.tsv``: ~800 entries written from the most frequent
content words of real plan tasks) gives two cheap bridges:

* ``to_english``: a word-by-word "pseudo-English" rendering of a French text (glossary
  phrases replaced, French function words dropped, everything else kept), which the English
  model embeds far better than the French original;
* ``translations``: the other-language side of every glossary entry found in a text (both
  directions), which the lexical encoder may add to a sparse vector at a lower weight.

Matching ignores case, accents and stop words, and compares Snowball stems (French stems
for the French side, English stems for the English side), so ``déployer``, ``déploiement``
and ``déployés`` all meet one entry; the longest entry wins, then the first in the file.
"""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path

from planvec.text.folding import ENGLISH_STOP_WORDS, FRENCH_STOP_WORDS, fold, stemmer

#: Bump when the glossary file or the matching changes (embedded texts and sparse vectors
#: built with it change).
GLOSSARY_VERSION = "fr-en-1"

_MAX_PHRASE = 4
_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u02bc": "'"})
_ELISION = re.compile(r"(?<![^\W_])(?:jusqu|lorsqu|puisqu|qu|[cdjlmnst])'(?=[^\W\d_])", re.I)
#: words, identifiers (``file.go``, ``sous-modules``) and anything else as single characters
_TOKEN = re.compile(r"[^\W_]+(?:[._/\-'][^\W_]+)*|\S")
_WORD = re.compile(r"[^\W\d_]+(?:-[^\W\d_]+)*")

#: French function words rendered in English by ``to_english`` (the rest are dropped).
_FUNCTION_WORDS = {
    "et": "and",
    "ou": "or",
    "pour": "for",
    "avec": "with",
    "sans": "without",
    "dans": "in",
    "sur": "on",
    "entre": "between",
    "par": "by",
    "vers": "to",
    "de": "of",
    "des": "of",
    "du": "of",
    "avant": "before",
    "apres": "after",
    "sous": "under",
    "tous": "all",
    "toutes": "all",
    "chaque": "each",
    "pas": "not",
}
#: French stop words that ``to_english`` drops (English stop words are always kept).
_DROP = frozenset(FRENCH_STOP_WORDS - ENGLISH_STOP_WORDS - {"via"})


@lru_cache(maxsize=200_000)
def _fr_key(word: str) -> str:
    # the French stemmer needs the accents (it reads -é/-ée/-és as endings): stem, then fold
    return fold(stemmer("french")(unicodedata.normalize("NFC", word).casefold()))


@lru_cache(maxsize=200_000)
def _en_key(word: str) -> str:
    return stemmer("english")(fold(word))


def _content_words(phrase: str, stop: frozenset[str]) -> list[str]:
    phrase = _ELISION.sub("", phrase.translate(_APOSTROPHES))
    return [w for w in re.findall(r"[^\W_]+", phrase) if fold(w) not in stop]


@dataclass(frozen=True)
class _Entry:
    french: str
    english: str


class Glossary:
    """French/English phrase pairs with stem-based lookup in both directions.

    Args:
        pairs: (French, English) phrases, in priority order.
    """

    def __init__(self, pairs: Iterable[tuple[str, str]], version: str = GLOSSARY_VERSION) -> None:
        # The stem tables are built on first use: stemming ~800 phrases costs ~0.1 s, which a
        # sync with nothing to encode (a no-op re-run) should not pay.
        self._pairs = list(pairs)
        self._tables: tuple[dict[tuple[str, ...], _Entry], dict[tuple[str, ...], _Entry]] | None
        self._tables = None
        self.version = version

    def _build(self) -> tuple[dict[tuple[str, ...], _Entry], dict[tuple[str, ...], _Entry]]:
        fr_table: dict[tuple[str, ...], _Entry] = {}
        en_table: dict[tuple[str, ...], _Entry] = {}
        for fr, en in self._pairs:
            entry = _Entry(fr.strip(), en.strip())
            if fold(entry.french) == fold(entry.english):
                continue  # same word in both languages: nothing to translate
            fr_key = tuple(_fr_key(w) for w in _content_words(entry.french, FRENCH_STOP_WORDS))
            en_key = tuple(_en_key(w) for w in _content_words(entry.english, ENGLISH_STOP_WORDS))
            if fr_key and len(fr_key) <= _MAX_PHRASE:
                fr_table.setdefault(fr_key, entry)
            if en_key and len(en_key) <= _MAX_PHRASE and en_key != fr_key:
                en_table.setdefault(en_key, entry)
        return fr_table, en_table

    @property
    def _fr(self) -> dict[tuple[str, ...], _Entry]:
        if self._tables is None:
            self._tables = self._build()
        return self._tables[0]

    @property
    def _en(self) -> dict[tuple[str, ...], _Entry]:
        if self._tables is None:
            self._tables = self._build()
        return self._tables[1]

    @property
    def size(self) -> int:
        """Number of French phrases."""
        return len(self._fr)

    def _matches(
        self, words: Sequence[str], table: dict[tuple[str, ...], _Entry], english: bool
    ) -> list[tuple[int, int, _Entry]]:
        """Greedy longest matches ``(start, end, entry)`` over content-word positions."""
        key = _en_key if english else _fr_key
        keys = [key(w) for w in words]
        out: list[tuple[int, int, _Entry]] = []
        i = 0
        while i < len(keys):
            for n in range(min(_MAX_PHRASE, len(keys) - i), 0, -1):
                entry = table.get(tuple(keys[i : i + n]))
                if entry is not None:
                    out.append((i, i + n, entry))
                    i += n
                    break
            else:
                i += 1
        return out

    def translations(self, text: str) -> list[str]:
        """The other-language side of every glossary entry found in ``text``.

        Args:
            text: a task or query, in French, English or both.

        Returns:
            English renderings of French entries, then French renderings of English entries
            (entries whose two sides share a word add nothing and are skipped).
        """
        fr_words = _content_words(text, FRENCH_STOP_WORDS)
        out: list[str] = []
        covered: set[str] = set()
        for start, end, e in self._matches(fr_words, self._fr, english=False):
            covered.update(fold(w) for w in fr_words[start:end])
            out.append(e.english)
        # French words already matched are not looked up again as English ("intégrer"
        # would meet "integrity" through the English stemmer)
        en_words = [w for w in _content_words(text, ENGLISH_STOP_WORDS) if fold(w) not in covered]
        out += [e.french for _, _, e in self._matches(en_words, self._en, english=True)]
        return out

    def to_english(self, text: str) -> str:
        """A word-by-word English rendering of ``text`` for an English embedding model.

        Glossary phrases are replaced, French function words translated or dropped,
        identifiers, numbers, punctuation and unknown words kept. English text comes back
        nearly unchanged.

        Args:
            text: any text.

        Returns:
            The rendering, single-spaced.
        """
        text = unicodedata.normalize("NFC", text).translate(_APOSTROPHES)
        text = _ELISION.sub("", text)
        tokens = _TOKEN.findall(text)
        # positions of content words (candidates for glossary phrases)
        content = [
            i
            for i, tok in enumerate(tokens)
            if _WORD.fullmatch(tok) and fold(tok) not in FRENCH_STOP_WORDS
        ]
        replaced: dict[int, tuple[int, str]] = {}  # token start -> (token end, English)
        for start, end, entry in self._matches(
            [tokens[i] for i in content], self._fr, english=False
        ):
            first, last = content[start], content[end - 1]
            replaced[first] = (last + 1, entry.english)
        out: list[str] = []
        i = 0
        while i < len(tokens):
            if i in replaced:
                i, english = replaced[i]
                out.append(english)
                continue
            tok = tokens[i]
            folded = fold(tok)
            if folded in _FUNCTION_WORDS:
                out.append(_FUNCTION_WORDS[folded])
            elif folded not in _DROP:
                out.append(tok)
            i += 1
        rendered = " ".join(out)
        rendered = re.sub(r"\s+([,.;:!?)\]])", r"\1", rendered)
        rendered = re.sub(r"([(\[])\s+", r"\1", rendered)
        rendered = re.sub(r"\bof (?=of\b)", "", rendered)
        return rendered.strip()

    def bilingual(self, text: str) -> str:
        """``text`` followed by its English rendering in parentheses when that differs.

        Args:
            text: any text.

        Returns:
            ``"original (rendering)"`` or ``text`` itself.
        """
        english = self.to_english(text)
        if fold(english) == fold(" ".join(text.split())):
            return text
        return f"{text} ({english})"


def parse_glossary(lines: Iterable[str]) -> list[tuple[str, str]]:
    """``French<TAB>English`` lines (``#`` comments and blank lines skipped).

    Args:
        lines: the file's lines.

    Returns:
        The pairs in file order.

    Raises:
        ValueError: a line without exactly one tab.
    """
    pairs: list[tuple[str, str]] = []
    for n, line in enumerate(lines, 1):
        line = line.rstrip("\n")
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        parts = line.split("\t")
        if len(parts) != 2 or not parts[0].strip() or not parts[1].strip():
            raise ValueError(f"glossary line {n}: expected 'French<TAB>English', got {line!r}")
        pairs.append((parts[0], parts[1]))
    return pairs


@lru_cache(maxsize=1)
def default_glossary() -> Glossary:
    """The glossary shipped with planvec (``planvec/data/glossary_fr_en.tsv``), with its
    stem tables read from ``STEM_TABLES`` when they were computed for this very glossary
    and stemmer code (else built on first use, as for any glossary)."""
    text = resources.files("planvec").joinpath("data/glossary_fr_en.tsv").read_text("utf-8")
    glossary = Glossary(parse_glossary(text.splitlines()))
    glossary._tables = _shipped_tables(text)
    return glossary


#: the stem tables of the shipped glossary, computed ahead (``stem_tables_json``): building
#: them stems ~800 phrases (~0.1 s of CPU), which every run that embeds a task would pay
STEM_TABLES = "data/glossary_stems.json"
_TABLES = tuple[dict[tuple[str, ...], _Entry], dict[tuple[str, ...], _Entry]]


def _stemmer_code() -> str:
    """A digest of the stemmer code the tables depend on (``None`` stems differently)."""
    import importlib.util

    if importlib.util.find_spec("Stemmer") is not None:
        return "pystemmer"  # snowballstemmer then delegates to PyStemmer's C stemmers
    spec = importlib.util.find_spec("snowballstemmer")
    if spec is None or spec.origin is None:
        return "none"
    folder = Path(spec.origin).parent
    digest = hashlib.sha256()
    for name in ("basestemmer.py", "among.py", "french_stemmer.py", "english_stemmer.py"):
        digest.update((folder / name).read_bytes())
    return digest.hexdigest()


def _identity(text: str) -> dict[str, str]:
    return {
        "glossary_sha256": hashlib.sha256(text.encode("utf-8")).hexdigest(),
        "stemmer_code": _stemmer_code(),
        "planvec_code": hashlib.sha256(
            Path(__file__).read_bytes() + (Path(__file__).parent / "folding.py").read_bytes()
        ).hexdigest(),
    }


def stem_tables_json(text: str) -> str:
    """The content of ``STEM_TABLES`` for glossary ``text`` (regenerate it after changing
    the glossary, the matching or the stemmer: ``tests/text`` fails until then)."""
    fr, en = Glossary(parse_glossary(text.splitlines()))._build()
    tables = {
        side: [[list(key), e.french, e.english] for key, e in table.items()]
        for side, table in (("fr", fr), ("en", en))
    }
    return json.dumps({**_identity(text), **tables}, ensure_ascii=False, indent=0) + "\n"


def write_stem_tables() -> Path:
    """Regenerate ``STEM_TABLES`` beside the shipped glossary (a maintainer's step)."""
    folder = Path(__file__).parent.parent / "data"
    text = (folder / "glossary_fr_en.tsv").read_text("utf-8")
    target = folder / "glossary_stems.json"
    target.write_text(stem_tables_json(text), encoding="utf-8")
    return target


def _shipped_tables(text: str) -> _TABLES | None:
    """The precomputed tables when they match ``text`` and the code; ``None`` otherwise."""
    try:
        raw = resources.files("planvec").joinpath(STEM_TABLES).read_text("utf-8")
        data = json.loads(raw)
        if any(data.get(k) != v for k, v in _identity(text).items()):
            return None
        fr = {tuple(key): _Entry(f, e) for key, f, e in data["fr"]}
        en = {tuple(key): _Entry(f, e) for key, f, e in data["en"]}
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return fr, en
