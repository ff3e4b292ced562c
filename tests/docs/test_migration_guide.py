"""docs/guides/migrate-legacy.md stays true: its commands run, its troubleshooting is complete.

Every ``bash`` block of the guide is run in order, as written, in an empty directory holding the
realistic legacy fixture (an export of the collection ``tests/fixtures/legacy/make_fixture.py``
builds, and its plans), with the hashing embedder
(``PLANVEC_EMBEDDER=hashing``) in place of the model; each must exit 0. ``console`` blocks
need a legacy server and are not run. The test knows nothing of the commands themselves, so
when ``migrate-legacy`` changes, the guide's text is what to update.
"""

from __future__ import annotations

import html
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from planvec.cli.main import cli

REPO = Path(__file__).resolve().parents[2]
GUIDE = REPO / "docs" / "guides" / "migrate-legacy.md"
FIXTURE = REPO / "tests" / "fixtures" / "legacy" / "roadmap_tasks.planvec.tar"
REALISTIC = REPO / "tests" / "fixtures" / "legacy"
FENCE = re.compile(r"^```(\w*)\n(.*?)^```", re.DOTALL | re.MULTILINE)


def bash_blocks(text: str) -> list[str]:
    return [body for lang, body in FENCE.findall(text) if lang == "bash"]


def guide_env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PLANVEC_", "QDRANT_"))}
    bin_dir = str(Path(sys.executable).parent)
    env.update(
        PATH=f"{bin_dir}{os.pathsep}{env.get('PATH', '')}",
        HOME=str(home),
        XDG_CACHE_HOME=str(home / ".cache"),
        PLANVEC_EMBEDDER="hashing",
    )
    return env


def test_the_guide_has_runnable_steps() -> None:
    blocks = bash_blocks(GUIDE.read_text(encoding="utf-8"))
    joined = "\n".join(blocks)
    assert len(blocks) >= 4
    for step in ("--dry-run", "migrate-legacy", "check", "--delete-source"):
        assert step in joined, f"the guide has no runnable `{step}` step"


def realistic_fixture(work: Path, env: dict[str, str]) -> None:
    """``work/plans`` and ``work/roadmap_tasks.planvec.tar``: the collection the legacy writers
    leave (``make_fixture.py --build``), exported as step 1 of the guide does."""
    shutil.copytree(REALISTIC / "plans", work / "plans")
    built = work.parent / "legacy-built"
    for args in (
        [sys.executable, str(REALISTIC / "make_fixture.py"), "--build", str(built)],
        [sys.executable, "-m", "planvec", "export", str(work / FIXTURE.name),
         "--qdrant-url", f"local://{built}", "--collection", "roadmap_tasks"],
    ):  # fmt: skip
        done = subprocess.run(args, env=env, capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr[-2000:]


def test_every_command_of_the_guide_runs_on_the_legacy_fixture(tmp_path: Path) -> None:
    work = tmp_path / "work"
    work.mkdir()
    env = guide_env(tmp_path / "home")
    realistic_fixture(work, env)
    for number, block in enumerate(bash_blocks(GUIDE.read_text(encoding="utf-8")), start=1):
        done = subprocess.run(
            ["bash", "-euo", "pipefail", "-c", block],
            cwd=work, env=env, capture_output=True, text=True, timeout=300, check=False,
        )  # fmt: skip
        assert done.returncode == 0, (
            f"bash block {number} of the guide failed ({done.returncode}):\n{block}\n"
            f"stdout: {done.stdout[-2000:]}\nstderr: {done.stderr[-2000:]}"
        )
    # the final state the guide promises: migrated, verified, legacy collection dropped
    final = (work / "migration-final" / "migration-report.md").read_text(encoding="utf-8")
    assert "PASSED" in final
    result = CliRunner().invoke(
        cli, ["health", "--qdrant-url", f"local://{work / 'legacy-copy'}",
              "--collection", "roadmap_tasks"],
    )  # fmt: skip
    assert result.exit_code == 1, "the legacy copy should be gone after --delete-source"


def documented_errors() -> list[list[str]]:
    """The messages of the troubleshooting table, each split on '...' into fragments."""
    text = GUIDE.read_text(encoding="utf-8").split("## Troubleshooting", 1)[1]
    text = text.split("\n## ", 1)[0]
    rows = [line for line in text.splitlines() if line.startswith("| `")]
    messages = [re.findall(r"`([^`]+)`", row.split(" | ")[0]) for row in rows]
    return [
        [part.strip() for part in msg.split("...") if part.strip()]
        for group in messages
        for msg in group
    ]


def is_documented(message: str) -> bool:
    message = html.unescape(message)
    return any(all(part in message for part in parts) for parts in documented_errors())


def _error_of(args: list[str]) -> str:
    result = CliRunner().invoke(cli, args)
    assert result.exit_code != 0, result.output
    assert "Traceback" not in result.output
    lines = [ln for ln in result.stderr.splitlines() if ln.startswith(("Error: ", "problem: "))]
    assert lines, result.stderr
    return lines[0].removeprefix("Error: ")


def test_the_errors_the_migration_raises_are_in_the_troubleshooting(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # nothing a failing command might write lands in the repo
    truncated = tmp_path / "truncated.tar"
    truncated.write_bytes(FIXTURE.read_bytes()[:3000])
    empty = tmp_path / "empty-qdrant"
    idx = ["--index", str(tmp_path / "idx"), "--offline", "--report-dir", str(tmp_path / "r")]
    archive = str(FIXTURE)
    cases = {
        "no source": ["migrate-legacy", *idx],
        "both sources": ["migrate-legacy", "--from-url", "local://x", "--from-archive", archive],
        "memory source": ["migrate-legacy", "--from-url", "memory://", *idx],
        "no collection": ["migrate-legacy", "--from-url", f"local://{empty}", *idx],
        "bad scheme": ["migrate-legacy", "--from-archive", archive, "--qdrant-url", "host:6333"],
        "truncated archive": ["migrate-legacy", "--from-archive", str(truncated), *idx],
    }
    undocumented = {}
    for case, args in cases.items():
        message = _error_of(args)
        if not is_documented(message):
            undocumented[case] = message
    assert not undocumented, f"errors missing from the troubleshooting table: {undocumented}"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["empty-qdrant", "truncated.tar"]


@pytest.mark.parametrize("fragment", ["PASSED", "migration-report.md", "--delete-source"])
def test_the_checklist_names_what_to_verify(fragment: str) -> None:
    checklist = GUIDE.read_text(encoding="utf-8").split("## Post-migration checklist", 1)[1]
    assert checklist.count("- [ ]") >= 6
    assert fragment in checklist
