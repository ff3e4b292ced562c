"""``planvec search --kind``: one query over the collections of several kinds.

Kind ``task`` is the plans' collection (``settings.collection``); every other kind is the
collection of the manager that declares it. Each collection is searched with the same
query, mode and filters; hits are merged by score. Scores compare across collections
because every collection is embedded by the same model (the index manifest enforces it):
dense scores are cosines of one embedding space, and hybrid scores are reciprocal-rank-
fusion values, which depend only on each hit's rank in its own collection (rank 1 of every
collection scores the same). Merged hybrid results therefore interleave the collections'
rankings; use ``--mode dense`` to rank by similarity alone.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace
from typing import Any

from planvec.errors import CollectionNotFound, ConfigError
from planvec.managers.registry import all_managers
from planvec.records import SearchHit
from planvec.settings import Settings
from planvec.wiring import open_index

log = logging.getLogger(__name__)

TASK_KIND = "task"


def parse_kinds(values: Iterable[str]) -> list[str]:
    """``--kind`` values, repeated or comma-separated, in order, without duplicates."""
    kinds: list[str] = []
    for value in values:
        for kind in value.split(","):
            kind = kind.strip().lower()
            if kind and kind not in kinds:
                kinds.append(kind)
    return kinds or [TASK_KIND]


def collections_for(settings: Settings, kinds: Sequence[str]) -> list[tuple[str, str]]:
    """``(kind, collection)`` for each kind.

    Raises:
        ConfigError: a kind no registered manager declares (the message lists them).
    """
    by_kind = {m.kind: m.collection for m in all_managers()}
    by_kind[TASK_KIND] = settings.collection
    unknown = [k for k in kinds if k not in by_kind]
    if unknown:
        raise ConfigError(
            f"unknown kind {', '.join(map(repr, unknown))}: choose among "
            f"{', '.join(sorted(by_kind))}"
        )
    return [(kind, by_kind[kind]) for kind in kinds]


def search_kinds(
    settings: Settings,
    kinds: Sequence[str],
    query: str,
    *,
    limit: int = 10,
    opener: Callable[..., Any] = open_index,
    **options: Any,
) -> list[SearchHit]:
    """The best ``limit`` hits for ``query`` over the collections of ``kinds``, by score.

    ``options`` are ``Index.search``'s (mode, plan, status, section, priority, collapse).
    A kind whose collection does not exist yet is skipped with a warning when others are
    searched; alone, it raises ``CollectionNotFound`` (run ``planvec managers run``).
    """
    hits: list[SearchHit] = []
    targets = collections_for(settings, kinds)
    missing = []
    for kind, collection in targets:
        try:
            with opener(replace(settings, collection=collection)) as index:
                hits.extend(index.search(query, limit=limit, **options))
        except CollectionNotFound as exc:
            if len(targets) == 1 and kind == TASK_KIND:
                raise
            if len(targets) == 1:
                raise CollectionNotFound(
                    f"nothing of kind {kind!r} is indexed yet (collection {collection!r}): "
                    "run `planvec managers run PATH` first"
                ) from exc
            missing.append(kind)
            log.warning(
                "no %s index in collection %r yet: run `planvec managers run PATH`",
                kind,
                collection,
            )
    if missing and len(missing) == len(targets):
        raise CollectionNotFound(
            f"none of the collections of {', '.join(kinds)} exists: run "
            "`planvec index PATH` and `planvec managers run PATH` first"
        )
    hits.sort(key=lambda h: (-round(h.score, 6), h.kind, h.plan, h.line, h.id))
    return hits[:limit]
