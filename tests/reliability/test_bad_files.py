"""A plan directory with good, binary, huge, undecodable and odd files: ``planvec index``
indexes every task of every readable file, names each file it skipped, and exits with 1.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from planvec.sources.files import parse_paths
from planvec.store import open_store

from .conftest import Figures
from .helpers import plan_slice

pytestmark = pytest.mark.reliability

PNG = bytes.fromhex("89504e470d0a1a0a0000000d49484452") + bytes(range(256)) * 8


def _huge(size: int) -> str:
    """About ``size`` bytes of prose with a task every 2000 lines."""
    prose = "Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod. " * 3
    parts, total, i = [], 0, 0
    while total < size:
        part = f"\n## Section {i}\n\n- [ ] Tâche du gros fichier {i}\n\n" if i % 2000 == 0 else ""
        part += prose + "\n"
        parts.append(part)
        total += len(part.encode())
        i += 1
    return "".join(parts)


def test_mixed_directory_indexes_every_good_file(tmp_path: Path, figures: Figures) -> None:
    root = plan_slice(tmp_path / "plans", files=4)
    odd = root / "odd"
    odd.mkdir()
    (odd / "image.md").write_bytes(PNG)  # binary: skipped, named
    (odd / "nul.md").write_bytes(b"- [ ] looks like text\x00\x00\x00 but has NULs\n")
    huge = _huge(10_000_000)
    (odd / "huge.md").write_text(huge, encoding="utf-8")  # 10 MB, still good
    (odd / "latin1.md").write_bytes("# Étapes\n\n- [ ] Réviser le modèle\n".encode("latin-1"))
    (odd / "broken-utf8.md").write_bytes(b"- [ ] ok\n- [ ] bad \xff\xfe byte\n- [x] done\n")
    (odd / "utf16.md").write_bytes("- [ ] en UTF-16\n".encode("utf-16"))
    (odd / "empty.md").write_bytes(b"")
    (odd / "crlf-bom.md").write_bytes(b"\xef\xbb\xbf- [ ] bom\r\n- [x] crlf\r\n")
    (odd / "unreadable.md").write_text("- [ ] secret\n")
    (odd / "unreadable.md").chmod(0)
    (odd / "dir.md").mkdir()  # a directory named like a plan
    (odd / "notes.txt").write_text("- [ ] not a plan (wrong extension)\n")

    plans, failures = parse_paths([root])
    expected = {p.path: len(p.tasks) for p in plans}
    failed = {f.path for f in failures}
    readable_everything = os.geteuid() == 0  # root reads a mode-0 file
    assert {"odd/image.md", "odd/nul.md"} <= failed
    assert expected["odd/huge.md"] == huge.count("- [ ] ") > 10
    assert expected["odd/latin1.md"] == 1 and expected["odd/broken-utf8.md"] == 3
    assert expected["odd/utf16.md"] == 1 and expected["odd/crlf-bom.md"] == 2

    index = tmp_path / "idx"
    env = dict(os.environ, PLANVEC_EMBEDDER="hashing")
    proc = subprocess.run(
        [sys.executable, "-m", "planvec", "index", str(root), "--index", str(index), "--json"],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )
    assert proc.returncode == 1, proc.stderr  # some files failed: exit code 1, not a crash
    assert "Traceback" not in proc.stderr
    report = json.loads(proc.stdout)
    assert report["failed"] == len(failed)
    for name in failed:
        assert f"error: {name}:" in proc.stderr
    if not readable_everything:
        assert "odd/unreadable.md" in failed
    store = open_store(index_dir=index)
    try:
        got: dict[str, int] = {}
        for point in store.scroll("planvec_tasks", with_payload=("plan",)):
            plan = str(point.payload["plan"])
            got[plan] = got.get(plan, 0) + 1
    finally:
        store.close()
    assert got == {k: v for k, v in expected.items() if v}, "a good file lost tasks"
    figures.add("bad_input", "files_in_mixed_directory", len(expected) + len(failed))
    figures.add("bad_input", "good_files_fully_indexed", len(got))
    figures.add("bad_input", "bad_files_named", len(failed))
