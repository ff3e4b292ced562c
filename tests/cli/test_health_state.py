"""``planvec health`` tells the truth: busy, interrupted sync, lost points, unreadable data.

Real embedded (Edge) indexes built by the CLI with the hashing embedder; a second process
holds the index for the busy case.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from planvec.cli.main import cli
from planvec.embed.hashing import HashingEmbedder
from planvec.index import Index
from planvec.records import Plan, SourceFailure
from planvec.roots import RootedPlanSource
from planvec.store import open_store
from planvec.text.lexical import LexicalEncoder

REPO = Path(__file__).resolve().parents[2]
PLANS = REPO / "examples" / "plans"


def health(idx: Path) -> tuple[int, dict[str, object], str]:
    result = CliRunner().invoke(cli, ["health", "--index", str(idx), "--json"])
    assert "Traceback" not in result.stderr
    return result.exit_code, json.loads(result.stdout), result.stderr


@pytest.fixture
def idx(tmp_path: Path) -> Path:
    path = tmp_path / "idx"
    args = ["index", str(PLANS), "--index", str(path), "--offline", "--root", str(PLANS)]
    assert CliRunner().invoke(cli, args).exit_code == 0
    return path


def test_healthy_index_reads_a_sample_and_matches_the_manifest(idx: Path) -> None:
    code, report, _ = health(idx)
    assert code == 0 and report["status"] == "ok"
    assert report["points"] == report["manifest_points"] == 71
    assert report["sampled"] == 71 and report["interrupted_sync"] is None


HOLDER = """
import sys, time
from pathlib import Path
from planvec.lock import WriteLock
from planvec.store import open_store
idx = Path(sys.argv[1])
lock = WriteLock(idx / ".planvec_tasks.lock")
lock.acquire()
store = open_store(index_dir=idx)
store.count("planvec_tasks")  # opens the shard: Edge locks it for this process
print("ready", flush=True)
time.sleep(60)
"""


@pytest.fixture
def held(idx: Path) -> Iterator[subprocess.Popen[str]]:
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(idx)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
        yield proc
    finally:
        proc.kill()
        proc.wait(timeout=30)
        if proc.stdout is not None:
            proc.stdout.close()


def test_an_index_being_written_is_busy_not_missing(idx: Path, held: subprocess.Popen[str]) -> None:
    """The issue's example: a locked index was reported as "collection: no"."""
    code, report, _ = health(idx)
    assert code == 0 and report["status"] == "busy" and report["busy"]
    assert not report["problems"]
    assert any(str(held.pid) in w for w in report["warnings"])  # type: ignore[union-attr]
    text = CliRunner().invoke(cli, ["health", "--index", str(idx)])
    assert text.output.startswith("busy:") and "collection planvec_tasks: busy" in text.output


def test_an_interrupted_sync_is_reported_until_the_next_run(idx: Path) -> None:
    class Interrupted:
        root = PLANS

        def iter_plans(self) -> Iterator[Plan | SourceFailure]:
            yield from list(RootedPlanSource([PLANS], PLANS).iter_plans())[:1]
            raise KeyboardInterrupt  # Ctrl-C (a kill -9 leaves the same marker)

    store = open_store(index_dir=idx)
    try:
        with pytest.raises(KeyboardInterrupt):
            Index(store, HashingEmbedder(), lexical=LexicalEncoder()).sync(Interrupted())
    finally:
        store.close()
    code, report, _ = health(idx)
    assert code == 1 and report["status"] == "unhealthy"
    assert report["interrupted_sync"]["pid"]  # type: ignore[index]
    assert any("interrupted" in p and "planvec index" in p for p in report["problems"])  # type: ignore[union-attr]
    args = ["index", str(PLANS), "--index", str(idx), "--offline"]
    assert CliRunner().invoke(cli, args).exit_code == 0
    assert health(idx)[0] == 0


def test_points_lost_outside_planvec_are_reported(idx: Path) -> None:
    store = open_store(index_dir=idx)
    try:
        first = next(iter(store.scroll("planvec_tasks", with_payload=False)))
        store.delete("planvec_tasks", ids=[first.id])
    finally:
        store.close()
    code, report, _ = health(idx)
    assert code == 1 and report["points"] == 70 and report["manifest_points"] == 71
    assert any("counts 71 points but the collection holds 70" in p for p in report["problems"])  # type: ignore[union-attr]
