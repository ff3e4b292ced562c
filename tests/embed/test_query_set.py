"""The search query set (bench/queries/dev.jsonl) stays consistent with the real corpus."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"
QUERIES = BENCH / "queries" / "dev.jsonl"


def _load(name: str, path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def test_query_set_shape() -> None:
    rows = [json.loads(line) for line in QUERIES.read_text(encoding="utf-8").splitlines()]
    assert len(rows) >= 100
    assert len({r["id"] for r in rows}) == len(rows)
    assert len({r["target"]["plan"] for r in rows}) >= 30
    kinds = {r["kind"] for r in rows}
    assert kinds == {"paraphrase_fr", "translation_en", "question_en", "question_fr", "keywords"}
    assert {r["split"] for r in rows} == {"dev", "test"}
    assert all(r["lang"] in ("fr", "en") and r["query"].strip() for r in rows)


def test_targets_are_tasks_and_equivalents_are_complete(corpus_dir: Path) -> None:
    """Rerunning build_equivalents.py would change nothing: every target is a task line and
    every exact copy of it is listed."""
    module = _load("build_equivalents", BENCH / "queries" / "build_equivalents.py")
    assert (
        module.main(["--corpus", str(corpus_dir.parent), "--queries", str(QUERIES), "--check"]) == 0
    )


def test_bench_extractor_matches_the_goldens(corpus_dir: Path) -> None:
    module = _load("build_equivalents", BENCH / "queries" / "build_equivalents.py")
    assert module.check_golden(corpus_dir.parent) == 0


@pytest.mark.slow
def test_analyzer_beats_naive_tokens_on_the_dev_split(corpus_dir: Path) -> None:
    """BM25 with the French/English analyzer finds more targets than lowercase words."""
    ev = _load("eval_search", BENCH / "eval_search.py")
    tasks, _ = ev.load_tasks(corpus_dir)
    queries = ev.load_queries(QUERIES, "dev")
    scores = {}
    for name in ("naive", "both"):
        search = ev.bm25_python_search(tasks, ev.make_encoder(name))
        scores[name] = ev.metrics(ev.evaluate(queries, search))
    assert scores["both"]["recall@10"] > scores["naive"]["recall@10"]
    assert scores["both"]["mrr@10"] > scores["naive"]["mrr@10"]


HELDOUT = BENCH / "queries" / "heldout.jsonl"


def test_heldout_set_shape_and_no_dev_target() -> None:
    """The held-out set (issue 20 item 9): same fields and groups, no target shared with dev."""
    rows = [json.loads(line) for line in HELDOUT.read_text(encoding="utf-8").splitlines()]
    dev = [json.loads(line) for line in QUERIES.read_text(encoding="utf-8").splitlines()]
    assert len(rows) >= 100 and len({r["id"] for r in rows}) == len(rows)
    assert {r["kind"] for r in rows} == {
        "paraphrase_fr", "translation_en", "question_en", "question_fr", "keywords"
    }  # fmt: skip
    assert {r["split"] for r in rows} == {"heldout"}
    assert len({r["target"]["plan"] for r in rows}) >= 30
    dev_targets = {(r["target"]["plan"], r["target"]["line"]) for r in dev}
    dev_targets |= {(e["plan"], e["line"]) for r in dev for e in r["equivalents"]}
    assert not {(r["target"]["plan"], r["target"]["line"]) for r in rows} & dev_targets
    assert not {r["query"] for r in rows} & {r["query"] for r in dev}


def test_heldout_targets_are_tasks_and_equivalents_are_complete(corpus_dir: Path) -> None:
    module = _load("build_equivalents", BENCH / "queries" / "build_equivalents.py")
    args = ["--corpus", str(corpus_dir.parent), "--queries", str(HELDOUT), "--check"]
    assert module.main(args) == 0
