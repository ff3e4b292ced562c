"""An archive of unnormalised vectors (the legacy random ones) imports and verifies.

A cosine collection may store vectors normalised (qdrant-client's local engine does, like
the server and Edge): the import compares directions there, and raw values elsewhere.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from planvec.backup.archive import read_archive
from planvec.backup.ops import import_index
from planvec.backup.point_compare import same_vector as _same_vector
from planvec.settings import Settings

from .conftest import LEGACY_ARCHIVE


def test_the_legacy_archive_imports_verified_into_local_mode(tmp_path: Path) -> None:
    norms = [
        float(np.linalg.norm(p.vector))
        for chunk in read_archive(LEGACY_ARCHIVE).iter_chunks()
        for p in chunk
        if p.vector is not None
    ]
    assert min(norms) > 2.0, "the fixture's vectors should be unnormalised"
    settings = Settings(index_dir=tmp_path / "unused", qdrant_url=f"local://{tmp_path / 'q'}",
                        collection="roadmap_tasks", cache_dir=tmp_path / "cache")  # fmt: skip
    report = import_index(settings, LEGACY_ARCHIVE, collection="roadmap_tasks")
    assert report.ok, report.mismatches[:3]
    assert report.points == 24 and report.vectors_checked == 24


def test_directions_count_only_in_a_cosine_collection() -> None:
    a = np.array([3.0, 4.0])
    assert _same_vector(a, a / 5.0, cosine=True)
    assert not _same_vector(a, a / 5.0, cosine=False)
    assert not _same_vector(a, np.array([4.0, 3.0]) / 5.0, cosine=True)
    assert not _same_vector(a, np.zeros(2), cosine=True)
    assert not _same_vector(a, np.array([3.0, 4.0, 0.0]), cosine=True)
