"""The comparison harness end to end on a tiny corpus, with the hashing embedder (no model).

``bench/run.py``'s figures are only worth something if every scenario's state holds what it
claims, the check catches a wrong status or a wrong vector, repeated runs keep their spread,
and the generated docs section can be re-rendered without touching the hand-written one.
No timing is asserted here.
"""

from __future__ import annotations

import contextlib
import copy
import io
import json
import sys
from pathlib import Path
from typing import Any

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"
sys.path[:0] = [str(BENCH), str(BENCH / "peers")]

from verify import load_state, verify  # noqa: E402

import compare  # noqa: E402
import contenders  # noqa: E402
import report  # noqa: E402
from _common import GENERATED_END, replace_section  # noqa: E402
from datasets import choose_files, make_dataset  # noqa: E402
from legacy import legacy_lines, legacy_text_at  # noqa: E402
from vectors import Reference  # noqa: E402


def _corpus(root: Path) -> Path:
    (root / "sub").mkdir(parents=True)
    box = {0: "x", 1: " ", 2: " "}
    body = "\n".join(f"- [{box[i % 3]}] **{i}.1** tâche numéro {i} à faire" for i in range(1, 121))
    (root / "a.md").write_text("# A\n\n## Phase\n\n" + body + "\n", encoding="utf-8")
    more = "\n".join(f"- [ ] write the report part {i}" for i in range(1, 81))
    (root / "sub" / "b.md").write_text("# B\n\n" + more + "\n", encoding="utf-8")
    return root


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    tmp = tmp_path_factory.mktemp("harness")
    src = _corpus(tmp / "src")
    return make_dataset(choose_files(src, None), src, tmp / "data", seed=1, vector_sample=10)


@pytest.fixture(scope="module")
def planvec_out(data: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> Any:
    """planvec (hashing embedder) through the five scenarios, once for the module."""
    work = tmp_path_factory.mktemp("c0")
    job = {"name": "planvec (hashing)", "work": str(work), "config": "hashing"}
    stdout = io.StringIO()
    with contextlib.redirect_stdout(stdout):
        contenders.run_planvec({**job, "scenarios": data["scenarios"]})
    return json.loads([ln for ln in stdout.getvalue().splitlines() if ln.startswith("{")][-1])


def test_flip_scenario_changes_statuses_only(data: dict[str, Any]) -> None:
    delete, flip = data["scenarios"][3:]
    before = {t["id"]: t for t in load_state(Path(delete["state"]))}
    after = {t["id"]: t for t in load_state(Path(flip["state"]))}
    assert before.keys() == after.keys()
    changed = {i for i in after if after[i]["status"] != before[i]["status"]}
    assert changed == set(flip["flipped"]) and len(changed) == data["flipped_lines"] == 2
    assert all(after[i]["text"] == before[i]["text"] for i in after)
    assert set(flip["flipped"]) <= set(flip["vector_sample"])
    assert data["largest_plan"] == 120


def test_verify_catches_a_stale_status() -> None:
    expected = {"a": "one", "b": "two"}
    stored = [("a", "one", "todo"), ("b", "two", "todo")]
    assert verify(stored, expected, statuses={"a": "todo", "b": "todo"})["correct"]
    out = verify(stored, expected, statuses={"a": "todo", "b": "done"})
    assert not out["correct"] and out["wrong_status"] == 1


def test_planvec_rows_are_correct_on_ids_status_and_vectors(
    data: dict[str, Any], planvec_out: dict[str, Any]
) -> None:
    out = copy.deepcopy(planvec_out)
    spec = compare.Spec("planvec (hashing)", [], job={"config": "hashing"}, recipe="planvec")
    compare.check_rows(out, spec, data, Reference("hashing"))
    assert [r["scenario"] for r in out["rows"]] == ["full", "noop", "edit", "delete", "flip"]
    for row in out["rows"]:
        assert row["correct"], row
        assert row["vectors"]["checked"] >= 10 and row["vectors"]["min_cos"] > 0.9999
    assert out["rows"][1]["embedded"] == 0  # no-op
    assert out["rows"][4]["embedded"] == 0  # a status flip re-embeds nothing


def test_vector_check_catches_vectors_of_the_wrong_text(
    data: dict[str, Any], planvec_out: dict[str, Any], tmp_path: Path
) -> None:
    row = copy.deepcopy(planvec_out["rows"][2])  # edit: the edited tasks are in the sample
    vectors = json.loads(Path(row["vectors_file"]).read_text(encoding="utf-8"))
    path = tmp_path / "swapped.json"
    row["vectors_file"] = str(path)
    ids = sorted(vectors)
    vectors[ids[0]], vectors[ids[1]] = vectors[ids[1]], vectors[ids[0]]
    path.write_text(json.dumps(vectors), encoding="utf-8")
    spec = compare.Spec("planvec (hashing)", [], job={"config": "hashing"}, recipe="planvec")
    compare.check_rows({"rows": [row]}, spec, data, Reference("hashing"))
    assert row["correct_records"] and not row["correct"]
    assert row["vectors"]["below"] == 2


def test_merge_runs_keeps_every_run_and_the_median() -> None:
    def out(seconds: float, correct: bool = True) -> dict[str, Any]:
        return {"rows": [{"scenario": "full", "seconds": seconds, "correct": correct}]}

    merged = compare.merge_runs([out(3.0), out(1.0), out(2.0, correct=False)])
    row = merged["rows"][0]
    assert row["runs"] == [3.0, 1.0, 2.0] and row["seconds"] == 2.0
    assert not row["correct"] and merged["repeats"] == 3


def test_legacy_text_is_what_its_regex_captures(tmp_path: Path) -> None:
    root = _corpus(tmp_path / "src")
    lines = list(legacy_lines(root))
    assert len(lines) == 200
    plan, n, text, status = lines[2]
    assert legacy_text_at(root, plan, n) == text and status == "completed"


def test_report_regenerates_only_its_section(tmp_path: Path) -> None:
    doc = tmp_path / "benchmarks.md"
    reading = "## Peers and load: reading\n\nWritten by hand.\n"
    doc.write_text("# Benchmarks\n\n## Peers and load\n\nold\n\n" + reading, encoding="utf-8")
    for body in ("first", "second"):
        replace_section(doc, report.TITLE, body, source="a test")
    text = doc.read_text(encoding="utf-8")
    assert "second" in text and "first" not in text and "old" not in text
    assert text.count(GENERATED_END) == 1 and text.endswith(reading)
