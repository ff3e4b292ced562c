"""Recorded task states (planvec.task_states): a re-run diffs a changed file against the
sidecar instead of reading its points back, and ends exactly where a store-read diff ends.

Two indexes on Qdrant Edge (on disk) with the hashing embedder and the real lexical encoder
sync copies of the same plan tree through the same edits: one with the sidecar, one without.
After every run their reports and every stored point (payload without ``last_updated``,
dense and sparse vectors) must be equal; the sidecar side must have diffed the edited file
from the sidecar (no store read of its points). Then the sidecar is damaged, truncated and
made unwritable: the runs fall back to the store and stay equal.
"""

from __future__ import annotations

import dataclasses
import shutil
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import planvec.sync
from planvec.embed.hashing import HashingEmbedder
from planvec.index import Index
from planvec.store import open_store
from planvec.sync import Syncer
from planvec.task_states import STATE_FIELDS, TaskStates, pack, task_signature, unpack
from planvec.text.lexical import default_lexical_encoder

PLAN = """\
# Plan v1

## Phase 1 : Fondations

- [ ] **1.1** Mettre en place la sauvegarde #infra
  - [x] **1.1.1** Écrire le script de dump (2h)
  - [ ] **1.1.2** Planifier la rotation des sauvegardes
- [ ] **1.2** Configurer l'intégration continue P1
- [ ] Relire les politiques de sécurité

## Phase 2 : API

- [ ] **2.1** Écrire la documentation de l'API
- [ ] **2.2** Limiter le débit des points d'accès publics
- [ ] Relire les politiques de sécurité
"""

OTHER = "# Notes\n\n- [ ] Archiver les anciens tableaux de bord\n- [x] Revoir le budget\n"


def edits() -> list[tuple[str, Any]]:
    """(what, edit of the plan text) applied one after the other."""
    return [
        ("text", lambda s: s.replace("rotation des sauvegardes", "rotation quotidienne")),
        ("status", lambda s: s.replace("- [ ] **2.1**", "- [x] **2.1**")),
        ("shift", lambda s: s.replace("## Phase 1", "Intro.\n\n## Phase 1")),
        ("add", lambda s: s + "- [ ] **2.3** Ajouter des journaux d'audit\n"),
        ("delete", lambda s: s.replace("- [ ] **1.2** Configurer l'intégration continue P1\n", "")),
        ("duplicate", lambda s: s + "- [ ] **2.2** Une autre tâche au même numéro\n"),
        ("section", lambda s: s.replace("## Phase 2 : API", "## Phase 2 : Services")),
        ("metadata", lambda s: s.replace("#infra", "#infra #ops")),
        ("nothing", lambda s: s),
    ]


class Side:
    """One index over its own copy of the plans; ``states`` is the sidecar or ``None``."""

    def __init__(self, base: Path, name: str, with_states: bool) -> None:
        self.root = base / name / "plans"
        self.root.mkdir(parents=True)
        (self.root / "plan.md").write_text(PLAN, encoding="utf-8")
        (self.root / "notes.md").write_text(OTHER, encoding="utf-8")
        self.dir = base / name / "index"
        self.states = TaskStates(self.dir / ".tasks.sqlite") if with_states else None
        self.store = open_store(index_dir=self.dir)
        self.index = Index(
            self.store,
            HashingEmbedder(),
            lexical=default_lexical_encoder(),
            task_states=self.states,
        )

    def edit(self, change: Any) -> None:
        path = self.root / "plan.md"
        path.write_text(change(path.read_text(encoding="utf-8")), encoding="utf-8")

    def sync(self, **kw: Any) -> dict[str, Any]:
        report = self.index.sync(self.index.source([self.root]), **kw).to_dict()
        report.pop("seconds")
        return report

    def points(self) -> dict[str, Any]:
        out = {}
        for p in self.index.points.scroll(with_payload=True, with_vectors=True):
            payload = {k: v for k, v in p.payload.items() if k != "last_updated"}
            vector = [round(x, 6) for x in p.vector] if p.vector is not None else None
            out[str(p.id)] = (payload, vector, p.sparse)
        return out


