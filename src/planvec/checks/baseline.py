"""Quality baselines: save the metrics of a ``QualityReport``, compare a later one with them."""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from planvec.checks.quality import METRICS, QUALITY_SCHEMA, QualityReport
from planvec.errors import ConfigError


def compare_baseline(
    report: QualityReport,
    baseline: dict[str, Any],
    max_drop: float = 0.05,
    metrics: Sequence[str] = METRICS,
) -> list[str]:
    """Compare with a saved baseline; fills ``report.comparison`` and ``report.alerts``.

    Args:
        report: the current measurement.
        baseline: a dict written by ``save_baseline``.
        max_drop: largest acceptable absolute drop of a metric.
        metrics: the metrics compared (``SCALE_FREE_METRICS`` across model families).

    Returns:
        The alert messages (empty when nothing dropped).
    """
    report.baseline = {k: baseline.get(k) for k in ("model", "model_id", "created_at")}
    saved = baseline.get("metrics") or {}
    for name in metrics:
        if name not in saved or name not in report.metrics:
            continue
        base, cur = float(saved[name]), float(report.metrics[name])
        report.comparison[name] = {"baseline": base, "current": cur, "drop": round(base - cur, 6)}
        if base - cur > max_drop:
            report.alerts.append(
                f"{name} dropped from {base:.3f} to {cur:.3f} (more than {max_drop:.3f}); "
                f"baseline model {baseline.get('model_id')}, now {report.model_id}"
            )
    bad_now = sum(int(report.vectors.get(k, 0) or 0) for k in ("not_normalized", "zero", "nan"))
    bad_then = sum(
        int((baseline.get("vectors") or {}).get(k, 0) or 0)
        for k in ("not_normalized", "zero", "nan")
    )
    if bad_now > bad_then:
        report.alerts.append(
            f"{bad_now} damaged vectors (zero, NaN or not normalized), "
            f"baseline had {bad_then}: run `planvec check`"
        )
    return report.alerts


def save_baseline(report: QualityReport, path: Path) -> None:
    """Write the report's metrics as a baseline JSON file."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(
            json.dumps(report.baseline_dict(), indent=2, ensure_ascii=False) + "\n",
            encoding="utf-8",
        )
    except OSError as exc:
        raise ConfigError(f"cannot write the baseline {path}: {exc}") from exc


def load_baseline(path: Path) -> dict[str, Any]:
    """Read a baseline written by ``save_baseline``."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ConfigError(
            f"cannot read the baseline {path}: {exc}; save one with "
            "`planvec quality --save-baseline FILE`"
        ) from exc
    fix = "save a new one with `planvec quality --save-baseline FILE`"
    if not isinstance(data, dict) or not isinstance(data.get("metrics"), dict):
        raise ConfigError(f"{path} is not a planvec quality baseline (no 'metrics'): {fix}")
    version = data.get("schema_version", 0)
    if not isinstance(version, int) or isinstance(version, bool):
        raise ConfigError(f"{path}: schema_version {version!r} is not an integer: {fix}")
    if version > QUALITY_SCHEMA:
        raise ConfigError(f"{path} was written by a newer planvec: upgrade planvec")
    for name, value in data["metrics"].items():
        number = value if isinstance(value, int | float) and not isinstance(value, bool) else None
        if name in METRICS and (number is None or not math.isfinite(number)):
            raise ConfigError(f"{path}: metric {name!r} is {value!r}, not a number: {fix}")
    return data
