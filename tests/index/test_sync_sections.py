"""A task's section changing is an ordinary edit for sync (docs/ids.md).

Parser fixes can move tasks to another section without the file changing: since headings
inside list items count (``- ### Arrays``), the tasks under them get a longer section path.
For sync that is the same diff as a user adding the heading: numbered tasks keep their id and
are updated for their new section; unnumbered ones without a numbered ancestor get a new id
(added, and the old point deleted); the result equals a clean run.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from planvec.embed.hashing import HashingEmbedder
from planvec.embedding_recipe import VOLATILE_FIELDS
from planvec.index import Index, sources_for
from planvec.store import open_store
from planvec.text.lexical import LexicalEncoder

IndexFactory = Callable[..., Index]

# What the old parser saw ("- Arrays" as a plain item) and what the new one sees.
BEFORE = "# Study plan\n\n## Data Structures\n\n- Arrays\n    - [ ] About arrays\n"
AFTER = BEFORE.replace("- Arrays", "- ### Arrays")
TASKS = "    - [ ] **1.1** Implement a vector\n        - [ ] Use pointer math\n"


def sync(index: Index, root: Path) -> dict[str, Any]:
    return index.sync(sources_for([root])).to_dict()


def snapshot(index: Index) -> dict[str, dict[str, Any]]:
    """Every point's payload, without the fields that record when it was written."""
    return {
        str(p.id): {k: v for k, v in p.payload.items() if k not in VOLATILE_FIELDS}
        for p in index.points.scroll()
    }


def clean_state(root: Path, tmp_path: Path) -> dict[str, dict[str, Any]]:
    store = open_store(index_dir=tmp_path / "clean-index")
    try:
        index = Index(store, HashingEmbedder(), lexical=LexicalEncoder())
        sync(index, root)
        return snapshot(index)
    finally:
        store.close()


def test_a_section_change_is_a_normal_edit(make_index: IndexFactory, tmp_path: Path) -> None:
    root = tmp_path / "plans"
    root.mkdir()
    plan = root / "study.md"
    plan.write_text(BEFORE + TASKS, encoding="utf-8")
    index = make_index()
    assert sync(index, root)["added"] == 3
    before = snapshot(index)
    plan.write_text(AFTER + TASKS, encoding="utf-8")
    report = sync(index, root)
    # "About arrays" is unnumbered with no numbered ancestor: its id follows its section.
    # "1.1" keeps its id, and "Use pointer math" (anchored to 1.1) too; both get the new section.
    assert (report["added"], report["deleted"], report["updated"]) == (1, 1, 2)
    after = snapshot(index)
    kept = before.keys() & after.keys()
    assert len(kept) == 2
    assert all(after[k]["section"] == ["Study plan", "Data Structures", "Arrays"] for k in after)
    assert snapshot(index) == clean_state(root, tmp_path)
    assert sync(index, root)["unchanged"] == 3
