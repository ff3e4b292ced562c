"""The catalogue beside the vector index: same plan names and task ids, and ``planvec serve``
keeping it in step after each sync (real PostgreSQL via pgserver, real Edge index)."""

from __future__ import annotations

from pathlib import Path

import pytest

from planvec.catalogue import sync_catalogue

from .conftest import query

pytest.importorskip("fastapi")


def test_root_names_plans_like_the_index_and_scopes_deletions(dsn: str, plans_dir: Path) -> None:
    root = plans_dir.parent
    report = sync_catalogue(dsn, [plans_dir], root=root)
    assert report.plans == 3
    names = {row[0] for row in query(dsn, "SELECT path FROM planvec.plans")}
    assert names == {"plans/dev-plan-v3.md", "plans/team/api.md", "plans/ops.md"}
    # a run over a subfolder keeps the plans outside it (as the index's sync does)
    again = sync_catalogue(dsn, [plans_dir / "team"], root=root)
    assert again.plans_deleted == []
    assert {row[0] for row in query(dsn, "SELECT path FROM planvec.plans")} == names


def test_serve_sync_updates_the_catalogue_with_the_index_ids(
    dsn: str, plans_dir: Path, tmp_path: Path
) -> None:
    from planvec.service.config import ServiceSettings
    from planvec.service.state import ServiceState
    from planvec.settings import Settings

    settings = Settings(
        index_dir=tmp_path / "index", embedder="hashing", cache_dir=tmp_path / "c",
        catalogue_dsn=dsn,
    )  # fmt: skip
    service = ServiceState(ServiceSettings(index=settings, paths=(plans_dir,), sync_on_start=False))
    service.open()
    try:
        service.sync()
        index_ids = {str(p.id) for p in service.index.points.scroll(with_payload=False)}
        (plans_dir / "team" / "api.md").unlink()
        service.sync()
        after_ids = {str(p.id) for p in service.index.points.scroll(with_payload=False)}
    finally:
        service.close()
    assert service.last_catalogue_error is None
    catalogue_ids = {row[0] for row in query(dsn, "SELECT id::text FROM planvec.tasks")}
    assert catalogue_ids == after_ids  # the deletion followed, ids are the index's
    assert after_ids < index_ids
