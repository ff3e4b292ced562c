"""Build a small collection in the legacy ``roadmap_tasks`` format, and its planvec archive.

It does what the legacy scripts did, on purpose with their flaws: one point per task, a
*random* 1536-d vector, an integer id ``hash(task_id) % 10_000`` (here a deterministic
stand-in, crc32 with a per-run salt, because Python's ``hash`` is salted per process), and the
legacy payload (task_id, description, status, section, parent, priority, estimate, mvp,
category, file_path, last_updated). It bakes in the legacy problems a migration must survive:

* a second run with another salt re-upserted 3 tasks under new ids: 2 unchanged
  (duplicates), 1 edited in between (two descriptions under one task_id: colliding keys);
* a task whose id collides with another's, so the later upsert overwrote it (lost task);
* two different tasks sharing one ``task_id`` in one file: same legacy id, one lost;
* a task without description, a task without file_path.

Usage::

    python scripts/make_legacy_fixture.py tests/fixtures/legacy

writes ``roadmap_tasks.planvec.tar`` (the collection exported with ``planvec export``) and
``expected.json`` (what a correct migration must find). Tests call ``build_collection`` to
get the same collection in qdrant-client local mode (``local://PATH``).
"""

from __future__ import annotations

import json
import sys
import zlib
from pathlib import Path
from typing import Any

import numpy as np

COLLECTION = "roadmap_tasks"
DIMENSION = 1536
STAMP = "2025-06-30T12:00:00"

# (file_path, task_id, description, status, section, parent, priority, estimate, mvp, category)
TASKS: list[tuple[Any, ...]] = [
    (
        "roadmap.md",
        "1",
        "Fondations de l'infrastructure",
        "in_progress",
        "Phase 1 > Fondations",
        None,
        "P0",
        "5d",
        True,
        "infra",
    ),
    (
        "roadmap.md",
        "1.1",
        "Mettre en place la sauvegarde de la base de données PostgreSQL",
        "todo",
        "Phase 1 > Fondations",
        "1",
        "P0",
        "2d",
        True,
        "infra",
    ),
    (
        "roadmap.md",
        "1.1.1",
        "Écrire le script de dump nocturne",
        "done",
        "Phase 1 > Fondations",
        "1.1",
        "P1",
        "4h",
        True,
        "infra",
    ),
    (
        "roadmap.md",
        "1.1.2",
        "Planifier la rotation des sauvegardes sur trente jours",
        "todo",
        "Phase 1 > Fondations",
        "1.1",
        "P1",
        "2h",
        False,
        "infra",
    ),
    (
        "roadmap.md",
        "1.2",
        "Configurer l'intégration continue avec GitHub Actions",
        "done",
        "Phase 1 > Fondations",
        "1",
        "P1",
        "1d",
        True,
        "ci",
    ),
    (
        "roadmap.md",
        "1.3",
        "Choisir le moteur de recherche vectorielle Qdrant",
        "done",
        "Phase 1 > Fondations",
        "1",
        "P2",
        "3h",
        False,
        "search",
    ),
    ("roadmap.md", "2", "API publique", "todo", "Phase 2 > API", None, "P1", "10d", True, "api"),
    (
        "roadmap.md",
        "2.1",
        "Write the OpenAPI documentation for every endpoint",
        "todo",
        "Phase 2 > API",
        "2",
        "P2",
        "2d",
        False,
        "docs",
    ),
    (
        "roadmap.md",
        "2.2",
        "Add rate limiting to the public endpoints",
        "in_progress",
        "Phase 2 > API",
        "2",
        "P1",
        "1d",
        True,
        "api",
    ),
    (
        "roadmap.md",
        "2.3",
        "Authentification par jetons JWT signés",
        "todo",
        "Phase 2 > API",
        "2",
        "P0",
        "3d",
        True,
        "security",
    ),
    (
        "roadmap.md",
        "2.3",
        "Journaliser les tentatives de connexion échouées",
        "todo",
        "Phase 2 > API",
        "2",
        "P2",
        "1d",
        False,
        "security",
    ),
    ("roadmap.md", "2.4", "", "todo", "Phase 2 > API", "2", "P3", None, False, "api"),
    (
        "phase-2/email.md",
        "3",
        "Envoi des courriels",
        "todo",
        "Email/Envoi",
        None,
        "P1",
        "8d",
        True,
        "email",
    ),
    (
        "phase-2/email.md",
        "3.1",
        "Intégrer le fournisseur SMTP avec reprise sur erreur",
        "todo",
        "Email/Envoi",
        "3",
        "P1",
        "2d",
        True,
        "email",
    ),
    (
        "phase-2/email.md",
        "3.2",
        "Gérer les rebonds et les désinscriptions",
        "todo",
        "Email/Envoi",
        "3",
        "P2",
        "2d",
        False,
        "email",
    ),
    (
        "phase-2/email.md",
        "3.3",
        "Modèles de courriel multilingues avec Jinja",
        "done",
        "Email/Modèles",
        "3",
        "P2",
        "1d",
        False,
        "email",
    ),
    (
        "phase-2/email.md",
        "3.4",
        "Tableau de bord des statistiques d'ouverture",
        "todo",
        "Email/Suivi",
        "3",
        "P3",
        "3d",
        False,
        "analytics",
    ),
    (
        "phase-2/email.md",
        "3.5",
        "File d'attente Redis pour les envois massifs",
        "in_progress",
        "Email/Envoi",
        "3",
        "P1",
        "2d",
        True,
        "email",
    ),
    (
        "notes/security.md",
        "4.1",
        "Review the security policies of the cloud accounts",
        "todo",
        "Security",
        None,
        "P1",
        "1d",
        False,
        "security",
    ),
    (
        "notes/security.md",
        "4.2",
        "Rotate the database credentials every quarter",
        "todo",
        "Security",
        None,
        "P2",
        "2h",
        False,
        "security",
    ),
    (
        "notes/security.md",
        "4.3",
        "Chiffrer les sauvegardes au repos avec age",
        "todo",
        "Security > Chiffrement",
        None,
        "P1",
        "4h",
        False,
        "security",
    ),
    (
        None,
        "5.1",
        "Archive the old Grafana dashboards",
        "done",
        "Misc",
        None,
        "P3",
        "1h",
        False,
        "ops",
    ),
]