@pytest.fixture
def store_reads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The plans whose points a diff read back from the store."""
    seen: list[str] = []
    real = Syncer._stored_state

    def reading(self: Syncer, plan: str) -> Any:
        seen.append(plan)
        return real(self, plan)

    monkeypatch.setattr(Syncer, "_stored_state", reading)
    return seen


@pytest.fixture
def sides(tmp_path: Path) -> Iterator[tuple[Side, Side]]:
    fast, slow = Side(tmp_path, "fast", True), Side(tmp_path, "slow", False)
    yield fast, slow
    fast.index.close()
    slow.index.close()


def test_the_state_fields_are_those_the_sync_compares() -> None:
    assert STATE_FIELDS == planvec.sync._STATE_FIELDS + planvec.sync._POSITION_FIELDS


def test_edits_diffed_from_the_sidecar_end_like_a_store_diff(
    sides: tuple[Side, Side], store_reads: list[str]
) -> None:
    fast, slow = sides
    assert fast.sync() == slow.sync()
    assert fast.points() == slow.points()
    for what, change in edits():
        fast.edit(change)
        slow.edit(change)
        store_reads.clear()
        fast_report = fast.sync()
        assert store_reads == [], what  # the edited plan was diffed from the sidecar
        assert fast_report == slow.sync(), what
        # the side without a sidecar reads the store (an unchanged file is not diffed)
        assert store_reads == ([] if what == "nothing" else ["plan.md"]), what
        assert fast.points() == slow.points(), what


def test_a_damaged_truncated_or_unwritable_sidecar_falls_back_to_the_store(
    sides: tuple[Side, Side], store_reads: list[str]
) -> None:
    fast, slow = sides
    fast.sync()
    slow.sync()
    assert fast.states is not None
    db = sqlite3.connect(fast.states.path)
    (data,) = db.execute("SELECT data FROM plan_states WHERE plan = 'plan.md'").fetchone()
    rows = unpack(data)
    short = pack(rows[:-1])
    db.execute("UPDATE plan_states SET data = ? WHERE plan = 'plan.md'", (short,))
    db.commit()
    for what, change in edits()[:3]:
        fast.edit(change)
        slow.edit(change)
        store_reads.clear()
        fast_report = fast.sync()
        assert store_reads == ["plan.md"], what  # one row short, then garbage: not used
        assert fast_report == slow.sync(), what
        assert fast.points() == slow.points(), what
        db.execute("UPDATE plan_states SET data = ? WHERE plan = 'plan.md'", (b"garbage",))
        db.commit()
    db.close()
    fast.index.close()
    fast.states.path.unlink()
    fast.states.path.mkdir()  # a directory where the file should be: cannot be opened
    fast.states = TaskStates(fast.states.path)
    fast.store = open_store(index_dir=fast.dir)
    fast.index = Index(
        fast.store, HashingEmbedder(), lexical=default_lexical_encoder(), task_states=fast.states
    )
    for what, change in edits()[3:6]:
        fast.edit(change)
        slow.edit(change)
        assert fast.sync() == slow.sync(), what
        assert fast.points() == slow.points(), what


def test_points_written_by_another_writer_are_never_diffed_from_the_sidecar(
    sides: tuple[Side, Side], store_reads: list[str]
) -> None:
    fast, slow = sides
    fast.sync()
    slow.sync()
    for side in sides:  # repair-like writers forget the fingerprints (Index.points)
        victim = next(iter(side.index.points.scroll(with_payload=("plan",))))
        side.index.points.delete([str(victim.id)])
    for side in sides:
        side.edit(edits()[0][1])
    store_reads.clear()
    fast_report = fast.sync()
    assert sorted(store_reads) == ["notes.md", "plan.md"]  # no trusted fingerprint: the store
    assert fast_report == slow.sync()
    assert fast.points() == slow.points()
    assert len(fast.points()) == 10  # the deleted point is back


def test_dry_runs_write_no_sidecar_and_a_vanished_plan_leaves_it(
    sides: tuple[Side, Side],
) -> None:
    fast, _ = sides
    assert fast.states is not None
    fast.sync(dry_run=True)
    assert not fast.states.path.exists()
    fast.sync()
    with sqlite3.connect(fast.states.path) as db:
        assert {p for (p,) in db.execute("SELECT plan FROM plan_states")} == {
            "plan.md",
            "notes.md",
        }
    (fast.root / "notes.md").unlink()
    fast.sync()
    with sqlite3.connect(fast.states.path) as db:
        assert [p for (p,) in db.execute("SELECT plan FROM plan_states")] == ["plan.md"]


def test_signatures_tell_every_field_and_type_apart() -> None:
    from planvec.sources.markdown_plans import parse_plan

    task = parse_plan(PLAN, "plan.md").tasks[0]
    same = dataclasses.replace(task)
    assert task_signature(same) == task_signature(task)
    changes = {
        "line": task.line + 1,
        "checked": not task.checked,
        "status": "done",
        "text": task.text + "!",
        "depth": 3,
        "parent_line": 2,
        "section": (*task.section, "x"),
        "key": "9.9",
        "id": "other",
        "parent_id": "p",
        "content_hash": "0" * 64,
        "metadata": {**task.metadata, "mvp": 1},
        "plan": "other.md",
    }
    for name, value in changes.items():
        assert task_signature(dataclasses.replace(task, **{name: value})) != task_signature(task), (
            name
        )
    flagged = dataclasses.replace(task, metadata={"mvp": True})
    assert task_signature(flagged) != task_signature(dataclasses.replace(task, metadata={"mvp": 1}))


def test_entries_are_found_by_key_plan_bytes_and_point_count(tmp_path: Path) -> None:
    """Entries are a pure function of (key, plan, bytes): another key or hash finds none."""
    states = TaskStates(tmp_path / "s.sqlite")
    rows = [("id1", b"s" * 16, ("e", "p", "l", 3, None))]
    states.put("k", "plan.md", "sha", rows)
    states.commit()
    states.close()
    copy = tmp_path / "copy.sqlite"
    shutil.copy(states.path, copy)
    other = TaskStates(copy)
    assert other.get("k", "plan.md", "sha", 1) == {"id1": (b"s" * 16, ("e", "p", "l", 3, None))}
    assert other.get("k", "plan.md", "sha", 2) is None  # not the recorded point count
    assert other.get("k2", "plan.md", "sha", 1) is None
    assert other.get("k", "plan.md", "sha2", 1) is None
    assert other.get("k", "other.md", "sha", 1) is None
    other.close()


def test_recorded_states_that_disagree_with_the_store_are_not_used(
    sides: tuple[Side, Side], store_reads: list[str], caplog: pytest.LogCaptureFixture
) -> None:
    """A sidecar with the right shape and count but other states (a bug, a hand edit) is
    caught by the spot check of a few points, and the plan is diffed from the store."""
    fast, slow = sides
    fast.sync()
    slow.sync()
    assert fast.states is not None
    with sqlite3.connect(fast.states.path) as db:
        (data,) = db.execute("SELECT data FROM plan_states WHERE plan = 'plan.md'").fetchone()
        rows = unpack(data)
        wrong = [(i, sig, (e, "0" * 64, *rest)) for i, sig, (e, _, *rest) in rows]
        db.execute("UPDATE plan_states SET data = ? WHERE plan = 'plan.md'", (pack(wrong),))
    for side in sides:
        side.edit(edits()[1][1])
    store_reads.clear()
    assert fast.sync() == slow.sync()
    assert store_reads[0] == "plan.md"
    assert "disagree with the store" in caplog.text
    assert fast.points() == slow.points()


def test_an_entry_with_one_byte_changed_is_refused_not_misread() -> None:
    """Rows are not compressed (mostly hashes), so nothing else would notice a flipped
    byte inside a hash: the CRC in front of each entry does."""
    rows = [("id-1", b"\x01" * 16, ("e" * 64, "p" * 64, "l" * 64, 3, None))]
    data = pack(rows)
    assert unpack(data) == rows
    for at in (0, 5, len(data) // 2, len(data) - 1):
        damaged = bytearray(data)
        damaged[at] ^= 0x20
        with pytest.raises(ValueError):
            unpack(bytes(damaged))
    with pytest.raises(ValueError):
        unpack(data[:3])
