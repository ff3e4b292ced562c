"""Correctness on vectors: each contender's stored vectors against a reference embedding.

After each scenario a contender writes the stored vectors of a sample of task ids (every
task whose text or status the scenario changed, plus a random sample; ``bench/run.py``
picks them). Here, in the project venv, each is compared with a *reference* embedding of
the text that contender should have embedded for the task's **current** text:

* ``planvec`` rows: ``planvec.embedding_recipe.embedding_text_of(text)`` (the task text
  without numbering, rendered in English by the glossary: what planvec embeds);
* peers: the task text as given to them;
* the legacy loop: the text its regex captures on the task's current line.

The reference model is sentence-transformers on torch fp32 (the bar planvec's own backends
were held to, docs/embedding.md), or planvec's hashing embedder for the tests. A vector
passes when its cosine to the reference is at least the contender's tolerance
(``TOLERANCE``); a stale vector (an edited task still carrying its old text's vector) or a
vector of another task falls far below it, and ``discrimination`` measures by how much.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent / "peers"))  # verify.py: both venvs

#: Minimum cosine to the reference, per recipe of the run. fp32 on ONNX Runtime and torch
#: bf16 stay above 0.9998 on the whole corpus (docs/embedding.md); int8 is below planvec's
#: fidelity bar by design (cosine min 0.95 over the corpus) and gets a looser bound (it cannot
#: then tell small edits apart).
TOLERANCE = {"fp32": 0.999, "int8": 0.9}

Encode = Callable[[Sequence[str]], np.ndarray]


class Reference:
    """Reference vectors, cached by text (every contender is checked against the same ones)."""

    def __init__(self, kind: str, model_path: str | None = None) -> None:
        self.kind = kind
        self.model_path = model_path
        self._encode: Encode | None = None
        self._cache: dict[str, np.ndarray] = {}

    def _encoder(self) -> Encode:
        if self._encode is None:
            if self.kind == "hashing":
                from planvec.embed.hashing import HashingEmbedder

                hashing = HashingEmbedder()
                self._encode = lambda texts: np.asarray(hashing.embed(list(texts)))
            else:
                from sentence_transformers import SentenceTransformer

                model = SentenceTransformer(self.model_path, device="cpu")
                self._encode = lambda texts: np.asarray(
                    model.encode(list(texts), batch_size=32, normalize_embeddings=True)
                )
        return self._encode

    def vectors(self, texts: Sequence[str]) -> list[np.ndarray]:
        todo = sorted({t for t in texts if t not in self._cache})
        if todo:
            for text, vector in zip(todo, self._encoder()(todo), strict=True):
                self._cache[text] = np.asarray(vector, dtype=np.float64)
        return [self._cache[t] for t in texts]


def expected_texts(recipe: str, scenario: dict[str, Any], ids: Sequence[str]) -> dict[str, str]:
    """Task id -> the text a contender following ``recipe`` must have embedded for it now."""
    from verify import load_state

    tasks = {t["id"]: t for t in load_state(Path(scenario["state"]))}
    out: dict[str, str] = {}
    for i in ids:
        task = tasks.get(i)
        if task is None:
            continue
        if recipe == "planvec":
            from planvec.embedding_recipe import embedding_text_of

            out[i] = embedding_text_of(task["text"])
        elif recipe == "legacy":
            from legacy import legacy_text_at

            text = legacy_text_at(Path(scenario["dir"]), task["plan"], task["line"])
            if text is not None:
                out[i] = text
        else:
            out[i] = task["text"]
    return out


def _cosine(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.dot(a, b) / max(1e-12, float(np.linalg.norm(a) * np.linalg.norm(b))))


def check_vectors(
    vectors_file: str, scenario: dict[str, Any], recipe: str, tolerance: float, ref: Reference
) -> dict[str, Any]:
    """Compare one scenario's sampled stored vectors with the reference; a summary dict."""
    stored: dict[str, list[float]] = json.loads(Path(vectors_file).read_text(encoding="utf-8"))
    wanted = list(scenario["vector_sample"])
    texts = expected_texts(recipe, scenario, wanted)
    ids = [i for i in wanted if i in texts]
    missing = [i for i in ids if i not in stored]
    present = [i for i in ids if i in stored]
    cos = [
        _cosine(np.asarray(stored[i], dtype=np.float64), r)
        for i, r in zip(present, ref.vectors([texts[i] for i in present]), strict=True)
    ]
    below = sum(1 for c in cos if c < tolerance)
    return {
        "checked": len(present),
        "missing": len(missing),
        "min_cos": min(cos) if cos else None,
        "mean_cos": sum(cos) / len(cos) if cos else None,
        "below": below,
        "tolerance": tolerance,
        "ok": bool(present) and not missing and below == 0,
    }


def discrimination(
    before: dict[str, Any], after: dict[str, Any], edited: Sequence[str], ref: Reference
) -> float | None:
    """Highest cosine between an edited task's old and new reference vectors (planvec recipe).

    A stale vector scores this against the new text, so a tolerance above it catches every
    stale vector of the sample.
    """
    old = expected_texts("planvec", before, edited)
    new = expected_texts("planvec", after, edited)
    both = [i for i in edited if i in old and i in new and old[i] != new[i]]
    if not both:
        return None
    olds, news = ref.vectors([old[i] for i in both]), ref.vectors([new[i] for i in both])
    pairs = zip(olds, news, strict=True)
    return max(_cosine(a, b) for a, b in pairs)
