"""The discovery file (mode, staleness, ownership), the held-shard wait without an owner,
and the alert rules against the metrics the service exports."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from planvec.service.discovery import (
    OwnerInfo,
    discovery_path,
    read_discovery,
    remove_discovery,
    write_discovery,
)

from .conftest import cli_env, run_cli

REPO = Path(__file__).resolve().parents[2]
RULES = REPO / "deploy" / "prometheus"


def _info(pid: int) -> OwnerInfo:
    return OwnerInfo(url="http://127.0.0.1:1", pid=pid, token="t", index="i", started_at=0.0)


def test_discovery_file_is_private_and_detects_stale_owners(tmp_path: Path) -> None:
    path = discovery_path(tmp_path / "idx", None, "planvec_tasks", tmp_path)
    write_discovery(path, _info(os.getpid()))
    assert path.stat().st_mode & 0o777 == 0o600
    assert read_discovery(path) == _info(os.getpid())
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)  # fmt: skip
    write_discovery(path, _info(int(dead.stdout)))
    assert read_discovery(path) is None  # its pid is gone: a SIGKILLed owner
    write_discovery(path, _info(os.getpid()))
    path.chmod(0o644)
    assert read_discovery(path) is None  # readable by others: not trusted
    path.chmod(0o600)
    remove_discovery(path, os.getpid() + 1)
    assert path.exists()  # never another owner's file
    remove_discovery(path, os.getpid())
    assert not path.exists()
    server = discovery_path(tmp_path, "http://q:6333", "c", tmp_path / "cache")
    assert server.parent == tmp_path / "cache" / "owners"


def test_reader_waits_for_a_held_shard_without_owner(plan_dir: Path, tmp_path: Path) -> None:
    assert run_cli("index", str(plan_dir), cwd=tmp_path).returncode == 0
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import sys, time; from planvec.index import open_index; from planvec.settings import "
         "load_settings; ix = open_index(load_settings(embedder='hashing')); ix.count(); "
         "print('held', flush=True); time.sleep(float(sys.argv[1])); ix.close()", "6.0"],
        cwd=tmp_path, env=cli_env(), stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
    started = time.monotonic()
    waited = run_cli("search", "sauvegarde", cwd=tmp_path)
    assert waited.returncode == 0, waited.stderr
    assert "held by another planvec process; waiting" in waited.stderr
    assert time.monotonic() - started >= 0.5
    holder.communicate(timeout=30)
    args = [*holder.args[:-1], "120"]  # type: ignore[index,misc]
    holder2 = subprocess.Popen(args, cwd=tmp_path, env=cli_env(), stdout=subprocess.PIPE,
                               text=True)  # fmt: skip
    assert holder2.stdout is not None and holder2.stdout.readline().strip() == "held"
    bounded = run_cli("search", "sauvegarde", cwd=tmp_path, PLANVEC_WAIT_HELD="0.3")
    holder2.kill()
    holder2.communicate(timeout=30)
    assert bounded.returncode == 2 and "open in another process" in bounded.stderr


def test_alert_rules_use_exported_metrics() -> None:
    from planvec.service.metrics import ServiceMetrics

    exported = {m.name for m in ServiceMetrics().registry.collect()}
    rules = yaml.safe_load((RULES / "alerts.yml").read_text(encoding="utf-8"))
    names = {r["alert"] for g in rules["groups"] for r in g["rules"]}
    assert {"PlanvecSyncFailing", "PlanvecIndexStale", "PlanvecStoreErrors",
            "PlanvecSearchSlow", "PlanvecQualityDrift"} <= names  # fmt: skip
    import re

    for group in rules["groups"]:
        for rule in group["rules"]:
            for metric in re.findall(r"\b(planvec_[a-z_]+)", rule["expr"]):
                base = re.sub(r"_(bucket|total|count|sum)$", "", metric)
                assert base in exported or metric in exported, (rule["alert"], metric)


@pytest.mark.slow
def test_promtool_checks_and_unit_tests_the_rules() -> None:
    promtool = shutil.which("promtool")
    if promtool is None:
        pytest.skip("promtool not installed (Debian package prometheus)")
    check = subprocess.run([promtool, "check", "rules", str(RULES / "alerts.yml")],
                           capture_output=True, text=True, timeout=60)  # fmt: skip
    assert check.returncode == 0, check.stdout + check.stderr
    unit = subprocess.run([promtool, "test", "rules", str(RULES / "alerts_test.yml")],
                          capture_output=True, text=True, timeout=60)  # fmt: skip
    assert unit.returncode == 0, unit.stdout + unit.stderr
