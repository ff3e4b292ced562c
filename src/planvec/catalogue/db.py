"""The PostgreSQL seam: connecting, translating psycopg errors, numbered migrations.

Only ``planvec.catalogue`` imports psycopg, lazily, so ``planvec --help`` works without the
``catalogue`` extra. Every error raised from here is a ``CatalogueError`` whose message has
the DSN's password masked (``planvec.redact``).

Migrations are the numbered SQL files of ``planvec/catalogue/migrations`` (``001_*.sql``,
``002_*.sql``...). Each is applied once, in its own transaction, under a transaction-level
advisory lock, and recorded in ``planvec.schema_migrations``: a crash leaves the database at
the previous version, and two processes migrating at once apply each step once.
"""

from __future__ import annotations

import re
from contextlib import contextmanager
from dataclasses import dataclass
from importlib import resources
from typing import TYPE_CHECKING, Any

from planvec.errors import CatalogueError
from planvec.redact import redact_dsn, scrub

if TYPE_CHECKING:
    from collections.abc import Iterator

    import psycopg

#: Advisory-lock keys (arbitrary constants): schema migrations, and one catalogue sync at a time.
MIGRATION_LOCK = 0x706C616E_0001
SYNC_LOCK = 0x706C616E_0002

_MIGRATION_FILE = re.compile(r"^(\d{3})_([a-z0-9_]+)\.sql$")


@dataclass(frozen=True)
class Migration:
    """One numbered schema step."""

    version: int
    name: str
    sql: str


def migrations() -> list[Migration]:
    """Every shipped migration, in order."""
    found = []
    for entry in resources.files("planvec.catalogue").joinpath("migrations").iterdir():
        match = _MIGRATION_FILE.match(entry.name)
        if match:
            found.append(Migration(int(match[1]), match[2], entry.read_text(encoding="utf-8")))
    found.sort(key=lambda m: m.version)
    return found


def latest_version() -> int:
    """The schema version this planvec writes."""
    return migrations()[-1].version


def _psycopg() -> Any:
    try:
        import psycopg
    except ImportError as exc:
        raise CatalogueError(
            "the catalogue needs psycopg; install the extra: pip install 'planvec[catalogue]'"
        ) from exc
    return psycopg


@contextmanager
def connect(dsn: str) -> Iterator[psycopg.Connection[Any]]:
    """An autocommit connection (callers open explicit transactions); errors translated."""
    psycopg = _psycopg()
    try:
        conn = psycopg.connect(dsn, autocommit=True, connect_timeout=10)
    except psycopg.Error as exc:
        raise CatalogueError(
            f"cannot connect to {redact_dsn(dsn)}: {scrub(str(exc).strip(), dsn)} "
            "— check the DSN, that the server runs and accepts this user"
        ) from None
    try:
        yield conn
    except psycopg.Error as exc:
        raise CatalogueError(
            f"database error on {redact_dsn(dsn)}: {scrub(str(exc).strip(), dsn)}"
        ) from None
    finally:
        conn.close()


def schema_version(conn: psycopg.Connection[Any]) -> int:
    """The applied schema version (0 for an empty database)."""
    row = conn.execute("SELECT to_regclass('planvec.schema_migrations') IS NOT NULL").fetchone()
    if not row or not row[0]:
        return 0
    got = conn.execute("SELECT coalesce(max(version), 0) FROM planvec.schema_migrations")
    value = got.fetchone()
    return int(value[0]) if value else 0


def migrate(conn: psycopg.Connection[Any], target: int | None = None) -> list[int]:
    """Apply the missing migrations up to ``target`` (default: the latest).

    Returns:
        The versions applied by this call (empty when already up to date).

    Raises:
        CatalogueError: the database holds a newer schema than this planvec knows.
    """
    steps = migrations()
    target = steps[-1].version if target is None else target
    current = schema_version(conn)
    if current > steps[-1].version:
        raise CatalogueError(
            f"the catalogue schema is at version {current}, newer than this planvec "
            f"({steps[-1].version}); upgrade planvec"
        )
    applied: list[int] = []
    for step in steps:
        if step.version > target:
            break
        with conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (MIGRATION_LOCK,))
            if step.version <= schema_version(conn):
                continue
            conn.execute("CREATE SCHEMA IF NOT EXISTS planvec")
            conn.execute(
                "CREATE TABLE IF NOT EXISTS planvec.schema_migrations ("
                " version integer PRIMARY KEY, name text NOT NULL,"
                " applied_at timestamptz NOT NULL DEFAULT now())"
            )
            conn.execute(step.sql.encode("utf-8"))
            conn.execute(
                "INSERT INTO planvec.schema_migrations (version, name) VALUES (%s, %s)",
                (step.version, step.name),
            )
            applied.append(step.version)
    return applied
