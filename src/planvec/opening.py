"""Building an index's parts from settings: store, embedder (cached), plan sources.

Used by ``open_index`` (``planvec.index``) and the backup commands; kept apart so the
``Index`` facade module stays about the index itself.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from planvec.embed.base import Embedder
from planvec.errors import ConfigError, IndexDamaged
from planvec.manifest import Manifest
from planvec.points import BOOL_FIELDS, INTEGER_FIELDS, KEYWORD_FIELDS, TEXT_FIELDS
from planvec.settings import Settings
from planvec.sources.base import Source
from planvec.store.base import CollectionSpec, VectorStore

HASHING_FAMILY = "planvec-hashing"


def collection_spec(dimension: int) -> CollectionSpec:
    """The collection every planvec index uses: named dense + sparse vectors, payload indexes."""
    return CollectionSpec(
        dimension=dimension,
        distance="cosine",
        sparse=True,
        keyword_fields=KEYWORD_FIELDS,
        integer_fields=INTEGER_FIELDS,
        bool_fields=BOOL_FIELDS,
        text_fields=TEXT_FIELDS,
    )


def readable_manifest(store: VectorStore, collection: str, rebuild: bool) -> Manifest | None:
    """The stored manifest; a damaged one is ``None`` when it is about to be rebuilt."""
    try:
        return store.read_manifest(collection)
    except IndexDamaged:
        if rebuild:
            return None
        raise


def embedder_for(settings: Settings, manifest: Manifest | None) -> Embedder:
    from planvec.embed.factory import make_embedder

    name = settings.embedder
    if name == "auto" and manifest and manifest.get("model") == HASHING_FAMILY:
        name = "hashing"
    return make_embedder(name, settings.cache_dir)


def cached_embedder(embedder: Embedder, settings: Settings) -> Embedder:
    if embedder.family == HASHING_FAMILY:
        return embedder
    from planvec.embed.cache import CachedEmbedder, EmbeddingCache

    cache = EmbeddingCache(settings.cache_dir / "embeddings.sqlite")
    return CachedEmbedder(embedder, cache)


def store_for(settings: Settings, qdrant_url: str | None = None) -> VectorStore:
    """The store named by ``settings`` (or by ``qdrant_url`` when given)."""
    from planvec.store import open_store

    return open_store(
        index_dir=settings.index_dir,
        qdrant_url=qdrant_url if qdrant_url is not None else settings.qdrant_url,
        api_key=settings.api_key,
        timeout=settings.timeout,
        retries=settings.retries,
        retry_ceiling=settings.retry_ceiling,
        grpc=settings.grpc,
        verify_tls=settings.verify_tls,
    )


def count_plans(paths: Sequence[Path]) -> int:
    """How many plan files ``paths`` hold (for progress bars)."""
    from planvec.sources.files import discover

    return len(discover([Path(p) for p in paths])[0])


def sources_for(paths: Sequence[Path]) -> Source:
    """The Markdown plan source for ``paths`` (files or directories)."""
    from planvec.sources.files import MarkdownPlanSource, discover

    owners: dict[str, Path] = {}
    for full, rel in discover([Path(p) for p in paths])[0]:
        if rel in owners:
            raise ConfigError(
                f"{owners[rel]} and {full} would both be indexed as plan {rel!r} (plan names "
                "are relative to each argument): index them into separate --collection "
                "names, or pass their common parent directory instead"
            )
        owners[rel] = full
    return MarkdownPlanSource([Path(p) for p in paths])
