"""Shared fixtures: a clean environment, temp home/cache, the shared corpus, store options."""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
import uuid
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"
CORPUS = SHARED / "corpus"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--qdrant-url",
        default=None,
        help="Also run the store contract suite against this real Qdrant server.",
    )
    parser.addoption(
        "--reliability-full",
        action="store_true",
        default=False,
        help="Run the full crash loop (>= 50 kills) instead of the shortened one.",
    )


@pytest.fixture(autouse=True)
def _clean_env(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """No PLANVEC_* leaks in from the developer's shell; home and cache are temporary."""
    for key in list(os.environ):
        if key.startswith("PLANVEC_") or key == "QDRANT_API_KEY":
            monkeypatch.delenv(key, raising=False)
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CACHE_HOME", str(home / ".cache"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("TRANSFORMERS_OFFLINE", "1")


@pytest.fixture
def corpus_dir() -> Iterator[Path]:
    """The shared real-plan corpus; the test skips cleanly when it is absent."""
    plans = CORPUS / "plans"
    if not plans.is_dir():
        pytest.skip("../shared/corpus is not available")
    yield plans


@pytest.fixture
def golden_dir() -> Iterator[Path]:
    golden = CORPUS / "golden"
    if not golden.is_dir():
        pytest.skip("../shared/corpus/golden is not available")
    yield golden


# -- a real PostgreSQL: pgserver (PostgreSQL 16 in a wheel) ------------------------------------
# One server per test session (about 1-3 s to start), one fresh database per test. As root,
# pgserver runs the server as a dedicated ``pgserver`` system user it creates. When the server
# cannot start (pgserver or psycopg missing, no way to run it) the tests that need it skip and
# say why. Used by tests/catalogue and tests/managers.


@pytest.fixture(scope="session")
def pg_server() -> Iterator[Any]:
    try:
        import psycopg  # noqa: F401

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # platformdirs warns about XDG_RUNTIME_DIR
            import pgserver
    except ImportError as exc:
        pytest.skip(
            f"needs the catalogue and test extras (pip install -e '.[test,catalogue]'): {exc}"
        )
    # not under pytest's basetemp: concurrent pytest sessions prune each other's old
    # basetemps, which would delete the data directory under a running server
    root = Path(tempfile.mkdtemp(prefix="planvec-pg-"))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            server = pgserver.get_server(root, cleanup_mode="stop")
    except Exception as exc:
        pytest.skip(f"PostgreSQL (pgserver) could not start here: {exc!r}")
    _throwaway_settings(server.get_uri())
    try:
        yield server
    finally:
        _stop_now(server)
        shutil.rmtree(root, ignore_errors=True)


def _throwaway_settings(uri: str) -> None:
    """No fsync on this test-only server: faster tests and a quick stop (data is deleted)."""
    import psycopg

    with psycopg.connect(uri, autocommit=True) as conn:
        for name, value in (("fsync", "off"), ("synchronous_commit", "off")):
            conn.execute(f"ALTER SYSTEM SET {name} = {value}")
        conn.execute("SELECT pg_reload_conf()")


def _stop_now(server: Any) -> None:
    """Stop without a shutdown checkpoint (the data directory is deleted next).

    pgserver's own cleanup would then wait on the stopped postmaster (a zombie where PID 1
    does not reap), so it is unregistered once the server is down.
    """
    from pgserver._commands import pg_ctl

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            pg_ctl(["-w", "-m", "immediate", "stop"], pgdata=server.pgdata, user=server.system_user)
        except Exception:
            server.cleanup()
            return
    atexit.unregister(server._cleanup)


@pytest.fixture(scope="session")
def _free_databases() -> list[str]:
    """Databases of the session server that hold no ``planvec`` schema (reusable)."""
    return []


@pytest.fixture
def new_dsn(pg_server: Any, _free_databases: list[str]) -> Iterator[Callable[[], str]]:
    """A factory of DSNs, each to an empty database (no ``planvec`` schema).

    Databases are recycled rather than created per test: the catalogue lives only in the
    ``planvec`` schema, so dropping that schema gives an empty database again, while each
    CREATE DATABASE copies ~7 MB and each DROP DATABASE forces a checkpoint.
    """
    import psycopg

    used: list[str] = []

    def make() -> str:
        if _free_databases:
            name = _free_databases.pop()
        else:
            name = "t_" + uuid.uuid4().hex[:16]
            with psycopg.connect(pg_server.get_uri(), autocommit=True) as conn:
                conn.execute(f"CREATE DATABASE {name}")
        used.append(name)
        return str(pg_server.get_uri(name))

    yield make
    for name in used:
        with psycopg.connect(pg_server.get_uri(name), autocommit=True) as conn:
            # backends of killed clients may linger for a moment, holding locks
            conn.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
            conn.execute("DROP SCHEMA IF EXISTS planvec CASCADE")
        _free_databases.append(name)


@pytest.fixture
def dsn(new_dsn: Callable[[], str]) -> str:
    """A DSN to an empty database."""
    return new_dsn()
