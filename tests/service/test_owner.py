"""A real `planvec serve` (uvicorn on 127.0.0.1) and the CLI as its client.

* CLI commands routed through the owner print what they print in process (same --json).
* 8 concurrent `planvec search` processes all succeed while the owner holds the shard.
* A search during a full index succeeds and sees each task before or after its change.
* SIGTERM during a sync: exit 0, and the next owner converges to a clean full index.
* Off loopback the token is required.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from planvec.fingerprints import RACY_NS
from planvec.service.discovery import discovery_path, read_discovery

from .conftest import Owner, big_plan, cli_env, run_cli, start_owner

pytestmark = pytest.mark.timeout(240)


def _http(owner: Owner, method: str, path: str, body: object = None) -> tuple[int, object]:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(
        owner.info.url + path, data=data, method=method,
        headers={**owner.headers, "Content-Type": "application/json"},
    )  # fmt: skip
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        with exc:
            return exc.code, json.loads(exc.read())


def _past_racy_window(root: Path) -> None:
    """Wait until every file under ``root`` is older than the fingerprints' racy window:
    a file read within it is recorded untrusted (``planvec.fingerprints``), so a run made
    later records it again, trusted, and the manifest that ``check`` prints would differ
    between two runs only by how fast the machine ran them."""
    newest = max(max(p.stat().st_mtime_ns, p.stat().st_ctime_ns) for p in root.rglob("*"))
    wait = (newest + RACY_NS) / 1e9 + 0.1 - time.time()
    if wait > 0:
        time.sleep(wait)


def test_cli_routed_through_owner_prints_the_same(
    plan_dir: Path, tmp_path: Path, owner_factory: list[Owner]
) -> None:
    _past_racy_window(plan_dir)
    assert run_cli("index", str(plan_dir), cwd=tmp_path).returncode == 0
    commands = [
        ["search", "sauvegarde de la base", "--json"],
        ["search", "API documentation", "--status", "todo", "--limit", "3"],
        ["index", str(plan_dir), "--json"],
        ["index", str(plan_dir), "--dry-run"],
        ["check", str(plan_dir), "--json"],
        ["quality", "--sample", "5", "--json"],
        ["health", "--json"],
    ]
    local = [run_cli(*args, cwd=tmp_path) for args in commands]  # no owner yet: in process
    owner = start_owner(tmp_path)
    owner_factory.append(owner)
    for args, mine in zip(commands, local, strict=True):
        routed = run_cli(*args, cwd=tmp_path)
        assert routed.returncode == mine.returncode, (args, routed.stderr)
        assert _normalize(routed.stdout) == _normalize(mine.stdout), args
    direct = run_cli("search", "sauvegarde", cwd=tmp_path, PLANVEC_OWNER="off")
    assert direct.returncode == 2 and "open in another process" in direct.stderr
    missing = run_cli("search", "x", "--index", str(tmp_path / "nothing"), cwd=tmp_path)
    assert missing.returncode == 1 and "run `planvec index PATH` first" in missing.stderr
    assert owner.stop() == 0
    assert not discovery_path(tmp_path / ".planvec", None, "planvec_tasks", tmp_path).exists()


def _normalize(text: str) -> str:
    """Outputs differ only by timings and timestamps."""
    import re

    text = re.sub(r'"seconds": [0-9.]+', '"seconds": 0', text)
    text = re.sub(r"in [0-9.]+s", "in Xs", text)
    text = re.sub(r'"(updated_at|created_at|last_updated)[^,}]*', "TS", text)
    text = re.sub(r"manifest (updated_at|created_at)[^\n]*", "TS", text)
    text = re.sub(r"(last_sync\.seconds)[^\n]*", "TS", text)
    return text


def test_eight_concurrent_searches_all_succeed(
    plan_dir: Path, tmp_path: Path, owner_factory: list[Owner]
) -> None:
    owner = start_owner(tmp_path, str(plan_dir))
    owner_factory.append(owner)
    _wait_ready(owner)
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "planvec", "search", f"sauvegarde {i}", "--json"],
            cwd=tmp_path,
            env=cli_env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for i in range(8)
    ]
    results = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0] * 8, [err for _, err in results]
    assert all(json.loads(out) for out, _ in results)


def _wait_ready(owner: Owner, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status, body = _http(owner, "GET", "/readyz")
        ok = status == 200 and isinstance(body, dict)
        if ok and body["fresh"] and body["last_sync_at"] and not body["sync_running"]:  # type: ignore[index]
            return
        time.sleep(0.1)
    raise AssertionError("owner never became ready")


def test_search_during_full_index_sees_before_or_after(
    tmp_path: Path, owner_factory: list[Owner]
) -> None:
    plans = tmp_path / "plans"
    plans.mkdir()
    for i in range(6):
        (plans / f"p{i}.md").write_text(big_plan(300, f"v1-{i}"), encoding="utf-8")
    owner = start_owner(tmp_path)
    owner_factory.append(owner)
    errors: list[str] = []
    texts: set[str] = set()
    done = threading.Event()

    def search_loop() -> None:
        while not done.is_set():
            out = run_cli("search", "tâche numéro 7", "--json", "--limit", "50", cwd=tmp_path)
            if out.returncode:
                errors.append(out.stderr)
            else:
                texts.update(hit["text"] for hit in json.loads(out.stdout))

    first = run_cli("index", "plans", "--json", cwd=tmp_path)
    searcher = threading.Thread(target=search_loop)
    searcher.start()
    try:
        for i in range(6):  # every task changes: each is seen old or new, never else
            (plans / f"p{i}.md").write_text(big_plan(300, f"v2-{i}"), encoding="utf-8")
        second = run_cli("index", "plans", "--json", cwd=tmp_path)
    finally:
        done.set()
        searcher.join(timeout=120)
    assert first.returncode == 0 and second.returncode == 0, first.stderr + second.stderr
    assert json.loads(second.stdout)["updated"] == 1800
    assert not errors
    assert texts and all(" v1-" in t or " v2-" in t for t in texts)


def test_sigterm_mid_sync_exits_zero_and_restart_converges(
    tmp_path: Path, owner_factory: list[Owner]
) -> None:
    plans = tmp_path / "plans"
    plans.mkdir()
    for i in range(40):
        (plans / f"p{i:02}.md").write_text(big_plan(150, str(i)), encoding="utf-8")
    owner = start_owner(tmp_path)
    owner_factory.append(owner)
    result: dict[str, object] = {}
    syncing = threading.Thread(
        target=lambda: result.update(r=_http(owner, "POST", "/sync", {"paths": [str(plans)]}))
    )
    syncing.start()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:  # wait until the sync has written something
        if _http(owner, "GET", "/readyz")[1].get("sync_running"):  # type: ignore[union-attr]
            time.sleep(0.3)
            break
        time.sleep(0.02)
    owner.proc.send_signal(signal.SIGTERM)
    assert owner.proc.wait(timeout=60) == 0
    syncing.join(timeout=60)
    status, body = result["r"]  # type: ignore[misc]
    assert status == 503 and body["title"] == "SyncCancelled"  # type: ignore[index]
    again = start_owner(tmp_path, str(plans))
    owner_factory.append(again)
    _wait_ready(again)
    check = run_cli("check", "plans", "--json", cwd=tmp_path)
    assert check.returncode == 0, check.stdout[:2000]
    assert json.loads(check.stdout)["points"] == 6000
    assert again.stop() == 0


def test_token_enforced_off_loopback(
    plan_dir: Path, tmp_path: Path, owner_factory: list[Owner]
) -> None:
    refused = run_cli("serve", "--host", "0.0.0.0", "--index", str(tmp_path / "i"), cwd=tmp_path)
    assert refused.returncode == 2 and "PLANVEC_API_TOKEN" in refused.stderr
    owner = start_owner(
        tmp_path, str(plan_dir), "--host", "0.0.0.0", PLANVEC_API_TOKEN="s3cret-token"
    )
    owner_factory.append(owner)
    assert owner.info.token == "s3cret-token"
    _wait_ready(owner)
    port = owner.info.url.rsplit(":", 1)[1]
    request = urllib.request.Request(f"http://127.0.0.1:{port}/plans")
    with pytest.raises(urllib.error.HTTPError) as denied:
        urllib.request.urlopen(request, timeout=30)
    assert denied.value.code == 401
    denied.value.close()
    request.add_header("Authorization", "Bearer s3cret-token")
    with urllib.request.urlopen(request, timeout=30) as ok:
        assert json.loads(ok.read())["total"]["plans"] == 2
    assert owner.stop() == 0
    assert owner.proc.stderr is not None
    assert "s3cret-token" not in owner.proc.stderr.read()  # never logged


@pytest.mark.slow
def test_auto_start_owner_then_idle_exit(plan_dir: Path, tmp_path: Path) -> None:
    assert run_cli("index", str(plan_dir), cwd=tmp_path).returncode == 0
    first = run_cli("search", "sauvegarde", "--json", cwd=tmp_path,
                    PLANVEC_OWNER="start", PLANVEC_OWNER_IDLE="3")  # fmt: skip
    assert first.returncode == 0, first.stderr
    assert "starting an index owner" in first.stderr and json.loads(first.stdout)
    path = discovery_path(tmp_path / ".planvec", None, "planvec_tasks", tmp_path)
    info = read_discovery(path)
    assert info is not None
    second = run_cli("search", "sauvegarde", "--json", cwd=tmp_path, PLANVEC_OWNER="start")
    assert second.returncode == 0 and "starting" not in second.stderr  # reuses it
    assert second.stdout == first.stdout
    deadline = time.monotonic() + 60
    while path.exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not path.exists()  # exited after 3 s idle, and cleaned up
    time.sleep(1)
    with pytest.raises(urllib.error.URLError):  # nothing listens any more
        urllib.request.urlopen(info.url + "/healthz", timeout=5)
