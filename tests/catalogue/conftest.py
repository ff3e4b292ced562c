"""Catalogue test helpers. The real PostgreSQL (``pg_server``, ``new_dsn``, ``dsn``) lives in
``tests/conftest.py``: the schema manager's tests share the same session server."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from planvec.records import Plan
from planvec.sources.files import parse_paths


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
