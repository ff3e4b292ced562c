"""Edge: what a write call returned survives a kill -9; a second process is refused cleanly."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from planvec.errors import IndexLocked
from planvec.store import open_store

WRITER = textwrap.dedent(
    """
    import os, signal, sys
    from pathlib import Path
    from planvec.records import point_id
    from planvec.store import CollectionSpec, PointRecord, open_store

    store = open_store(index_dir=Path(sys.argv[1]))
    store.ensure_collection("c", CollectionSpec(dimension=4, keyword_fields=("k",)))
    n = store.upsert("c", [PointRecord(id=point_id(str(i)), vector=[1.0, i, 2.0, 3.0],
                                      payload={"k": str(i)}) for i in range(300)])
    store.set_payload("c", {point_id("7"): {"k": "seven"}})
    store.delete("c", ids=[point_id("8")])
    store.write_manifest("c", {"points": n})
    print("returned", flush=True)
    if sys.argv[2] == "kill":
        os.kill(os.getpid(), signal.SIGKILL)
    sys.stdin.readline()  # "hold": keep the index open until the parent says so
    """
)


def run_writer(index: Path, mode: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", WRITER, str(index), mode],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )


def test_returned_writes_survive_kill_9(tmp_path: Path) -> None:
    proc = run_writer(tmp_path / "idx", "kill")
    out, _ = proc.communicate(timeout=120)
    assert "returned" in out and proc.returncode == -9
    store = open_store(index_dir=tmp_path / "idx")
    try:
        assert store.count("c") == 299
        from planvec.records import point_id

        (seven,) = store.retrieve("c", [point_id("7")])
        assert seven.payload == {"k": "seven"}
        assert store.read_manifest("c") == {"points": 300}
    finally:
        store.close()


def test_second_process_gets_index_locked(tmp_path: Path) -> None:
    proc = run_writer(tmp_path / "idx", "hold")
    try:
        assert proc.stdout is not None and "returned" in proc.stdout.readline()
        store = open_store(index_dir=tmp_path / "idx")
        try:
            with pytest.raises(IndexLocked, match="another process"):
                store.count("c")
        finally:
            store.close()
    finally:
        proc.communicate("\n", timeout=60)
