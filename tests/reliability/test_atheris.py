"""Coverage-guided fuzzing with atheris (optional dev tool): runs with --reliability-full only.

libFuzzer mutates inputs towards new code paths of the parser and the archive reader,
starting from real plans and a real archive; any unexpected exception fails the run (exit
code != 0) and names the crashing input.
"""

from __future__ import annotations

import importlib.util
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from planvec.backup.transfer import export_collection
from planvec.index import sources_for
from planvec.store import open_store

from .conftest import REPO, Figures, full_run
from .helpers import make_index, plan_slice

pytestmark = [
    pytest.mark.reliability,
    pytest.mark.skipif(importlib.util.find_spec("atheris") is None, reason="atheris missing"),
]

TARGETS = Path(__file__).with_name("atheris_targets.py")


def _fuzz(target: str, runs: int, seeds: Path, workdir: Path) -> int:
    largest = max(p.stat().st_size for p in seeds.iterdir())
    cmd = [sys.executable, str(TARGETS), target, f"-runs={runs}", f"-max_len={largest + 4096}"]
    cmd += [f"-artifact_prefix={workdir}/", "-print_final_stats=1", str(seeds)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=1800, cwd=workdir)
    assert proc.returncode == 0, proc.stderr[-4000:]
    done = re.search(r"Done (\d+) runs", proc.stderr)
    assert done, proc.stderr[-2000:]
    return int(done.group(1))


@pytest.mark.timeout(2400)  # 40,000 libFuzzer runs; minutes on a shared 2-core machine
def test_atheris_parser_and_archive_reader(
    tmp_path: Path, request: pytest.FixtureRequest, figures: Figures
) -> None:
    if not full_run(request):
        pytest.skip("coverage-guided fuzzing runs with --reliability-full")
    plans = plan_slice(tmp_path / "plans", files=8, min_size=0)
    seeds = tmp_path / "parser-seeds"
    seeds.mkdir()
    for i, path in enumerate(sorted(plans.rglob("*.md"))):
        shutil.copyfile(path, seeds / f"plan{i}.md")
    for i, path in enumerate(sorted((REPO / "tests" / "fixtures" / "plans").glob("*.md"))):
        shutil.copyfile(path, seeds / f"fixture{i}.md")
    parser_runs = _fuzz("parser", 30_000, seeds, tmp_path)

    archive_seeds = tmp_path / "archive-seeds"
    archive_seeds.mkdir()
    store = open_store(index_dir=tmp_path / "idx", qdrant_url="memory://")
    try:
        make_index(store).sync(sources_for([REPO / "examples" / "plans"]))
        export_collection(store, "planvec_tasks", archive_seeds / "good.planvec.tar")
    finally:
        store.close()
    archive_runs = _fuzz("archive", 10_000, archive_seeds, tmp_path)
    figures.add("fuzz", "atheris_parser_runs", parser_runs)
    figures.add("fuzz", "atheris_archive_runs", archive_runs)
