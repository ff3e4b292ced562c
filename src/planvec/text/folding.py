"""Character-level text normalisation shared by the analyzer and the glossary.

Accent and case folding, French/English stop words, memoised Snowball stemmers, the repair
of UTF-8 read as Windows-1252, apostrophes and French elisions. Pure Python (plus
``snowballstemmer``): the bottom of the text layer, imported by ``planvec.text.analyzer``
and ``planvec.text.glossary`` so that neither reaches into the other's private helpers.
"""

from __future__ import annotations

import re
import threading
import unicodedata
from collections.abc import Callable
from functools import lru_cache

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


def fold(text: str) -> str:
    """Case fold and strip accents: ``Été`` → ``ete``, ``œuvre`` → ``oeuvre``."""
    text = text.casefold()
    if text.isascii():
        return text
    text = text.translate(_LIGATURES)
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


_LIGATURES = str.maketrans({"œ": "oe", "æ": "ae", "ø": "o", "đ": "d", "ł": "l", "ħ": "h", "ı": "i"})

FRENCH_STOP_WORDS: frozenset[str] = frozenset(fold(w) for w in _FRENCH_STOP.split())
ENGLISH_STOP_WORDS: frozenset[str] = frozenset(fold(w) for w in _ENGLISH_STOP.split())
STOP_WORDS: frozenset[str] = FRENCH_STOP_WORDS | ENGLISH_STOP_WORDS

APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u02bc": "'", "\u00b4": "'", "`": "'"})
ELISION = re.compile(r"(?<![^\W_])(?:jusqu|lorsqu|puisqu|quoiqu|qu|[cdjlmnst])'(?=[^\W\d_])", re.I)
_MOJIBAKE = re.compile(r"\S*(?:Ã|Â|â€)\S*")


def repair_mojibake(text: str) -> str:
    """Undo UTF-8 read as Windows-1252 (``dÃ©veloppement`` → ``développement``), per word."""

    def fix(match: re.Match[str]) -> str:
        word = match.group(0)
        try:
            return word.encode("cp1252").decode("utf-8")
        except UnicodeError:
            return word

    return _MOJIBAKE.sub(fix, text)


@lru_cache(maxsize=2)
def stemmer(language: str) -> Callable[[str], str]:
    """A memoised stemmer. Snowball stemmer objects keep state between calls, so misses
    run under a lock: encoders may be shared by threads (e.g. a parse/embed pipeline)."""
    import snowballstemmer  # imports every language's stemmer: only when one is needed

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
