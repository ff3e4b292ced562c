"""``planvec managers``, ``search --kind`` and ``deps links`` through the click runner."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from planvec.cli.main import cli

PLAN = """\
# Plan front

## Phase 1

- [ ] **1.1** Migrate the admin app to React 18
- [ ] **1.2** Replace the HTTP client of the API by httpx
- [x] **1.3** Write the release notes
"""


def invoke(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def test_managers_list_json_and_plugins() -> None:
    code, out, _ = invoke("managers", "list", "--json")
    assert code == 0
    rows = json.loads(out)
    assert {"name": "dependencies", "kind": "dependency", "collection": "planvec_dependencies",
            "order": 10} in rows  # fmt: skip
    code, out, _ = invoke("plugins", "--json")
    listed = json.loads(out)
    assert code == 0 and "dependencies" in listed["managers"]
    builtin = next(p for p in listed["plugins"] if p["name"] == "planvec.managers.dependencies")
    assert builtin["builtin"] and builtin["hooks"] == ["register_managers"]


def test_run_report_search_kinds_and_links(project: Path, tmp_path: Path) -> None:
    idx = str(tmp_path / "idx")
    report = tmp_path / "managers.md"
    code, out, err = invoke(
        "managers", "run", "dependencies", str(project), "--index", idx, "--offline", "--json",
        "--report", str(report),
    )  # fmt: skip
    assert code == 0, err
    data = json.loads(out)
    assert data["ok"] and data["managers"][0]["items"] == 32
    assert "react" in report.read_text(encoding="utf-8")
    # `planvec check` compares a manager's collection with what that manager reads
    code, out, _ = invoke("check", str(project), "--index", idx, "--offline", "--json",
                          "--collection", "planvec_dependencies")  # fmt: skip
    assert code == 0 and json.loads(out)["status"] == "ok"

    plans = tmp_path / "plans"
    plans.mkdir()
    (plans / "front.md").write_text(PLAN, encoding="utf-8")
    assert invoke("index", str(plans), "--index", idx, "--offline", "--silent")[0] == 0

    code, out, _ = invoke("search", "react", "--kind", "dependency", "--index", idx, "--offline",
                          "--json", "-n", "3")  # fmt: skip
    hits = json.loads(out)
    assert code == 0 and hits and {h["kind"] for h in hits} == {"dependency"}
    assert hits[0]["metadata"]["name"] == "react"

    code, out, _ = invoke("search", "react", "--kind", "dependency,task", "--index", idx,
                          "--offline", "--json", "-n", "50")  # fmt: skip
    kinds = {h.get("kind", "task") for h in json.loads(out)}
    assert code == 0 and kinds == {"dependency", "task"}
    scores = [h["score"] for h in json.loads(out)]
    assert scores == sorted(scores, reverse=True)

    code, out, _ = invoke("search", "react", "--index", idx, "--offline", "--json")
    assert code == 0 and all("kind" not in h for h in json.loads(out))  # plans: unchanged

    code, _, err = invoke("search", "x", "--kind", "nope", "--index", idx, "--offline")
    assert code == 2 and "unknown kind 'nope'" in err and "dependency" in err

    # both ways: the tasks naming react, and the dependencies of task front.md:5
    code, out, _ = invoke("deps", "links", "react", "--index", idx, "--offline", "--json",
                          "--threshold", "1.0")  # fmt: skip
    links = json.loads(out)
    assert code == 0 and [(x["task"]["line"], x["how"]) for x in links] == [(5, "name")]
    code, out, _ = invoke("deps", "links", "--task", "front.md:6", "--index", idx, "--offline",
                          "--json", "--threshold", "1.0")  # fmt: skip
    assert code == 0 and {x["dependency"] for x in json.loads(out)} == {"httpx"}
    code, _, err = invoke("deps", "links", "left-pad", "--index", idx, "--offline")
    assert code == 2 and "no indexed dependency is called 'left-pad'" in err


def test_unknown_manager_name_is_a_path_and_missing_paths_fail_cleanly(tmp_path: Path) -> None:
    code, _, err = invoke("managers", "run", str(tmp_path / "absent"), "--index",
                          str(tmp_path / "i"), "--offline")  # fmt: skip
    assert code == 1 and "does not exist" in err


def test_search_kinds_skips_a_collection_not_built_yet(tmp_path: Path) -> None:
    idx = str(tmp_path / "idx")
    plans = tmp_path / "plans"
    plans.mkdir()
    (plans / "front.md").write_text(PLAN, encoding="utf-8")
    assert invoke("index", str(plans), "--index", idx, "--offline", "--silent")[0] == 0
    code, out, _ = invoke("search", "react", "--kind", "task,dependency", "--index", idx,
                          "--offline", "--json")  # fmt: skip
    assert code == 0 and json.loads(out) and all("kind" not in h for h in json.loads(out))
    code, _, err = invoke("search", "react", "--kind", "dependency", "--index", idx, "--offline")
    assert code != 0 and "planvec managers run" in err and "planvec_dependencies" in err