def legacy_id(task_id: str, salt: str) -> int:
    """The legacy id: ``hash(task_id) % 10_000`` (crc32 with a salt stands in for ``hash``)."""
    return zlib.crc32(f"{salt}:{task_id}".encode()) % 10_000


def _colliding_task_id(target: int, salt: str) -> str:
    """A task_id ``6.N`` whose legacy id equals ``target`` (so its upsert overwrites)."""
    n = 1
    while legacy_id(f"6.{n}", salt) != target:
        n += 1
    return f"6.{n}"


def payload(task: tuple[Any, ...], updated: str = STAMP) -> dict[str, Any]:
    file_path, task_id, desc, status, section, parent, prio, est, mvp, cat = task
    out = {
        "task_id": task_id, "description": desc, "status": status, "section": section,
        "parent": parent, "priority": prio, "estimate": est, "mvp": mvp, "category": cat,
        "file_path": file_path, "last_updated": updated,
    }  # fmt: skip
    if file_path is None:
        del out["file_path"]  # the legacy script skipped missing fields
    return out


def legacy_points(
    seed: int = 7,
) -> tuple[list[tuple[int, list[float], dict[str, Any]]], dict[str, Any]]:
    """The points in upsert order (later ones overwrite earlier ids), and what to expect."""
    rng = np.random.default_rng(seed)
    points: list[tuple[int, list[float], dict[str, Any]]] = []

    def vec() -> list[float]:
        return rng.standard_normal(DIMENSION).astype(np.float32).tolist()

    # run 1: every task, in file order; two tasks sharing "2.3" also share a legacy id: the
    # second overwrites the first in the collection (a colliding id).
    for task in TASKS:
        points.append((legacy_id(task[1], "run1"), vec(), payload(task)))
    # a task whose id collides with task 1.3's: upserted last in run 1, it overwrites 1.3
    victim = legacy_id("1.3", "run1")
    lost = ("roadmap.md", _colliding_task_id(victim, "run1"),
            "Mesurer la latence des recherches", "todo", "Phase 1 > Fondations", "1", "P2",
            "2h", False, "search")  # fmt: skip
    points.append((victim, vec(), payload(lost)))
    # run 2 (another hash salt): two tasks re-upserted under new ids -> duplicates; one
    # edited in between -> two descriptions under one task_id (colliding keys)
    run2 = "2025-07-01T09:00:00"
    for task in (TASKS[1], TASKS[13]):
        points.append((legacy_id(task[1], "run2"), vec(), payload(task, run2)))
    edited = (*TASKS[8][:2], "Add rate limiting and quotas to the public endpoints", *TASKS[8][3:])
    points.append((legacy_id(edited[1], "run2"), vec(), payload(edited, run2)))
    final: dict[int, dict[str, Any]] = {}
    for pid, _, body in points:
        final[pid] = body
    expected = {
        "points": len(final),
        "overwritten": [
            {"task_id": "1.3", "file_path": "roadmap.md", "by": lost[1]},
            {
                "task_id": "2.3",
                "file_path": "roadmap.md",
                "note": "first 2.3 overwritten by the second",
            },
        ],
        "duplicates": [[t[0], t[1]] for t in (TASKS[1], TASKS[13])],
        "colliding": [["roadmap.md", "2.2"]],
        "missing_text": [["roadmap.md", "2.4"]],
        "missing_file": [[None, "5.1"]],
        "tasks": sorted(
            {(b.get("file_path"), b["task_id"], b["description"]) for b in final.values()}, key=str
        ),
        "distinct_tasks": len(
            {(b.get("file_path"), b["task_id"], b["description"]) for b in final.values()}
        ),
    }
    return points, expected


def build_collection(client: Any, collection: str = COLLECTION, seed: int = 7) -> dict[str, Any]:
    """Create ``collection`` the legacy way with a ``QdrantClient``; returns the expectations."""
    from qdrant_client import models

    client.create_collection(
        collection,
        vectors_config=models.VectorParams(size=DIMENSION, distance=models.Distance.COSINE),
    )
    points, expected = legacy_points(seed)
    for pid, vector, body in points:  # one point per call, as the legacy loop did
        client.upsert(collection, [models.PointStruct(id=pid, vector=vector, payload=body)])
    return expected


def main(out_dir: str) -> None:
    import tempfile

    from qdrant_client import QdrantClient

    from planvec.backup.transfer import export_collection
    from planvec.store import open_store

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        client = QdrantClient(path=tmp)
        expected = build_collection(client)
        client.close()
        store = open_store(index_dir=Path(tmp), qdrant_url=f"local://{tmp}")
        try:
            export_collection(store, COLLECTION, out / "roadmap_tasks.planvec.tar")
        finally:
            store.close()
    (out / "expected.json").write_text(json.dumps(expected, indent=1, ensure_ascii=False) + "\n")
    print(f"wrote {out / 'roadmap_tasks.planvec.tar'} ({expected['points']} points)")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "tests/fixtures/legacy")
