"""A way back from any damaged index: ``planvec index PATHS --rebuild``.

Each test damages a real embedded (Edge) index on disk the way a crash, a full disk or a
careless hand does (truncated manifest, deleted manifest, truncated vector, sparse-vector,
payload or config files), then runs every command through the real CLI (click runner,
hashing embedder): each either works or fails with a message naming the recovery; plain
``index`` never reports "unchanged" over the damage. ``index --rebuild`` then restores
exactly the state of a clean index.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

from planvec.cli.main import cli
from planvec.store import open_store

from .conftest import REPO
from .helpers import snapshot

pytestmark = pytest.mark.reliability

PLANS = REPO / "examples" / "plans"
RECOVERY = "planvec index PATHS --rebuild"


def invoke(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args))
    assert ("Traceback" not in result.stderr and result.exception is None) or isinstance(
        result.exception, SystemExit
    ), result.stderr
    return result.exit_code, result.stdout, result.stderr


def state(idx: Path) -> dict[str, object]:
    store = open_store(index_dir=idx)
    try:
        return snapshot(store)
    finally:
        store.close()


def _one(idx: Path, pattern: str) -> Path:
    found = sorted(idx.glob(pattern))
    assert found, pattern
    return found[0]


def _truncate(size: int, pattern: str) -> Callable[[Path], None]:
    def damage(idx: Path) -> None:
        path = _one(idx, pattern)
        with path.open("r+b") as f:
            f.truncate(size)

    return damage


SEGMENT = "collections/planvec_tasks/segments/*"
DAMAGE = {
    "manifest-truncated": _truncate(20, "collections/planvec_tasks.manifest.json"),
    "manifest-deleted": lambda idx: _one(idx, "collections/planvec_tasks.manifest.json").unlink(),
    "vectors-truncated": _truncate(1000, f"{SEGMENT}/vector_storage-dense/vectors/chunk_0.mmap"),
    "payloads-truncated": _truncate(100, f"{SEGMENT}/payload_storage/page_0.dat"),
    "sparse-truncated": _truncate(100, f"{SEGMENT}/vector_storage-lexical/store/page_0.dat"),
    "config-truncated": _truncate(10, "collections/planvec_tasks/edge_config.json"),
}


@pytest.fixture(scope="module")
def clean(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    idx = tmp_path_factory.mktemp("clean") / "idx"
    code, _, err = invoke(
        "index", str(PLANS), "--index", str(idx), "--offline", "--root", str(PLANS)
    )
    assert code == 0, err
    return state(idx)


@pytest.mark.parametrize("damage", sorted(DAMAGE))
def test_every_command_names_the_recovery_and_rebuild_restores(
    damage: str, clean: dict[str, object], tmp_path: Path
) -> None:
    idx = tmp_path / "idx"
    base = ("--index", str(idx), "--offline")
    code, _, err = invoke("index", str(PLANS), *base, "--root", str(PLANS))
    assert code == 0, err
    DAMAGE[damage](idx)

    commands = {
        "index": ("index", str(PLANS), *base),
        "search": ("search", "sauvegarde de la base", *base),
        "check": ("check", str(PLANS), *base),
        "health": ("health", "--index", str(idx)),
        "repair": ("repair", str(PLANS), *base, "--apply"),  # may fix it: it runs last
    }
    failed = []
    for name, args in commands.items():
        code, out, err = invoke(*args)
        if code != 0:
            failed.append(name)
            assert RECOVERY in err + out, f"{name} fails without naming the recovery:\n{err}"
    assert "index" in failed, "plain index must not report success over a damaged index"
    assert "health" in failed

    code, out, err = invoke("index", str(PLANS), *base, "--rebuild", "--json")
    assert code == 0, err
    assert json.loads(out)["added"] == len(clean)
    assert state(idx) == clean
    assert invoke("health", "--index", str(idx))[0] == 0
    code, out, _ = invoke("index", str(PLANS), *base, "--json")
    assert code == 0 and json.loads(out)["unchanged"] == len(clean)


def test_rebuild_of_a_missing_index_just_builds_it(tmp_path: Path) -> None:
    idx = tmp_path / "idx"
    code, out, err = invoke("index", str(PLANS), "--index", str(idx), "--offline", "--rebuild")
    assert code == 0 and "added" in out, err
    code, out, _ = invoke(
        "index", str(PLANS), "--index", str(idx), "--offline", "--rebuild", "--dry-run"
    )
    assert code == 0 and "Dry run: nothing was written." in out


def test_rebuild_with_a_wrong_path_drops_nothing(tmp_path: Path) -> None:
    idx = tmp_path / "idx"
    base = ("--index", str(idx), "--offline")
    assert invoke("index", str(PLANS), *base, "--root", str(PLANS))[0] == 0
    before = state(idx)
    code, _, err = invoke("index", str(tmp_path / "typo"), *base, "--rebuild")
    assert code != 0 and "no such file" in err
    code, _, err = invoke("index", str(tmp_path), *base, "--rebuild")
    assert code == 2 and "outside the root" in err
    assert state(idx) == before
