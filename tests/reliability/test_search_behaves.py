"""Issue 19, class 8: search that behaves.

* Equal scores come back in the same order from identical builds (score, plan, line, id).
* Tasks of identical text collapse into one hit listing the others (``also_in``); the
  library does it too; ``--no-collapse`` keeps every copy.
* Whitespace-only tasks are not indexed (no blank hits), and check agrees.
* Long texts are shortened in human output only (``--json`` keeps them whole).
* ``--plan phase-2`` means the folder, without a glob (and not ``phase-20``).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from planvec.cli.index_cmds import shorten
from planvec.cli.main import cli
from planvec.records import SearchHit
from planvec.search import collapse_duplicates, matching_plans

pytestmark = pytest.mark.reliability

REPEATED = "Mettre à jour la documentation de déploiement"


def _invoke(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args), env={"PLANVEC_EMBEDDER": "hashing"})
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result.exit_code, result.stdout, result.stderr


def _tree(root: Path, order: list[str]) -> Path:
    """Plans whose tasks repeat one text (as 5,002 texts repeat across the shared corpus)."""
    for name in order:
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        body = "\n".join(f"- [ ] {REPEATED}" if i % 2 else f"- [ ] Tâche {name} {i}"
                         for i in range(6))  # fmt: skip
        path.write_text(f"# {name}\n\n## Section\n\n{body}\n- [ ]    \n- [x] \u00a0\n")
    return root


NAMES = ["phase-1/a.md", "phase-2/b.md", "phase-2/c.md", "phase-20/d.md", "e.md"]


def _search(idx: Path, *extra: str) -> list[dict[str, object]]:
    code, out, err = _invoke("search", REPEATED, "--index", str(idx), "--json", *extra)
    assert code == 0, err
    hits: list[dict[str, object]] = json.loads(out)
    return hits


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One index for the read-only tests of this module (built once: the suite stays fast)."""
    tmp_path = tmp_path_factory.mktemp("built")
    idx = tmp_path / "idx"
    code, out, err = _invoke(
        "index", str(_tree(tmp_path / "plans", NAMES)), "--index", str(idx), "--json"
    )
    assert code == 0, err
    assert json.loads(out)["tasks"] == 6 * len(NAMES)  # the two blank tasks of each plan: out
    assert "task has no text; not indexed" in err
    return idx


@pytest.fixture
def index_dir(built: Path) -> Path:
    return built


def test_identical_builds_give_identical_orders(index_dir: Path, tmp_path: Path) -> None:
    other = tmp_path / "idx2"  # same plans, written in the reverse order
    plans = _tree(tmp_path / "plans2", list(reversed(NAMES)))
    assert _invoke("index", str(plans), "--index", str(other))[0] == 0
    first = _search(index_dir, "--no-collapse", "-n", "15")
    second = _search(other, "--no-collapse", "-n", "15")
    key = [(h["score"], h["plan"], h["line"]) for h in first]
    assert key == [(h["score"], h["plan"], h["line"]) for h in second]
    ranked = [(-float(h["score"]), str(h["plan"]), int(h["line"])) for h in first]  # type: ignore[arg-type]
    assert ranked == sorted(ranked)  # score desc, then plan, then line


def test_duplicates_collapse_into_one_hit_with_its_other_locations(index_dir: Path) -> None:
    hits = _search(index_dir)
    same = [h for h in hits if h["text"] == REPEATED]
    assert len(same) == 1  # 15 copies (3 per plan x 5 plans) -> one hit
    also = same[0]["also_in"]
    assert isinstance(also, list) and len(also) == 3 * len(NAMES) - 1  # every other copy
    assert {"plan", "line", "id", "status", "score"} <= set(also[0])
    texts = [h["text"] for h in hits]
    assert len(texts) == len(set(texts))  # no other text repeats either
    kept = _search(index_dir, "--no-collapse")
    assert [h["text"] for h in kept].count(REPEATED) == 10  # the whole first page
    assert all(h["also_in"] == [] for h in kept)


