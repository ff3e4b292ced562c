"""The plugin registry: built-ins through the hooks, and a real plugin installed by pip.

The example plugin (examples/plugins/planvec-example-plugin) is pip-installed into a
temporary directory (no network, no build isolation) that only the subprocesses below put
on ``sys.path``: the test venv is never modified.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from planvec import plugins
from planvec.errors import ConfigError
from planvec.hookspecs import hookimpl
from planvec.index import sources_for
from planvec.records import Plan

REPO = Path(__file__).resolve().parent.parent
EXAMPLE = REPO / "examples" / "plugins" / "planvec-example-plugin"


def test_builtins_register_through_the_hooks() -> None:
    names = {p.name: p for p in plugins.loaded_plugins()}
    builtin = names["planvec.builtin"]
    assert builtin.builtin and set(builtin.hooks) == {"register_sources", "register_embedders"}
    reg = plugins.registry()
    assert "markdown" in reg.sources and {"auto", "hashing", "onnx"} <= set(reg.embedders)
    with pytest.raises(ConfigError, match="unknown source 'nope'"):
        sources_for([REPO / "examples" / "plans"], kind="nope")


class _FakePlugin:
    @hookimpl
    def register_embedders(self, register: Callable[..., None]) -> None:
        from planvec.embed.hashing import HashingEmbedder

        register("fake-16", lambda cache_dir: HashingEmbedder(16))


def test_a_registered_plugin_adds_an_embedder_and_settings_accept_it(tmp_path: Path) -> None:
    from planvec.settings import load_settings
    from planvec.wiring import open_embedder

    fake = _FakePlugin()
    plugins.plugin_manager().register(fake, name="fake")
    plugins.refresh()
    plugins.registry()  # built before settings are read, as the CLI does
    try:
        settings = load_settings(env={}, embedder="fake-16", cache_dir=tmp_path)
        assert open_embedder(settings).dimension == 16
    finally:
        plugins.plugin_manager().unregister(fake)
        plugins.refresh()
    assert "fake-16" not in plugins.registry().embedders
    with pytest.raises(ConfigError, match="unknown embedder 'fake-16'"):
        load_settings(env={}, embedder="fake-16")


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The example plugin, pip-installed into a temporary target directory."""
    target = tmp_path_factory.mktemp("site")
    build = tmp_path_factory.mktemp("build")
    source = build / "src"  # setuptools writes build/ and egg-info beside the sources
    shutil.copytree(EXAMPLE, source, ignore=shutil.ignore_patterns("build", "*.egg-info"))
    done = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation",
         "--no-index", "--target", str(target), str(source)],
        capture_output=True, text=True, env=dict(os.environ, TMPDIR=str(build)),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return target


def _planvec(
    target: Path, *args: str, allow: str | None = None
) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, PYTHONPATH=str(target))
    env.pop("PLANVEC_PLUGINS", None)
    if allow is not None:
        env["PLANVEC_PLUGINS"] = allow
    return subprocess.run(
        [sys.executable, "-m", "planvec", *args], capture_output=True, text=True, env=env
    )


def test_the_example_plugin_is_listed_and_its_hooks_take_effect(
    installed: Path, tmp_path: Path
) -> None:
    listed = _planvec(installed, "plugins", "--json")
    assert listed.returncode == 0, listed.stderr
    data = json.loads(listed.stdout)
    example = next(p for p in data["plugins"] if p["name"] == "example")
    assert example["version"] == "0.1.0" and not example["builtin"]
    assert set(example["hooks"]) == {"register_commands", "register_embedders", "register_sources"}
    assert "todo-txt" in data["sources"] and "example-hash64" in data["embedders"]

    todo = tmp_path / "todo"
    todo.mkdir()
    (todo / "home.txt").write_text("x buy milk\nfix the roof\n\ncall the plumber\n")
    counted = _planvec(installed, "example-count", str(todo))
    assert counted.returncode == 0, counted.stderr
    assert counted.stdout.strip() == "home.txt: 1/3 done"

    index = tmp_path / "idx"
    plans = str(REPO / "examples" / "plans")
    run = _planvec(installed, "index", plans, "--index", str(index), "--embedder", "example-hash64")
    assert run.returncode == 0, run.stderr
    health = _planvec(installed, "health", "--index", str(index), "--json")
    assert json.loads(health.stdout)["dimension"] == 64


def test_planvec_plugins_restricts_loading(installed: Path) -> None:
    none = json.loads(_planvec(installed, "plugins", "--json", allow="").stdout)
    # planvec's own only: the builtin plugin and the builtin manager modules
    assert none["plugins"][0]["name"] == "planvec.builtin"
    assert all(p["builtin"] and p["name"].startswith("planvec.") for p in none["plugins"])
    assert "planvec.managers.dependencies" in [p["name"] for p in none["plugins"]]
    only = json.loads(
        _planvec(installed, "plugins", "--json", allow="planvec-example-plugin").stdout
    )
    assert "example" in [p["name"] for p in only["plugins"]]
    refused = _planvec(installed, "example-count", ".", allow="")
    assert refused.returncode == 2  # no such command


def test_example_source_reads_plans_in_process(installed: Path, tmp_path: Path) -> None:
    sys.path.insert(0, str(installed))
    try:
        import planvec_example_plugin as example  # type: ignore[import-not-found]
    finally:
        sys.path.remove(str(installed))
    (tmp_path / "a.txt").write_text("one\nx two\n")
    (plan,) = example.TodoTxtSource([tmp_path]).iter_plans()
    assert isinstance(plan, Plan) and [t.status for t in plan.tasks] == ["todo", "done"]
