"""Helpers shared by the bench scripts: corpus location, timing, markdown tables."""

from __future__ import annotations

import os
import platform
import resource
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

REPO = Path(__file__).resolve().parent.parent
CORPUS = REPO.parent / "shared" / "corpus" / "plans"
T = TypeVar("T")


def corpus_or_exit() -> Path:
    """The shared corpus, or exit 0 with a message when it is absent (benchmarks skip)."""
    if not CORPUS.is_dir():
        print(f"skipped: {CORPUS} not found")
        raise SystemExit(0)
    return CORPUS


@contextmanager
def timer() -> Iterator[list[float]]:
    """``with timer() as t: ...`` then ``t[0]`` is the elapsed seconds."""
    box = [0.0]
    start = time.perf_counter()
    try:
        yield box
    finally:
        box[0] = time.perf_counter() - start


def timed(fn: Callable[[], T]) -> tuple[T, float]:
    start = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - start


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    k = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[k]


def machine() -> str:
    python = f"{platform.python_implementation()} {platform.python_version()}"
    return f"{python}, {os.cpu_count()} cores, {platform.machine()}"


def replace_section(doc: Path, title: str, body: str) -> None:
    """Replace (or append) the ``## title`` section of ``doc`` with ``body``."""
    text = doc.read_text(encoding="utf-8") if doc.exists() else "# Benchmarks\n"
    head = f"## {title}\n"
    start = text.find(head)
    block = head + "\n" + body.strip() + "\n\n"
    if start < 0:
        text = text.rstrip() + "\n\n" + block
    else:
        end = text.find("\n## ", start + len(head))
        text = text[:start] + block + (text[end + 1 :] if end >= 0 else "")
    doc.write_text(text, encoding="utf-8")
