"""bench/_memcap.py: finding the memory cgroup hierarchy and reading a cap's figures.

Run against small cgroup-shaped directories in ``tmp_path`` (the kernel's file formats,
copied from cgroup v1 and v2), so they run anywhere; the real cgroup is exercised by
``bench/speed.py --memory-cap-mb``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"
sys.path[:0] = [str(BENCH)]

import _memcap  # noqa: E402
import speed  # noqa: E402

MB = 1024 * 1024


def _mounts(tmp_path: Path, *lines: str) -> Path:
    path = tmp_path / "mounts"
    path.write_text("\n".join(["proc /proc proc rw 0 0", *lines]) + "\n")
    return path


def test_a_v1_memory_controller_mount_is_preferred(tmp_path: Path) -> None:
    v2 = tmp_path / "unified"
    v2.mkdir()
    (v2 / "cgroup.controllers").write_text("cpu io memory pids\n")
    mounts = _mounts(
        tmp_path,
        f"cgroup2 {v2} cgroup2 rw,relatime 0 0",
        "cgroup /sys/fs/cgroup/cpu cgroup rw,relatime,cpu 0 0",
        "cgroup /sys/fs/cgroup/memory cgroup rw,relatime,memory 0 0",
    )
    assert _memcap.find_hierarchy(mounts) == (Path("/sys/fs/cgroup/memory"), 1)


def test_v2_counts_only_with_the_memory_controller(tmp_path: Path) -> None:
    v2 = tmp_path / "cg"
    v2.mkdir()
    (v2 / "cgroup.controllers").write_text("cpu io pids\n")
    mounts = _mounts(tmp_path, f"cgroup2 {v2} cgroup2 rw 0 0")
    with pytest.raises(_memcap.CapUnavailable, match="no memory cgroup controller"):
        _memcap.find_hierarchy(mounts)
    (v2 / "cgroup.controllers").write_text("cpu io memory pids\n")
    assert _memcap.find_hierarchy(mounts) == (v2, 2)


def test_no_readable_mounts_is_a_reason_not_a_crash(tmp_path: Path) -> None:
    with pytest.raises(_memcap.CapUnavailable, match="cannot read"):
        _memcap.find_hierarchy(tmp_path / "missing")


def test_v1_figures_peaks_and_oom_kills(tmp_path: Path) -> None:
    (tmp_path / "memory.stat").write_text(
        f"cache {50 * MB}\nrss {40 * MB}\nmapped_file {30 * MB}\n"
        f"total_cache {500 * MB}\ntotal_rss {400 * MB}\ntotal_mapped_file {300 * MB}\n"
    )
    (tmp_path / "memory.usage_in_bytes").write_text(f"{900 * MB}\n")
    (tmp_path / "memory.max_usage_in_bytes").write_text(f"{2047 * MB}\n")
    (tmp_path / "memory.failcnt").write_text("12\n")
    (tmp_path / "memory.oom_control").write_text("oom_kill_disable 0\nunder_oom 0\noom_kill 1\n")
    cap = _memcap.MemoryCap(tmp_path, 1, 2048)
    assert cap.sample() == {"anon": 400, "file": 500, "mapped_file": 300, "usage": 900}
    (tmp_path / "memory.stat").write_text(f"total_rss {100 * MB}\ntotal_cache {800 * MB}\n")
    cap.sample()
    assert cap.peaks_mb == {"anon": 400, "file": 800, "mapped_file": 300, "usage": 900}
    assert cap.result() == {"cgroup_peak_mb": 2047, "limit_hits": 12, "oom_kills": 1}


def test_v2_figures(tmp_path: Path) -> None:
    (tmp_path / "memory.stat").write_text(
        f"anon {700 * MB}\nfile {1000 * MB}\nkernel 5\nfile_mapped {600 * MB}\n"
    )
    (tmp_path / "memory.current").write_text(f"{1800 * MB}\n")
    (tmp_path / "memory.peak").write_text(f"{1900 * MB}\n")
    (tmp_path / "memory.events").write_text("low 0\nhigh 0\nmax 3\noom 0\noom_kill 0\n")
    cap = _memcap.MemoryCap(tmp_path, 2, 2048)
    assert cap.sample() == {"anon": 700, "file": 1000, "mapped_file": 600, "usage": 1800}
    assert cap.result() == {"cgroup_peak_mb": 1900, "limit_hits": 3, "oom_kills": 0}
    (tmp_path / "memory.peak").unlink()  # kernels before 5.19 have no peak
    assert cap.result()["cgroup_peak_mb"] is None


def test_creating_a_cap_where_the_hierarchy_is_not_writable_says_why(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    missing = tmp_path / "not-a-cgroup" / "deeper"
    monkeypatch.setattr(_memcap, "find_hierarchy", lambda: (missing, 1))
    with pytest.raises(_memcap.CapUnavailable, match="run as root"):
        _memcap.MemoryCap.create(2048, "x")


def test_the_capped_run_reaches_the_generated_section() -> None:
    record = {"args": "--skip index,search", "date": "d", "commit": "c", "machine": "m"}
    record |= {"load_start": 0.2, "load_end": 0.3}
    memory = {"tasks": 1000000, "seconds": 5000.0, "peak_rss_mb": 2100, "load": 3.0}
    capped = {
        **memory,
        "cpu_seconds": 4000.0,
        "cap_mb": 2048,
        "cgroup_version": 1,
        "swap_mb": 0,
        "completed": True,
        "returncode": 0,
        "cgroup_peak_mb": 2048,
        "cgroup_peak_anon_mb": 1500,
        "cgroup_peak_file_mb": 900,
        "limit_hits": 40,
        "oom_kills": 0,
        "after": {
            "health": {"returncode": 0, "cgroup_peak_mb": 700, "answer": {"points": 1000000}},
            "check": {
                "returncode": 0,
                "cgroup_peak_mb": 1800,
                "answer": {"status": "ok", "findings": 0, "tasks": 1000000},
            },
        },
    }
    body = speed.render({**record, "results": {"memory": capped}})
    assert "2,048 MB memory cgroup (v1, swap 0 MB): **completed**, 4000.0 s CPU" in body
    assert "highest anonymous 1500 MB" in body and "failcnt 40, OOM kills 0" in body
    assert "health exit 0 (cgroup peak 700 MB), check exit 0" in body
    assert "points counted 1000000, check status ok with 0 findings" in body
    failed = {**capped, "completed": False, "returncode": -9, "after": None}
    assert "**failed** (exit -9)" in speed.render({**record, "results": {"memory": failed}})
    skipped = {**memory, "cap_mb": 2048, "cap_skipped": "no memory cgroup controller"}
    assert "Not run under a 2,048 MB memory cap: no memory cgroup controller" in speed.render(
        {**record, "results": {"memory": skipped}}
    )
    assert "cgroup" not in speed.render({**record, "results": {"memory": memory}})
