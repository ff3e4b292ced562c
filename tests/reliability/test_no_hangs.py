"""Issue 19, class 5: no hangs, bounded waits.

* A FIFO (or a device) named ``*.md`` is skipped with a warning instead of blocking
  ``parse`` and ``index`` forever: in a directory walk, given as an argument, behind a
  symlink.
* A server that accepts connections and never answers fails ``search`` (and ``health``,
  ``index``) within the ``--timeout`` deadline, retries included, instead of after
  attempts x request timeout (153 s at HEAD).

Every subprocess here has a hard timeout far below a hang, so a regression fails the test
instead of freezing the suite.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from planvec.errors import StoreTimeout
from planvec.store.retry import RetryPolicy

pytestmark = pytest.mark.reliability

PLAN = "# Plan\n\n- [ ] Écrire la documentation\n- [x] Choisir la base\n"


def _run(*args: str, timeout: float = 60, **env: str) -> tuple[int, str, str, float]:
    started = time.monotonic()
    proc = subprocess.run(
        [sys.executable, "-m", "planvec", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, "PLANVEC_EMBEDDER": "hashing", **env},
    )
    return proc.returncode, proc.stdout, proc.stderr, time.monotonic() - started


@pytest.fixture
def plans_with_fifo(tmp_path: Path) -> Path:
    root = tmp_path / "plans"
    root.mkdir()
    (root / "good.md").write_text(PLAN, encoding="utf-8")
    os.mkfifo(root / "pipe.md")  # the example of the issue
    (root / "zero.md").symlink_to("/dev/zero")  # a device that never ends
    return root


def test_fifo_and_device_in_a_directory_are_skipped_with_a_warning(plans_with_fifo: Path) -> None:
    code, out, err, _ = _run("parse", str(plans_with_fifo), "--json", timeout=60)
    assert code == 0, err
    assert len(out.splitlines()) == 2  # both tasks of good.md
    assert "pipe.md: a FIFO (named pipe) named *.md; skipped" in err
    assert "zero.md: a device named *.md; skipped" in err
    assert err.count("pipe.md") == 1  # warned once, though the tree is walked several times
    assert "Traceback" not in err


def test_index_with_a_fifo_finishes_and_indexes_the_rest(
    plans_with_fifo: Path, tmp_path: Path
) -> None:
    code, out, err, _ = _run(
        "index", str(plans_with_fifo), "--index", str(tmp_path / "idx"), "--json", timeout=120
    )
    assert code == 0, err
    assert '"added": 2' in out
    assert "FIFO" in err


def test_fifo_given_as_an_argument_is_a_per_file_failure(plans_with_fifo: Path) -> None:
    code, _, err, _ = _run(
        "parse", str(plans_with_fifo / "pipe.md"), str(plans_with_fifo / "good.md"), timeout=60
    )
    assert code == 1  # that file failed, the other one was parsed
    assert "pipe.md: a FIFO (named pipe), not a regular file; skipped" in err
    assert "good.md" in err or "Traceback" not in err


@pytest.fixture
def silent_server() -> Iterator[str]:
    """A loopback server that accepts every connection and never sends a byte."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.1)
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except OSError:
                continue
            accepted.append(conn)  # kept open, never answered

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    finally:
        stop.set()
        thread.join(2)
        for conn in accepted:
            conn.close()
        listener.close()


@pytest.mark.parametrize(
    ("command", "how"),
    [
        (("search", "sauvegarde"), "flag"),  # the example of the issue
        (("search", "sauvegarde", "--json"), "env"),
        (("health", "--json"), "flag"),
        (("check",), "flag"),
    ],
)
def test_a_server_that_never_answers_fails_within_the_deadline(
    silent_server: str, tmp_path: Path, command: tuple[str, ...], how: str
) -> None:
    args = [*command, "--qdrant-url", silent_server]
    env = {"PLANVEC_TIMEOUT": "1"} if how == "env" else {}
    if how == "flag":
        args += ["--timeout", "1"]
    code, out, err, seconds = _run(*args, timeout=60, **env)
    assert code != 0
    assert seconds < 15, f"took {seconds:.1f}s with a 1 s deadline"  # 153 s at HEAD
    assert "Traceback" not in err
    text = out + err
    assert "did not answer" in text or "timed out" in text.lower(), text
    if command[0] == "search":
        assert "--timeout" in err  # the message says how to wait longer


def test_the_deadline_bounds_the_retries_not_each_attempt() -> None:
    now = [0.0]
    sleeps: list[float] = []
    calls = [0]

    def slow_timeout() -> None:
        calls[0] += 1
        now[0] += 4.0  # each attempt waits 4 s for a reply, then times out
        raise TimeoutError("read timed out")

    def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        now[0] += seconds

    policy = RetryPolicy(
        attempts=10, base_delay=0.5, ceiling=2, sleep=sleep, deadline=10, clock=lambda: now[0]
    )
    with pytest.raises(StoreTimeout, match="deadline is 10s") as info:
        policy.run("search", slow_timeout, backend="server", location="http://h:6333")
    assert calls[0] < 10 and now[0] <= 10 + 4.0  # at most one attempt runs past the deadline
    assert "--timeout" in str(info.value)
    with pytest.raises(ValueError):
        RetryPolicy(deadline=0)
