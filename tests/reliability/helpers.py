"""Small helpers of the reliability suite: plan slices, indexes on real stores, snapshots."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from planvec.embed.hashing import HashingEmbedder
from planvec.embedding_recipe import VOLATILE_FIELDS
from planvec.index import Index
from planvec.store.base import VectorStore
from planvec.text.lexical import LexicalEncoder

from .conftest import CORPUS, REPO


def plan_slice(dest: Path, files: int, min_size: int = 20_000) -> Path:
    """Copy ``files`` real plans (bundled examples when the corpus is absent) under ``dest``."""
    if CORPUS.is_dir():
        base = CORPUS
        chosen = sorted(p for p in CORPUS.rglob("*.md") if p.stat().st_size > min_size)[:files]
    else:
        base = REPO / "examples" / "plans"
        chosen = sorted(base.rglob("*.md"))[:files]
    for path in chosen:
        target = dest / path.relative_to(base)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, target)
    return dest


def make_index(store: VectorStore, collection: str = "planvec_tasks") -> Index:
    return Index(store, HashingEmbedder(), collection=collection, lexical=LexicalEncoder())


def snapshot(store: VectorStore, collection: str = "planvec_tasks") -> dict[str, Any]:
    """Every point: payload without volatile fields, rounded vector, sparse vector."""
    out: dict[str, Any] = {}
    for p in store.scroll(collection, with_vectors=True):
        payload = {k: v for k, v in p.payload.items() if k not in VOLATILE_FIELDS}
        sparse = None
        if p.sparse is not None:
            sparse = (tuple(p.sparse.indices), tuple(round(v, 4) for v in p.sparse.values))
        out[str(p.id)] = (payload, [round(x, 5) for x in p.vector or []], sparse)
    return out


def diff_counts(expected: dict[str, Any], got: dict[str, Any]) -> tuple[int, int, int]:
    """(lost, orphaned, differing) points of ``got`` against ``expected``."""
    lost = len(expected.keys() - got.keys())
    orphaned = len(got.keys() - expected.keys())
    differing = sum(1 for k in expected.keys() & got.keys() if got[k] != expected[k])
    return lost, orphaned, differing


def versions(tmp: Path, files: int) -> tuple[Path, Path]:
    """Versions A and B of a corpus slice of up to ``files`` plans (see ``_make_versions``:
    B flips statuses, edits and deletes tasks, drops one plan and adds another)."""
    from .test_crash_kill import _make_versions

    a, b = _make_versions(tmp)
    keep = sorted(p.relative_to(a) for p in a.rglob("*.md"))[:files]
    for root in (a, b):
        for path in sorted(root.rglob("*.md")):
            rel = path.relative_to(root)
            if rel not in keep and rel.name != "added.md":
                path.unlink()
    return a, b
