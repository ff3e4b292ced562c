"""Files on disk: discovery, decoding, bad input, and ``planvec parse`` exit codes."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from planvec.cli.main import cli
from planvec.errors import SourceError
from planvec.records import Plan
from planvec.sources.base import Source
from planvec.sources.files import MarkdownPlanSource, parse_paths

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "examples" / "plans"


def invoke(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args))
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exc_info
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    root = tmp_path / "plans"
    (root / "b" / "deep").mkdir(parents=True)
    (root / ".git").mkdir()
    (root / ".planvec").mkdir()
    (root / "a.md").write_text("# A\n- [ ] a1\n", "utf-8")
    (root / "b" / "z.md").write_text("- [x] z1\n", "utf-8")
    (root / "b" / "deep" / "y.MD").write_text("- [ ] y1\n", "utf-8")
    (root / "b" / "notes.txt").write_text("- [ ] not a plan\n", "utf-8")
    (root / ".git" / "x.md").write_text("- [ ] hidden\n", "utf-8")
    (root / ".planvec" / "x.md").write_text("- [ ] hidden\n", "utf-8")
    (root / "plan de départ").mkdir()
    (root / "plan de départ" / "index.md").write_text("- [ ] accent\n", "utf-8")
    return root


def test_discovery_is_recursive_sorted_relative_and_skips_hidden(tree: Path) -> None:
    source = MarkdownPlanSource([tree])
    assert isinstance(source, Source)
    items = list(source.iter_plans())
    assert all(isinstance(i, Plan) for i in items)
    assert [i.path for i in items] == ["a.md", "b/deep/y.MD", "b/z.md", "plan de départ/index.md"]
    raw = (tree / "a.md").read_bytes()
    assert items[0].file_hash == hashlib.sha256(raw).hexdigest()
    # A file argument: its name; given twice (or inside a directory argument too): once.
    plans, failures = parse_paths([tree / "b" / "z.md", tree / "b" / "z.md"])
    assert [p.path for p in plans] == ["z.md"] and failures == []


def test_missing_argument_raises_source_error_and_cli_exits_1(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="no such file"):
        parse_paths([tmp_path / "nope"])
    code, out, err = invoke("parse", str(tmp_path / "nope"))
    assert code == 1 and out == ""
    assert "Error:" in err and "nope" in err and "Traceback" not in err


def test_bad_files_fail_alone_and_the_others_are_parsed(tmp_path: Path) -> None:
    root = tmp_path / "plans"
    root.mkdir()
    (root / "good.md").write_text("- [ ] good task\n", "utf-8")
    (root / "image.md").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)))
    (root / "empty.md").write_bytes(b"")
    (root / "latin1.md").write_bytes("- [ ] Créer la base de données\n".encode("cp1252"))
    (root / "mixed.md").write_bytes(b"- [ ] ok \xff\xfe broken\n- [x] second\n")
    damaged_bytes = "- [ ] Créer ✅ la base\n".encode() + b"- [x] bad \xff here\n"
    (root / "damaged.md").write_bytes(damaged_bytes)
    (root / "dead.md").symlink_to(root / "missing-target.md")
    (root / "utf16.md").write_bytes("- [ ] seize\n".encode("utf-16"))
    plans, failures = parse_paths([root])
    by_path = {p.path: p for p in plans}
    assert sorted(f.path for f in failures) == ["dead.md", "image.md"]
    messages = {f.path: f.message for f in failures}
    assert "binary" in messages["image.md"]
    assert "cannot read" in messages["dead.md"]
    assert [t.text for t in by_path["good.md"].tasks] == ["good task"]
    assert by_path["empty.md"].tasks == () and "empty" in by_path["empty.md"].warnings[0].message
    latin = by_path["latin1.md"]
    assert latin.tasks[0].text == "Créer la base de données"
    assert "invalid UTF-8" in latin.warnings[0].message
    mixed = by_path["mixed.md"]
    assert [t.checked for t in mixed.tasks] == [False, True]
    assert mixed.warnings and "line 1" in mixed.warnings[0].message
    assert by_path["utf16.md"].tasks[0].text == "seize"
    # Valid UTF-8 with one bad byte: accents kept, only the bad byte replaced.
    damaged = by_path["damaged.md"]
    assert [t.text for t in damaged.tasks] == ["Créer ✅ la base", "bad \ufffd here"]
    assert "line 2" in damaged.warnings[0].message and "U+FFFD" in damaged.warnings[0].message

    code, out, err = invoke("parse", str(root), "--json")
    assert code == 1
    lines = [json.loads(line) for line in out.splitlines()]
    assert {t["plan"] for t in lines} == {
        "damaged.md",
        "good.md",
        "latin1.md",
        "mixed.md",
        "utf16.md",
    }
    assert "Error: image.md: binary" in err and "Error: dead.md" in err
    assert "Warning: latin1.md" in err and "Traceback" not in err


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root reads anything")
def test_unreadable_file_and_directory(tmp_path: Path) -> None:
    root = tmp_path / "plans"
    (root / "locked").mkdir(parents=True)
    (root / "ok.md").write_text("- [ ] ok\n", "utf-8")
    (root / "secret.md").write_text("- [ ] secret\n", "utf-8")
    (root / "secret.md").chmod(0)
    (root / "locked").chmod(0)
    try:
        plans, failures = parse_paths([root])
    finally:
        (root / "secret.md").chmod(0o644)
        (root / "locked").chmod(0o755)
    assert [p.path for p in plans] == ["ok.md"]
    assert sorted(f.path for f in failures) == ["locked", "secret.md"]


def test_directory_given_where_a_file_is_expected(tmp_path: Path) -> None:
    (tmp_path / "odd.md").mkdir()
    (tmp_path / "odd.md" / "inner.md").write_text("- [ ] inner\n", "utf-8")
    plans, failures = parse_paths([tmp_path / "odd.md"])
    assert [p.path for p in plans] == ["inner.md"] and failures == []


def test_cli_summary_and_json_on_examples() -> None:
    code, out, err = invoke("parse", str(EXAMPLES))
    assert code == 0, err
    assert "roadmap-v3-plateforme.md" in out and "Phase 1" in out and "% " in out
    code, out, _ = invoke("parse", str(EXAMPLES), "--json")
    assert code == 0
    tasks = [json.loads(line) for line in out.splitlines()]
    assert len(tasks) >= 60
    required = {
        "plan",
        "line",
        "checked",
        "status",
        "text",
        "depth",
        "parent_line",
        "section",
        "key",
        "id",
        "parent_id",
        "content_hash",
        "metadata",
    }
    assert all(required <= set(t) for t in tasks)
    texts = " ".join(t["text"] for t in tasks)
    assert "sauvegarde de la base de données" in texts and "API documentation" in texts
    assert not any("fausse tâche" in t["text"] for t in tasks)
    assert not any("heading inside a fence" in " ".join(t["section"]) for t in tasks)
    code, out, _ = invoke("parse", "-h")
    assert code == 0 and "Example" in out
