"""bench/speed.py's own tools: the 1 %-edit, the summary with spread, the generated section.

The docs section is generated from the results record only (no figure is written by hand):
these tests feed a record and check that its figures, and only its, reach the page.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"
sys.path[:0] = [str(BENCH)]

import speed  # noqa: E402


def run(full: float, noop: float, edit: float, raw_rate: float) -> dict:
    return {
        "raw": {"tasks_per_s": raw_rate},
        "full": {"seconds": full, "cpu_seconds": full / 2, "tasks_per_s": 1000 / full},
        "full_vs_raw": (1000 / full) / raw_rate,
        "full_cpu_vs_raw": (1000 / raw_rate) / (full / 2),
        "noop": [
            {"seconds": noop, "cpu_seconds": noop / 2},
            {"seconds": noop + 1, "cpu_seconds": 1},
        ],
        "edit": {"seconds": edit, "cpu_seconds": edit / 2},
        "noop_vs_full": noop / full,
        "edit_vs_full": edit / full,
    }


def test_edit_one_percent_appends_to_task_lines_only(tmp_path: Path) -> None:
    lines = [f"- [ ] tâche {i}" for i in range(400)] + ["prose line"] * 50
    (tmp_path / "a.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    changed = speed.edit_one_percent(tmp_path, seed=1)
    text = (tmp_path / "a.md").read_text(encoding="utf-8").splitlines()
    edited = [line for line in text if "(révisé 1)" in line]
    assert len(edited) == changed and 0 < changed < 20
    assert all(line.startswith("- [ ]") for line in edited)


def test_summary_and_render_carry_the_record(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    runs = [run(50.0, 0.5, 2.0, 25.0), run(60.0, 0.7, 3.0, 20.0)]
    summary = speed.summarize(runs)
    assert summary["full_seconds"] == {"median": 55.0, "min": 50.0, "max": 60.0}
    assert summary["noop_vs_full"]["min"] == pytest.approx(0.01)
    record = {
        "args": "--runs 2",
        "date": "2026-12-01 23:00 UTC",
        "commit": "0123456789abcdef",
        "machine": "Some CPU, 2 cores",
        "load_start": 3.5,
        "load_end": 4.25,
        "results": {"runs": runs, "summary": summary},
    }
    body = speed.render(record)
    assert body.startswith(speed.BEGIN) and body.endswith(speed.END)
    assert "55.0 [50.0–60.0]" in body and "load average 3.5" in body and "0123456789" in body
    # raw CPU per task over full CPU per task: 40/25 = 1.6 and 50/30 = 1.667
    assert "| raw encoder CPU / full index CPU, per task | 163.3 % [160.0 %–166.7 %] |" in body
    memory = {"tasks": 10, "seconds": 1.0, "peak_rss_mb": 900, "load": 1.0}
    record["results"]["memory"] = {**memory, "peak_rss_anon_mb": 300, "peak_rss_file_mb": 650}
    assert "anonymous part (heap, not reclaimable) 300 MB" in speed.render(record)
    assert "650 MB; the target counts the whole peak RSS" in speed.render(record)
    record["results"]["memory"] = memory  # recorded before the split existed
    assert "peak RSS **900 MB**" in speed.render(record)
    assert "anonymous" not in speed.render(record)
    older = {**record, "results": {"runs": runs, "summary": {**summary, "full_cpu_vs_raw": None}}}
    assert "raw encoder CPU" not in speed.render(older)  # records from before the row
    doc = tmp_path / "benchmarks.md"
    doc.write_text("# Benchmarks\n\n## Other\n\nkept\n", encoding="utf-8")
    monkeypatch.setattr(speed, "DOC", doc)
    speed.write_section(body)
    speed.write_section(body.replace("55.0", "56.0"))  # replaced between the markers, once
    text = doc.read_text(encoding="utf-8")
    assert text.count(speed.BEGIN) == 1 and "56.0 [50.0–60.0]" in text and "kept" in text


def test_measured_processes_compile_their_bytecode_like_an_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A shell's PYTHONDONTWRITEBYTECODE would make every timed CLI run recompile planvec."""
    monkeypatch.setenv("PYTHONDONTWRITEBYTECODE", "1")
    monkeypatch.setenv("PLANVEC_EMBEDDER", "hashing")
    env = speed.env_for(tmp_path)
    assert "PYTHONDONTWRITEBYTECODE" not in env and "PLANVEC_EMBEDDER" not in env
    assert env["XDG_CACHE_HOME"] == str(tmp_path)
    assert (Path(speed.planvec_dir()) / "noop.py").is_file()


