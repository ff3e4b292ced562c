"""``mkdocs build --strict`` builds the site with no warning, and nothing from the network.

Slow (a full site build): ``make test-slow``, which installs the ``docs`` extra.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from planvec.cli.main import cli

REPO = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    pytest.importorskip("mkdocs", reason="pip install -e '.[docs]'")
    out = tmp_path_factory.mktemp("site")
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    done = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(out)],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "WARNING" not in done.stderr, done.stderr[-3000:]
    return out


def test_every_page_of_the_nav_is_built(site: Path) -> None:
    pages = ["getting-started", "concepts", "guides/migrate-legacy", "guides/deploy", "sync"]
    pages += ["reference/cli", "reference/configuration", "reference/changelog"]
    for page in pages:
        assert (site / page / "index.html").is_file(), page
    changelog = (site / "reference" / "changelog" / "index.html").read_text(encoding="utf-8")
    assert "Keep a Changelog" in changelog, "the CHANGELOG snippet was not included"


def test_the_built_cli_reference_has_every_command(site: Path) -> None:
    html = (site / "reference" / "cli" / "index.html").read_text(encoding="utf-8")
    for name in cli.commands:
        assert f'id="planvec-{name}"' in html, name


def test_the_site_loads_nothing_from_the_network(site: Path) -> None:
    remote = re.compile(r'<(?:link|script)[^>]+(?:href|src)="https?://', re.IGNORECASE)
    for page in site.rglob("*.html"):
        assert not remote.search(page.read_text(encoding="utf-8")), page