def test_human_output_lists_other_locations(index_dir: Path) -> None:
    code, out, _ = _invoke("search", REPEATED, "--index", str(index_dir), "-n", "3")
    assert code == 0
    assert out.count(REPEATED) == 1 and "also in " in out and "more" in out


def test_blank_tasks_are_not_indexed_and_check_agrees(index_dir: Path) -> None:
    hits = _search(index_dir, "--no-collapse", "-n", "100")
    assert hits and all(str(h["text"]).strip() for h in hits)
    code, out, err = _invoke("check", str(index_dir.parent / "plans"), "--index", str(index_dir))
    assert code == 0, out + err


def test_plan_filter_matches_a_folder_without_a_glob(index_dir: Path) -> None:
    for value in ("phase-2", "phase-2/", "./phase-2"):
        plans = {h["plan"] for h in _search(index_dir, "--plan", value, "--no-collapse")}
        assert plans == {"phase-2/b.md", "phase-2/c.md"}, value  # not phase-20/d.md
    exact = {h["plan"] for h in _search(index_dir, "--plan", "e.md")}
    assert exact == {"e.md"}
    assert _search(index_dir, "--plan", "phase-9") == []
    assert matching_plans("phase-2/*", ["phase-2/b.md", "phase-20/d.md"]) == ["phase-2/b.md"]


def test_long_texts_are_shortened_in_human_output_only(tmp_path: Path) -> None:
    long_text = "Migrer " + " ".join(f"composant{i}" for i in range(400))
    plans = tmp_path / "plans"
    plans.mkdir()
    (plans / "long.md").write_text(f"# Long\n\n- [ ] {long_text}\n")
    idx = tmp_path / "idx"
    assert _invoke("index", str(plans), "--index", str(idx))[0] == 0
    code, out, _ = _invoke("search", "Migrer composant1", "--index", str(idx))
    assert code == 0
    assert max(len(line) for line in out.splitlines()) < 260
    assert "…" in out
    hit = json.loads(_invoke("search", "Migrer composant1", "--index", str(idx), "--json")[1])[0]
    assert hit["text"] == long_text  # --json keeps it whole
    assert shorten("abc def", 10) == "abc def" and len(shorten("word " * 100, 50)) <= 50


def test_library_collapse_keeps_rank_order() -> None:
    def hit(i: int, text: str, score: float) -> SearchHit:
        return SearchHit(str(i), score, f"p{i}.md", i, text, (), "todo")

    hits = [hit(1, "a", 0.9), hit(2, "b", 0.8), hit(3, " a ", 0.7), hit(4, "c", 0.6)]
    out = collapse_duplicates(hits)
    assert [h.id for h in out] == ["1", "2", "4"]
    assert [loc.plan for loc in out[0].also_in] == ["p3.md"]
    assert out[0].to_dict()["also_in"][0]["line"] == 3


def test_also_in_lists_every_copy_not_only_the_candidates(tmp_path: Path) -> None:
    plans = tmp_path / "plans"
    plans.mkdir()
    copies = "".join(f"- [{'x' if i % 3 == 0 else ' '}] {REPEATED}\n" for i in range(70))
    (plans / "many.md").write_text(f"# Many\n\n{copies}- [ ] Autre chose\n")
    idx = tmp_path / "idx"
    assert _invoke("index", str(plans), "--index", str(idx))[0] == 0
    (hit,) = _search(idx, "-n", "1")  # 41 candidates at most for one hit: 70 copies
    also = hit["also_in"]
    assert isinstance(also, list) and len(also) == 69
    assert sum(loc["score"] is None for loc in also) > 0  # copies found beyond the candidates
    lines = [loc["line"] for loc in also]
    assert lines == sorted(lines)
    todo = _search(idx, "-n", "1", "--status", "todo")[0]["also_in"]
    assert isinstance(todo, list) and len(todo) == 46 - 1  # the filters apply to copies too