def test_render_reports_collapsed_and_uncollapsed_search() -> None:
    search = {
        "tasks": 100000,
        "sync_seconds": None,  # --reuse-search-index: no sync in this run
        "search_index": {"built_at": "2026-12-02T00:57:59+00:00"},
        "hybrid_store_p50_ms": 4.1,
        "hybrid_store_p95_ms": 6.2,
        "query_embed_p50_ms": 3.0,
        "query_embed_p95_ms": 3.5,
        "p95_sum_ms": 9.7,
        "load": 0.3,
    }
    record = {"args": "--skip index,memory", "date": "d", "commit": "c", "machine": "m"}
    record |= {"load_start": 0.2, "load_end": 0.3}
    older = speed.render({**record, "results": {"search": search}})
    assert "4.1 / 6.2 ms" in older and "**9.7 ms**" in older and "not collapsed" not in older
    search |= {
        "hybrid_store_cpu_p50_ms": 3.9,
        "hybrid_store_cpu_p95_ms": 5.8,
        "uncollapsed_p50_ms": 3.1,
        "uncollapsed_p95_ms": 4.4,
        "uncollapsed_cpu_p50_ms": 3.0,
        "uncollapsed_cpu_p95_ms": 4.2,
    }
    body = speed.render({**record, "results": {"search": search}})
    assert "collapsed (the default) p50 / p95 CPU 3.9 / 5.8 ms" in body
    assert "wall 3.1 / 4.4 ms, CPU 3.0 / 4.2 ms" in body and "reused" in body
    assert "End to end" not in body
    search |= {"end_to_end_load": 0.4}
    for key, value in (("end_to_end", 7.0), ("end_to_end_sequential", 9.0)):
        search |= {f"{key}_p50_ms": value, f"{key}_p95_ms": value + 1}
        search |= {f"{key}_cpu_p50_ms": value + 2, f"{key}_cpu_p95_ms": value + 3}
    body = speed.render({**record, "results": {"search": search}})
    assert "p95 7.0 / **8.0 ms**, CPU (all threads) 9.0 / 10.0 ms" in body
    assert "lexical side, wall 9.0 / 10.0 ms." in body and "load 0.4" in body
    search |= {"end_to_end_overlap_p50_ms": 6.5, "end_to_end_overlap_p95_ms": 7.5}
    body = speed.render({**record, "results": {"search": search | {"end_to_end_core_idle": True}}})
    assert "always on 6.5 / 7.5 ms (planvec overlaps only when a core is idle; idle at" in body


def test_memory_from_an_earlier_record_says_where_it_was_measured(tmp_path: Path) -> None:
    earlier = {
        "args": "--skip index,search --memory-tasks 1000000",
        "date": "2026-12-02 05:39 UTC",
        "commit": "82c4e53916c7fc8a",
        "load_start": 3.78,
        "load_end": 1.07,
        "results": {
            "memory": {"tasks": 1_000_000, "seconds": 9.0, "peak_rss_mb": 1900, "load": 4.9}
        },
    }
    path = tmp_path / "earlier.json"
    path.write_text(speed.json.dumps(earlier), encoding="utf-8")
    memory = speed.memory_from(path)
    assert memory["tasks"] == 1_000_000 and memory["run"]["commit"] == "82c4e53916c7fc8a"
    record = {
        "args": "--runs 1",
        "date": "2026-12-02 06:00 UTC",
        "commit": "fedcba9876543210",
        "machine": "Some CPU, 2 cores",
        "load_start": 1.0,
        "load_end": 1.5,
        "results": {"memory": memory},
    }
    body = speed.render(record)
    assert "From a separate run (`python bench/speed.py --skip index,search" in body
    assert "commit `82c4e53916`" in body and "1,000,000 synthetic tasks" in body
    del record["results"]["memory"]["run"]
    assert "separate run" not in speed.render(record)  # measured in this run: no such words
