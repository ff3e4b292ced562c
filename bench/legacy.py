"""The legacy loop: the one definition every benchmark uses (``contenders.py``, ``index.py``).

What the legacy scripts did (docs/backup.md, "What the legacy scripts wrote"), with a real
model instead of their random vectors so that the comparison is about the pipeline:

* read each plan file line by line and match one regex per line (checkbox lines anywhere,
  code blocks included; no CommonMark parsing, no continuation lines);
* encode **one text per call** (sentence-transformers, torch fp32, as a script would);
* upsert **one point per call** into qdrant-client local mode, with a random id;
* no change detection: every run drops and rebuilds the collection (the charitable reading:
  the scripts' other behaviour, appending new ids on every run, duplicates every task).

Its payload keeps what the scripts kept that the correctness check needs: plan, line,
description (the matched text, also what was embedded) and status (completed / pending).
"""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

#: One regex per line, as the scripts did (without their "number first" restriction, so that
#: the loop indexes the same tasks as everyone else).
LEGACY_TASK = re.compile(r"^\s*[-*+]\s+\[([ xX])\]\s+(.*)$")
COLLECTION = "roadmap_tasks"


def legacy_lines(root: Path) -> Iterator[tuple[str, int, str, str]]:
    """Every (plan, line number, text, status) the legacy regex matches under ``root``."""
    for f in sorted(root.rglob("*.md")):
        plan = f.relative_to(root).as_posix()
        for n, line in enumerate(f.read_text(encoding="utf-8").splitlines(), 1):
            m = LEGACY_TASK.match(line)
            if m:
                yield plan, n, m.group(2), "completed" if m.group(1) in "xX" else "pending"


def legacy_text_at(root: Path, plan: str, line: int) -> str | None:
    """The text the legacy loop embeds for ``plan``:``line`` (its vector reference)."""
    lines = (root / plan).read_text(encoding="utf-8").splitlines()
    m = LEGACY_TASK.match(lines[line - 1]) if 0 < line <= len(lines) else None
    return m.group(2) if m else None


def run_legacy_loop(
    root: Path,
    encode_one: Callable[[str], list[float]],
    client: Any,
    dimension: int,
    limit: int | None = None,
    on_point: Callable[[int, float], None] | None = None,
) -> int:
    """Rebuild the ``roadmap_tasks`` collection of ``client`` from ``root``, the legacy way.

    Args:
        root: the plan directory.
        encode_one: one text -> its unit vector (called once per task).
        client: a ``qdrant_client.QdrantClient`` (local mode in the benchmarks).
        dimension: vector size.
        limit: stop after this many tasks (``bench/index.py``'s rate measurement).
        on_point: called with (points written, seconds since start) after every point.

    Returns:
        The number of points written.
    """
    from qdrant_client import models

    start = time.perf_counter()
    if client.collection_exists(COLLECTION):
        client.delete_collection(COLLECTION)
    client.create_collection(
        COLLECTION,
        vectors_config=models.VectorParams(size=dimension, distance=models.Distance.COSINE),
    )
    done = 0
    for plan, n, text, status in legacy_lines(root):
        client.upsert(
            COLLECTION,
            points=[
                models.PointStruct(
                    id=str(uuid.uuid4()),
                    vector=encode_one(text),
                    payload={"plan": plan, "line": n, "description": text, "status": status},
                )
            ],
        )
        done += 1
        if on_point is not None:
            on_point(done, time.perf_counter() - start)
        if limit is not None and done >= limit:
            break
    return done
