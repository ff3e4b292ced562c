"""scripts/deploy against a real embedded index: backup, migrate, validate, roll back.

The script drives the real ``planvec`` console script of this venv (``--planvec``, so the
install step is skipped) with the hashing embedder. A planted validation failure (the
service's /healthz on a port nobody listens on) must roll the index back to its exact
content before the run (same content digest of an export).
"""

from __future__ import annotations

import argparse
import importlib.machinery
import importlib.util
import os
import socket
import sys
from pathlib import Path
from types import ModuleType

import pytest
from click.testing import CliRunner

from planvec.backup.archive import read_archive
from planvec.cli.main import cli

REPO = Path(__file__).resolve().parents[2]
PLANVEC = Path(sys.executable).parent / "planvec"

PLAN_V1 = """\
# Roadmap

## Phase 1 : Fondations

- [ ] **1.1** Mettre en place la sauvegarde de la base de données
- [ ] **1.2** Configurer l'intégration continue
- [x] **1.3** Choisir le moteur de recherche vectorielle
"""
PLAN_V2 = PLAN_V1.replace("- [ ] **1.2**", "- [x] **1.2**") + (
    "- [ ] **1.4** Écrire la documentation de l'API publique\n"
)


def load_deploy() -> ModuleType:
    loader = importlib.machinery.SourceFileLoader("planvec_deploy", str(REPO / "scripts/deploy"))
    spec = importlib.util.spec_from_loader("planvec_deploy", loader)
    assert spec is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["planvec_deploy"] = module  # dataclasses look their module up there
    loader.exec_module(module)
    return module


deploy_script = load_deploy()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def digest(index: Path, tmp: Path, name: str) -> str:
    out = tmp / f"{name}.tar"
    result = CliRunner().invoke(cli, ["export", str(out), "--index", str(index)])
    assert result.exit_code == 0, result.output
    return str(read_archive(out).header["content_digest"])


@pytest.fixture
def live(tmp_path: Path) -> tuple[Path, Path]:
    """An embedded index of PLAN_V1, and the plans directory now holding PLAN_V2."""
    plans, index = tmp_path / "plans", tmp_path / "index"
    plans.mkdir()
    (plans / "roadmap.md").write_text(PLAN_V1, encoding="utf-8")
    result = CliRunner().invoke(cli, ["index", str(plans), "--index", str(index),
                                      "--offline", "--silent"])  # fmt: skip
    assert result.exit_code == 0, result.output
    (plans / "roadmap.md").write_text(PLAN_V2, encoding="utf-8")
    return plans, index


def args_for(plans: Path, index: Path, tmp: Path, *extra: str) -> argparse.Namespace:
    return deploy_script.parse_args([
        "--planvec", str(PLANVEC), "--plans", str(plans), "--index", str(index),
        "--backup-dir", str(tmp / "backups"), "--offline", *extra,
    ])  # fmt: skip


def search_texts(index: Path, query: str) -> list[str]:
    result = CliRunner().invoke(cli, ["search", query, "--index", str(index), "--offline",
                                      "--json", "--limit", "10"])  # fmt: skip
    assert result.exit_code == 0, result.output
    import json

    return [hit["text"] for hit in json.loads(result.stdout)]


def test_a_passing_deployment_backs_up_migrates_and_validates(
    live: tuple[Path, Path], tmp_path: Path
) -> None:
    plans, index = live
    assert deploy_script.deploy(args_for(plans, index, tmp_path)) == 0
    backups = list((tmp_path / "backups").glob("pre-deploy-*.planvec.tar"))
    assert len(backups) == 1 and read_archive(backups[0]).points == 3
    assert any("documentation de l'API" in t for t in search_texts(index, "documentation API"))


@pytest.fixture
def systemctl_calls(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A ``systemctl`` on PATH that only records its arguments (no systemd in tests)."""
    bin_dir, log = tmp_path / "fake-bin", tmp_path / "systemctl.log"
    bin_dir.mkdir()
    fake = bin_dir / "systemctl"
    fake.write_text(f'#!/bin/sh\necho "$*" >> {log}\n', encoding="utf-8")
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}:{os.environ['PATH']}")
    return log


def test_a_failed_validation_rolls_the_index_back(
    live: tuple[Path, Path], tmp_path: Path, systemctl_calls: Path
) -> None:
    plans, index = live
    before = digest(index, tmp_path, "before")
    dead = f"http://127.0.0.1:{free_port()}/healthz"
    code = deploy_script.deploy(args_for(
        plans, index, tmp_path, "--healthz-url", dead, "--healthz-timeout", "1",
        "--unit", "planvec.service",
    ))  # fmt: skip
    assert code == 1
    assert digest(index, tmp_path, "after") == before
    assert not any("documentation de l'API" in t for t in search_texts(index, "documentation"))
    # stopped before the backup (embedded index), restarted to go live, restarted after rollback
    calls = systemctl_calls.read_text().splitlines()
    assert calls == ["stop planvec.service", "restart planvec.service", "restart planvec.service"]


@pytest.mark.slow  # two more deployments: the planted-failure test above is the default one
def test_a_failed_migration_rolls_back_and_a_failed_backup_changes_nothing(
    live: tuple[Path, Path], tmp_path: Path
) -> None:
    plans, index = live
    before = digest(index, tmp_path, "before")
    missing = tmp_path / "no-such-plans"
    assert deploy_script.deploy(args_for(missing, index, tmp_path)) == 1
    assert digest(index, tmp_path, "after") == before
    unwritable = args_for(plans, index, tmp_path)
    unwritable.backup_dir = Path("/proc/planvec-backups")
    assert deploy_script.deploy(unwritable) == 1
    assert digest(index, tmp_path, "after2") == before


def test_rollback_swaps_the_previous_venv_back(tmp_path: Path) -> None:
    live, new = tmp_path / "venv", tmp_path / "venv.new"
    for d, marker in ((live, "old"), (new, "new")):
        (d / "bin").mkdir(parents=True)
        (d / "bin" / "marker").write_text(marker)
    args = deploy_script.parse_args(["--plans", "p", "--venv", str(live)])
    d = deploy_script.Deployment(args, planvec=new / "bin" / "planvec", new_venv=new)
    deploy_script._swap_venvs(live, new)
    d.swapped = True
    assert (live / "bin" / "marker").read_text() == "new"
    deploy_script.rollback(d)
    assert (live / "bin" / "marker").read_text() == "old"
    assert (tmp_path / "venv.failed" / "bin" / "marker").read_text() == "new"
    assert d.planvec == live / "bin" / "planvec"
