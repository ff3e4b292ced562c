"""Issue 19, class 9: rough edges.

* ``repair`` prints a sentence, not a Python dict; check/repair/export report progress.
* Fence repairs are summarised per file (details with ``-v``), so other warnings stay seen.
* One stray NUL byte no longer makes a whole UTF-8 plan "binary" (binary files still are).
* ``export`` keeps an existing file unless ``--force``.
* Batch sizes below 1 are refused (flag, environment, library).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from planvec.cli.main import cli
from planvec.embed.hashing import HashingEmbedder
from planvec.errors import ConfigError
from planvec.sources.files import decode, parse_paths
from planvec.store import open_store
from planvec.sync import Syncer

from .conftest import CORPUS, REPO

pytestmark = pytest.mark.reliability

EXAMPLES = REPO / "examples" / "plans"
FENCES = REPO / "tests" / "fixtures" / "plans" / "broken-fences.md"


def _invoke(*args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args), env={"PLANVEC_EMBEDDER": "hashing", **(env or {})})
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def index_dir(tmp_path: Path) -> Path:
    idx = tmp_path / "idx"
    code, _, err = _invoke("index", str(EXAMPLES), "--index", str(idx))
    assert code == 0, err
    return idx


def test_repair_summary_is_a_sentence(tmp_path: Path) -> None:
    plans = tmp_path / "plans"
    plans.mkdir()
    for path in EXAMPLES.glob("*.md"):
        (plans / path.name).write_text(path.read_text(encoding="utf-8"), encoding="utf-8")
    index_dir = tmp_path / "idx"  # indexed from the copy: plan names relative to its root
    code, _, err = _invoke("index", str(plans), "--index", str(index_dir))
    assert code == 0, err
    extra = plans / "api-docs-plan.md"  # a task the index does not hold yet: one to re-embed
    extra.write_text(extra.read_text(encoding="utf-8") + "\n- [ ] Nouvelle tâche à réparer\n")
    code, out, err = _invoke("repair", str(plans), "--apply", "--index", str(index_dir))
    assert code == 0, out + err
    line = next(line for line in out.splitlines() if line.startswith("Repaired in"))
    assert "{" not in line and "'" not in line  # was: Repaired in 0.1s: {'upserted': 1, ...}
    assert "1 task(s) re-embedded" in line and "0 point(s) deleted" in line
    assert line.endswith("Check after repair: ok.")


def test_repair_and_export_report_progress(index_dir: Path, tmp_path: Path) -> None:
    from planvec.backup.ops import export_index
    from planvec.checks.repair import repair_index
    from planvec.index import open_index, sources_for
    from planvec.settings import load_settings

    settings = load_settings(env={}, index_dir=index_dir, embedder="hashing")
    lines: list[str] = []
    with open_index(settings) as index:
        repair_index(index, sources_for([EXAMPLES]), progress=lines.append)
    assert sum(line.startswith("checking: ") for line in lines) == 3  # one per plan
    seen: list[tuple[int, int]] = []
    export_index(settings, tmp_path / "a.tar", progress=lambda d, t: seen.append((d, t)))
    assert seen and seen[-1][0] == seen[-1][1] > 0


def test_fence_repairs_are_summarised_per_file_and_detailed_with_v(tmp_path: Path) -> None:
    many = tmp_path / "many.md"  # 12 repaired fences + one real problem of another kind
    blocks = "".join(f"- [ ] Tâche {i}\n  ```go\n  x := {i}\n  ```plaintext\n" for i in range(12))
    many.write_text(f"# Plan\n\n{blocks}")
    code, _, err = _invoke("parse", str(many), str(FENCES))
    assert code == 0
    warnings = [line for line in err.splitlines() if line.startswith("Warning")]
    assert warnings == [
        "Warning: many.md: 12 code fence(s) repaired (-v for details)",
        "Warning: broken-fences.md: 2 code fence(s) repaired (-v for details)",
    ]
    code, _, err = _invoke("-v", "parse", str(many))
    assert sum("closing fence" in line for line in err.splitlines()) == 12
    idx = tmp_path / "idx"
    code, _, err = _invoke("index", str(many), "--index", str(idx))
    assert code == 0 and "warning: many.md: 12 code fence(s) repaired" in err


def test_one_nul_byte_does_not_make_a_plan_binary(tmp_path: Path) -> None:
    plan = tmp_path / "nul.md"
    plan.write_bytes("# Plan\n\n- [ ] Première tâche\n- [ ] Deu\x00xième tâche\n".encode())
    plans, failures = parse_paths([plan])
    assert not failures
    assert [t.text for t in plans[0].tasks] == ["Première tâche", "Deuxième tâche"]
    assert any("1 NUL byte(s) removed" in w.message and w.line == 4 for w in plans[0].warnings)
    text, warnings = decode(b"- [ ] a\x00\n- [ ] b\x00\n" + b"- [ ] c\n" * 2000, "x.md")
    assert "\x00" not in text and warnings  # a few NULs in a long text: still text


@pytest.mark.parametrize(
    "raw",
    [
        bytes.fromhex("89504e470d0a1a0a0000000d49484452") + bytes(range(256)) * 8,  # PNG
        "- [ ] tâche en UTF-16 sans BOM\n".encode("utf-16-le") * 20,
        b"\x00" * 4096,
        b"PK\x03\x04" + bytes(range(32)) * 64,  # a zip-like header and control bytes
    ],
)
def test_binary_files_are_still_refused(raw: bytes, tmp_path: Path) -> None:
    path = tmp_path / "bin.md"
    path.write_bytes(raw)
    plans, failures = parse_paths([path])
    assert not plans and "binary file" in failures[0].message


def test_export_never_overwrites_without_force(index_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "backup.planvec.tar"
    out.write_bytes(b"an older backup")
    code, _, err = _invoke("export", str(out), "--index", str(index_dir))
    assert code == 2 and "already exists" in err and "--force" in err
    assert out.read_bytes() == b"an older backup"
    code, stdout, err = _invoke("export", str(out), "--index", str(index_dir), "--force", "--json")
    assert code == 0, err
    assert json.loads(stdout)["points"] > 0 and out.stat().st_size > 100
    code, _, err = _invoke("export", str(tmp_path), "--index", str(index_dir))
    assert code == 2 and "Traceback" not in err


@pytest.mark.parametrize("value", ["-5", "0", "100000"])
def test_batch_sizes_out_of_range_are_refused(value: str, index_dir: Path) -> None:
    code, _, err = _invoke("index", str(EXAMPLES), "--index", str(index_dir), "--batch-size", value)
    assert code == 2 and "batch-size" in err
    code, _, err = _invoke(
        "index", str(EXAMPLES), "--index", str(index_dir), env={"PLANVEC_BATCH_SIZE": value}
    )
    assert code == 2 and "batch_size must be between 1 and 65536" in err


def test_library_refuses_a_negative_batch_size(tmp_path: Path) -> None:
    store = open_store(index_dir=tmp_path, qdrant_url="memory://")
    try:
        with pytest.raises(ConfigError, match="at least 1"):
            Syncer(store, "c", HashingEmbedder(), batch_size=-1)
        with pytest.raises(ConfigError, match="at least 1"):
            open_store(index_dir=tmp_path, qdrant_url="memory://", batch_size=0)
    finally:
        store.close()


@pytest.mark.skipif(not CORPUS.is_dir(), reason="the shared corpus is absent")
def test_shared_corpus_fence_warnings_fit_on_a_screen() -> None:
    code, _, err = _invoke("parse", str(CORPUS))
    assert code == 0
    lines = [line for line in err.splitlines() if line.startswith("Warning")]
    fence_lines = [line for line in lines if "code fence(s) repaired" in line]
    assert fence_lines and len(lines) < 60  # 217 lines at HEAD, one per repaired fence
    files = {line.split(": ")[1] for line in fence_lines}
    assert len(files) == len(fence_lines)  # one line per file
    repaired = sum(int(line.split(": ")[2].split()[0]) for line in fence_lines)
    _, _, detailed = _invoke("-v", "parse", str(CORPUS))
    assert repaired == sum("fence" in line for line in detailed.splitlines()) > 100
