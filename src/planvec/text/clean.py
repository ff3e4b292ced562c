"""The one text cleaner: Markdown source -> plain text, and plain text -> embedding text.

``clean_text`` turns the Markdown source of a task or heading into the plain text we store
and show (the parser calls it); ``clean_task_text`` then strips what the embedding model
should not see (numbering prefixes, stray markers).

The rules are those of the golden extractions (``../shared/corpus/README.md``): code-span
backticks go (their content stays, untouched by the emphasis rule), paired emphasis markers
(``**``, ``__``, ``*``, ``_``, ``~~``) go, links/HTML/emojis stay, and every run of Unicode
whitespace (NBSP included) becomes one space. Keeping links and HTML verbatim is deliberate:
they carry paths and ids that people search for.
"""

from __future__ import annotations

import re

# Longest code span or emphasis we pair, in characters. The bound keeps every pattern linear:
# an unbounded lazy match on a long line full of unpaired markers would be quadratic.
_SPAN = 500
# A code span: a run of N backticks, content, the same run of N backticks (not longer).
_CODE_SPAN = re.compile(rf"(?<!`)(`+)(?!`)(.{{1,{_SPAN}}}?)(?<!`)\1(?!`)", re.DOTALL)
# Placeholders for protected code spans: private-use characters that never occur in plans.
_PH_OPEN, _PH_CLOSE = "\ue000", "\ue001"
_PLACEHOLDER = re.compile(_PH_OPEN + r"(\d+)" + _PH_CLOSE)

# Paired emphasis, strongest first. Underscores only pair at word boundaries, so
# snake_case_names keep theirs; a lone ``*`` (a footnote, a glob) stays.
_EMPHASIS = (
    ("**", re.compile(rf"\*\*(?=\S)(.{{1,{_SPAN}}}?)(?<=\S)\*\*", re.DOTALL)),
    ("__", re.compile(rf"(?<![^\W_])__(?=\S)(.{{1,{_SPAN}}}?)(?<=\S)__(?![^\W_])", re.DOTALL)),
    ("~~", re.compile(rf"~~(?=\S)(.{{1,{_SPAN}}}?)(?<=\S)~~", re.DOTALL)),
    ("*", re.compile(rf"(?<!\*)\*(?=[^\s*])(.{{1,{_SPAN}}}?)(?<=[^\s*])\*(?!\*)", re.DOTALL)),
    ("_", re.compile(rf"(?<![^\W_])_(?=[^\s_])(.{{1,{_SPAN}}}?)(?<=[^\s_])_(?![^\W_])", re.DOTALL)),
)


def _inner(match: re.Match[str]) -> str:
    """The text between a pair of markers (faster than a ``\\1`` template)."""
    return match.group(1)


def clean_text(source: str) -> str:
    """Plain text of one Markdown line (or several joined lines).

    Args:
        source: the raw Markdown of a task (after its checkbox) or of a heading.

    Returns:
        The cleaned text: no code-span backticks, no paired emphasis markers,
        whitespace collapsed to single spaces and stripped.
    """
    spans: list[str] = []
    if "`" in source:

        def _protect(match: re.Match[str]) -> str:
            content = match.group(2)
            # CommonMark: one leading and trailing space is stripped when both are present.
            if len(content) > 2 and content[0] == " " and content[-1] == " " and content.strip():
                content = content[1:-1]
            spans.append(content)
            return f"{_PH_OPEN}{len(spans) - 1}{_PH_CLOSE}"

        source = _CODE_SPAN.sub(_protect, source)
    if "*" in source or "_" in source or "~" in source:
        for marker, pattern in _EMPHASIS:
            # Repeat: ``***x***`` and nested pairs need more than one pass.
            changed = 1
            while changed and marker in source:
                source, changed = pattern.subn(_inner, source)
    if spans:
        source = _PLACEHOLDER.sub(lambda m: spans[int(m.group(1))], source)
    return " ".join(source.split())


_NUM_LABEL = re.compile(
    r"^(?:(?:micro|sous|nano)[- ]?)?(?:[ée]tape|t[âa]che|task|step|phase|action)\s*"
    r"\d+(?:\.\d+)*\s*[:.\-–—]?\s*",
    re.I,
)
_NUM_PREFIX = re.compile(r"^(?:\d+(?:\.\d+)+[.)]?|\d+[.)])\s*[:\-–—]?\s*")
_MARKUP = re.compile(r"\*\*|__|`")
_SPACES = re.compile(r"\s+")


def clean_task_text(text: str) -> str:
    """``text`` without its numbering prefix and Markdown markers, for the embedding model.

    ``**1.2.3** Créer X``, ``Micro-étape 1.1 : Créer X`` and ``3.2) Créer X`` all become
    ``Créer X``: numbering carries no meaning for the model and dilutes short texts.
    Text that is nothing but a number is kept as is.
    """
    out = _SPACES.sub(" ", _MARKUP.sub("", text)).strip()
    for _ in range(2):  # "Étape 2 : 2.1 Créer" has two prefixes
        out = _NUM_PREFIX.sub("", _NUM_LABEL.sub("", out)).strip()
    return out or text.strip()
