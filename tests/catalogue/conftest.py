"""A real PostgreSQL for the catalogue tests: ``pgserver`` (PostgreSQL 16 in a wheel).

One server per test session (about 1-3 s to start), one fresh database per test. As root,
pgserver runs the server as a dedicated ``pgserver`` system user it creates. When the server
cannot start (pgserver or psycopg missing, no way to run it) the tests that need it skip and
say why.
"""

from __future__ import annotations

import atexit
import shutil
import tempfile
import uuid
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from planvec.records import Plan
from planvec.sources.files import parse_paths


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


def query(dsn: str, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    import psycopg

    with psycopg.connect(dsn, autocommit=True) as conn:
        return list(conn.execute(sql, params).fetchall())


def catalogue_tasks(dsn: str) -> dict[str, tuple[Any, ...]]:
    """Every task row (all columns but timestamps and hashes), keyed by id."""
    rows = query(
        dsn,
        "SELECT id::text, plan, key, text, status, synced_status, section, section_path,"
        " parent_id::text, depth, metadata, content_hash, line FROM planvec.tasks",
    )
    return {row[0]: tuple(row[1:]) for row in rows}


def expected_tasks(paths: list[Path]) -> dict[str, tuple[Any, ...]]:
    """What ``catalogue_tasks`` must hold for these plans, from the parser alone."""
    plans, _ = parse_paths(paths)
    out: dict[str, tuple[Any, ...]] = {}
    for plan in plans:
        for t in plan.tasks:
            out.setdefault(
                t.id,
                (
                    *(t.plan, t.key, t.text, t.status, t.status, list(t.section)),
                    *(" > ".join(t.section), t.parent_id, t.depth, dict(t.metadata)),
                    *(t.content_hash, t.line),
                ),
            )
    return out


def parsed(paths: list[Path]) -> list[Plan]:
    return parse_paths(paths)[0]


PLAN_A = """# Plan de développement v3

## Phase 1 : Fondations

- [x] **1.1** Créer le dépôt
- [ ] **1.2** Mettre en place la CI
  - [ ] 1.2.1 Ajouter les tests unitaires
  - [x] 1.2.2 Ajouter ruff
- [ ] **1.3** Écrire la documentation #docs

## Phase 2 : Base de données

- [ ] **2.1** Mettre en place la sauvegarde de la base (P1)
- [/] **2.2** Migrer le schéma
- [-] **2.3** Abandonner l'ancien ORM
"""

PLAN_B = """# Roadmap API

### Sprint A

- [ ] **3.1** Write the API documentation
- [x] **3.2** Add rate limiting
"""


@pytest.fixture
def plans_dir(tmp_path: Path) -> Path:
    """A small tree of plans: a French plan, an English one, and a CRLF+BOM file."""
    root = tmp_path / "plans"
    (root / "team").mkdir(parents=True)
    (root / "dev-plan-v3.md").write_text(PLAN_A, encoding="utf-8")
    (root / "team" / "api.md").write_text(PLAN_B, encoding="utf-8")
    crlf = "\ufeff# Ops\r\n\r\n- [ ] **4.1** Rotate keys   \r\n- [x] **4.2** Patch servers\r\n"
    (root / "ops.md").write_bytes(crlf.encode("utf-8"))
    return root
