"""docs/reference/configuration.md lists every setting with its environment variable."""

from __future__ import annotations

from dataclasses import fields
from pathlib import Path

import pytest

from planvec.settings import Settings

PAGE = Path(__file__).resolve().parents[2] / "docs" / "reference" / "configuration.md"


@pytest.mark.parametrize("name", [f.name for f in fields(Settings)])
def test_every_setting_is_documented(name: str) -> None:
    rows = [ln for ln in PAGE.read_text(encoding="utf-8").splitlines() if ln.startswith("| `")]
    row = next((r for r in rows if r.startswith(f"| `{name}` |")), None)
    assert row is not None, f"setting {name!r} is missing from {PAGE.name}"
    # the config file's own path is read from PLANVEC_CONFIG (``load_settings``), not a key
    env = "PLANVEC_CONFIG" if name == "config_file" else f"PLANVEC_{name.upper()}"
    assert f"`{env}`" in row
    default = getattr(Settings(), name)
    if isinstance(default, bool | int | float) or name in ("collection", "embedder"):
        assert f"`{str(default).lower() if isinstance(default, bool) else default}`" in row
