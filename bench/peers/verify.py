"""Correctness of one scenario, shared by every contender (stdlib only: runs in both venvs).

A contender is correct on a row when its store holds exactly the expected tasks: one point
per expected task id, no stale or duplicate point, and the current text for every task.
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
    stored: Iterable[tuple[str, str]],
    expected: dict[str, str],
    deleted: Iterable[str] = (),
    edited: Iterable[str] = (),
) -> dict[str, Any]:
    """Compare ``(task id, text)`` pairs read back from a store with the expected tasks.

    Args:
        stored: every point of the store, as (task id, stored text).
        expected: task id -> text of the current corpus state.
        deleted: ids removed from the corpus by this scenario (must be gone).
        edited: ids whose text this scenario changed (must carry the new text).

    Returns:
        counts and a ``correct`` flag.
    """
    pairs = list(stored)
    ids = Counter(i for i, _ in pairs)
    texts = dict(pairs)
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
        "deleted_left": deleted_left,
        "edited_ok": f"{edited_ok}/{edited_n}",
        "correct": len(pairs) == len(expected) and not (missing or extra or wrong or deleted_left),
    }


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
