"""Damage detection for the index files: a cheap sample read before trusting them.

A truncated or overwritten segment file does not show until a point stored in it is read:
the sync's diff reads payload fields only, so without this it would report "unchanged"
over vectors that search can no longer read. ``sample_points`` reads a few hundred points
whole (vectors, sparse vectors, payloads). Point ids are hashes, so the first ids in id
order are a random sample of the storage: a damaged tail is hit with near certainty. Store
errors about damaged files are ``IndexDamaged`` naming the recovery (``REBUILD_HINT``).
"""

from __future__ import annotations

from planvec.errors import REBUILD_HINT, IndexDamaged
from planvec.store.base import VectorStore

#: points read whole by ``sample_points``
SAMPLE = 256


def sample_points(store: VectorStore, collection: str, sample: int = SAMPLE) -> int:
    """Read up to ``sample`` points with vectors and payloads; returns how many were read.

    Raises:
        IndexDamaged: a point cannot be read, or has lost its vector.
    """
    read = 0
    for point in store.scroll(
        collection, with_vectors=True, with_payload=True, batch_size=max(1, sample)
    ):
        if point.vector is None:
            raise IndexDamaged(
                f"point {point.id} of collection {collection!r} lost its vector; {REBUILD_HINT}"
            )
        read += 1
        if read >= sample:
            break
    return read
