"""The benchmark's own tools: the synthetic generator, the data-set states, the checker.

The numbers in docs/benchmarks.md are only worth something if the synthetic plans have the
corpus' shape, the edit/delete states hold what they claim, and the correctness check
catches every way a store can be wrong; these tests pin that down.
"""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path

import pytest

from planvec.sources.files import parse_paths

BENCH = Path(__file__).resolve().parents[2] / "bench"
sys.path[:0] = [str(BENCH), str(BENCH / "peers")]

from verify import load_state, verify  # noqa: E402

import run  # noqa: E402
import synth  # noqa: E402

_LEARNED: dict[Path, synth.Shape] = {}


@pytest.fixture
def shape(corpus_dir: Path) -> synth.Shape:
    """Learned once per session (parsing the corpus takes seconds)."""
    if corpus_dir not in _LEARNED:
        _LEARNED[corpus_dir] = synth.learn(corpus_dir)
    return _LEARNED[corpus_dir]


def _tasks(root: Path) -> list:
    plans, failures = parse_paths([root])
    assert not failures
    return [t for p in plans for t in p.tasks]


def test_synth_is_deterministic_by_seed(shape: synth.Shape, tmp_path: Path) -> None:
    for name, seed in (("a", 7), ("b", 7), ("c", 8)):
        synth.generate(shape, 1_500, tmp_path / name, seed=seed)

    def files(d: Path) -> dict[str, bytes]:
        return {p.relative_to(d).as_posix(): p.read_bytes() for p in sorted(d.rglob("*.md"))}

    assert files(tmp_path / "a") == files(tmp_path / "b")
    assert files(tmp_path / "a") != files(tmp_path / "c")


def test_synth_has_the_corpus_shape(shape: synth.Shape, corpus_dir: Path, tmp_path: Path) -> None:
    synth.generate(shape, 5_000, tmp_path / "s", seed=3)
    fake, real = _tasks(tmp_path / "s"), _tasks(corpus_dir)
    assert len(fake) == 5_000  # every written checkbox parses as exactly one task

    def share(tasks: list, pred: object) -> float:
        return sum(1 for t in tasks if pred(t)) / len(tasks)  # type: ignore[operator]

    assert share(fake, lambda t: t.checked) == pytest.approx(
        share(real, lambda t: t.checked), abs=0.04
    )
    for depth in (0, 1, 2):
        assert share(fake, lambda t, d=depth: t.depth == d) == pytest.approx(
            share(real, lambda t, d=depth: t.depth == d), abs=0.08
        )
    mean_len = sum(len(t.text) for t in fake) / len(fake)
    real_len = sum(len(t.text) for t in real) / len(real)
    assert abs(mean_len - real_len) / real_len < 0.2
    assert all(t.section for t in fake)
    # Perturbed texts: mostly distinct, so an embedding cache cannot skip the work.
    assert len({t.text for t in fake}) / len(fake) > 0.9


def test_dataset_states_hold_the_edits_and_deletions(tmp_path: Path) -> None:
    src = tmp_path / "src"
    (src / "sub").mkdir(parents=True)
    body = "\n".join(f"- [ ] **{i}.1** tâche numéro {i} à faire" for i in range(1, 151))
    (src / "a.md").write_text("# A\n\n## Phase\n\n" + body + "\n", encoding="utf-8")
    (src / "sub" / "b.md").write_text(
        "# B\n\n```\n- [ ] not a task\n```\n- [x] **9.9** fait\n", encoding="utf-8"
    )
    files = run.choose_files(src, None)
    data = run.make_dataset(files, src, tmp_path / "data", seed=1)
    full, noop, edit, delete, _flip = data["scenarios"]
    assert data["tasks"] == 151
    assert (full["state"], noop["state"]) == (full["state"], full["state"])
    s0, s1, s2 = (load_state(Path(s["state"])) for s in (full, edit, delete))
    text0 = {t["id"]: t["text"] for t in s0}
    changed = [t for t in s1 if t["text"] not in text0.values()]
    assert len(changed) == data["edited_lines"] == 2
    assert all(t["text"].endswith("(modifié)") for t in changed)
    assert set(edit["edited"]) == {t["id"] for t in changed if t["id"] in text0}
    assert len(s2) == len(s1) - data["deleted_lines"] == 149
    assert set(delete["deleted"]) == {t["id"] for t in s1} - {t["id"] for t in s2}


def test_verify_catches_every_kind_of_wrong_store() -> None:
    expected = {"a": "one", "b": "two (modifié)", "c": "three"}
    good = [("a", "one"), ("b", "two (modifié)"), ("c", "three")]
    assert verify(good, expected, deleted=["d"], edited=["b"])["correct"]
    cases = {
        "extra": [*good, ("d", "gone")],
        "missing": good[:2],
        "wrong_text": [("a", "one"), ("b", "two"), ("c", "three")],
    }
    for field, stored in cases.items():
        out = verify(stored, expected, deleted=["d"], edited=["b"])
        assert not out["correct"] and out[field] == 1, field
    dup = verify([*good, ("a", "one")], expected)
    assert not dup["correct"] and dup["extra"] == 1 and dup["points"] == 4
    left = verify([*good, ("d", "gone")], expected, deleted=["d"])
    assert left["deleted_left"] == 1
    assert Counter(verify(good, expected, edited=["b"])["edited_ok"]) == Counter("1/1")
