"""``python -m build`` makes an sdist and a wheel; the wheel installs and runs in a fresh venv.

Slow (a build and a venv with the core dependencies, ~1 min): ``make test-slow``. The fresh
venv gets planvec from the wheel file just built and its core dependencies through pip's
ordinary configuration (the local cache or the package registry); no extra, so no model:
the index uses the hashing embedder (``--offline``).
"""

from __future__ import annotations

import json
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

import planvec

REPO = Path(__file__).resolve().parents[2]
PLAN = """\
# Plan

## Phase 1

- [ ] **1.1** Mettre en place la sauvegarde de la base de données
- [x] **1.2** Write the API documentation
"""

pytestmark = pytest.mark.slow


def run(*cmd: str | Path, cwd: Path | None = None) -> str:
    done = subprocess.run(
        [str(c) for c in cmd], cwd=cwd, capture_output=True, text=True, timeout=900, check=False
    )
    assert done.returncode == 0, f"{cmd}:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done.stdout


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    pytest.importorskip("build", reason="pip install -e '.[release]'")
    out = tmp_path_factory.mktemp("dist")
    # --no-isolation: build with this venv's setuptools instead of downloading one
    run(sys.executable, "-m", "build", "--no-isolation", "--outdir", out, REPO)
    return out


def test_build_makes_an_sdist_and_a_wheel_with_the_version(dist: Path) -> None:
    v = planvec.__version__
    wheel = dist / f"planvec-{v}-py3-none-any.whl"
    sdist = dist / f"planvec-{v}.tar.gz"
    assert wheel.is_file() and sdist.is_file()
    names = zipfile.ZipFile(wheel).namelist()
    for member in ("planvec/py.typed", "planvec/data/glossary_fr_en.tsv", "planvec/cli/main.py"):
        assert member in names
    assert f"planvec-{v}.dist-info/entry_points.txt" in names
    with tarfile.open(sdist) as tar:
        members = tar.getnames()
    assert f"planvec-{v}/pyproject.toml" in members
    assert f"planvec-{v}/src/planvec/__init__.py" in members


def test_the_wheel_installs_in_a_fresh_venv_and_indexes(dist: Path, tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    run(sys.executable, "-m", "venv", venv)
    pip = [venv / "bin" / "python", "-m", "pip", "install", "--quiet"]
    wheel = next(dist.glob("planvec-*.whl"))
    run(*pip, wheel)  # planvec from this file; its dependencies from pip's usual sources
    planvec_bin = venv / "bin" / "planvec"
    assert planvec.__version__ in run(planvec_bin, "--version")
    plans = tmp_path / "plans"
    plans.mkdir()
    (plans / "plan.md").write_text(PLAN, encoding="utf-8")
    index = tmp_path / "index"
    report = json.loads(run(planvec_bin, "index", plans, "--index", index, "--offline",
                            "--silent", "--json", cwd=tmp_path))  # fmt: skip
    assert report["added"] == 2
    hits = json.loads(run(planvec_bin, "search", "sauvegarde", "--index", index, "--offline",
                          "--json", cwd=tmp_path))  # fmt: skip
    assert "Mettre en place la sauvegarde" in hits[0]["text"]
    run(planvec_bin, "health", "--index", index, cwd=tmp_path)
