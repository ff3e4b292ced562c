"""Correctness of one scenario, shared by every contender (stdlib only: runs in both venvs).

A contender is correct on a row when its store holds exactly the expected tasks: one point
per expected task id, no stale or duplicate point, the current text for every task and, when
the contender stores it, the current status. Vectors are checked by ``bench/vectors.py``
against a reference embedding (the samples are written here, by ``write_vector_sample``).
"""

from __future__ import annotations

import json
import resource
from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import Any


def load_state(path: Path) -> list[dict[str, Any]]:
    """The tasks of one corpus state (JSONL written by ``bench/run.py``)."""
    with path.open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def verify(
    stored: Iterable[tuple[str, ...]],
    expected: dict[str, str],
    deleted: Iterable[str] = (),
    edited: Iterable[str] = (),
    statuses: dict[str, str] | None = None,
) -> dict[str, Any]:
    """Compare ``(task id, text[, status])`` read back from a store with the expected tasks.

    Args:
        stored: every point of the store, as (task id, stored text) or (id, text, status).
        expected: task id -> text of the current corpus state.
        deleted: ids removed from the corpus by this scenario (must be gone).
        edited: ids whose text this scenario changed (must carry the new text).
        statuses: task id -> current status; checked on the points that carry one.

    Returns:
        counts and a ``correct`` flag.
    """
    pairs = list(stored)
    ids = Counter(p[0] for p in pairs)
    texts = {p[0]: p[1] for p in pairs}
    wrong_status = 0
    if statuses is not None:
        wrong_status = sum(
            1 for p in pairs if len(p) > 2 and p[0] in statuses and p[2] != statuses[p[0]]
        )
    missing = sum(1 for i in expected if i not in ids)
    extra = sum(n for i, n in ids.items() if i not in expected) + sum(
        n - 1 for i, n in ids.items() if i in expected and n > 1
    )
    wrong = sum(1 for i, t in expected.items() if i in texts and texts[i] != t)
    deleted_left = sum(1 for i in deleted if i in ids)
    edited_ok = sum(1 for i in edited if texts.get(i) == expected.get(i))
    edited_n = len(list(edited))
    return {
        "points": len(pairs),
        "expected": len(expected),
        "missing": missing,
        "extra": extra,
        "wrong_text": wrong,
        "wrong_status": wrong_status,
        "deleted_left": deleted_left,
        "edited_ok": f"{edited_ok}/{edited_n}",
        "correct": len(pairs) == len(expected)
        and not (missing or extra or wrong or deleted_left or wrong_status),
    }


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def sample_vectors(points: Iterable[tuple[str, Any]], sample: Iterable[str]) -> dict[str, Any]:
    """The stored vectors of the sampled task ids (lists of floats), for ``bench/vectors.py``."""
    wanted = set(sample)
    return {i: [float(x) for x in v] for i, v in points if i in wanted and v is not None}


def write_vector_sample(work: Path, scenario: str, vectors: dict[str, Any]) -> str:
    """Write one scenario's sampled vectors next to the contender's work; returns the path."""
    path = Path(work) / f"vectors-{scenario}.json"
    path.write_text(json.dumps(vectors), encoding="utf-8")
    return str(path)
