"""planvec's own plugin: the Markdown plan source and the built-in embedders.

They register through the hooks third-party plugins use (``planvec.hookspecs``), so the
registry has one code path. Factories import their backends lazily.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from planvec.errors import ConfigError
from planvec.hookspecs import hookimpl
from planvec.settings import EMBEDDERS
from planvec.sources.base import Source

if TYPE_CHECKING:  # numpy stays unimported until an embedder is built
    from planvec.embed.base import Embedder


def markdown_source(paths: Sequence[Path]) -> Source:
    """The Markdown plan source for ``paths`` (files or directories).

    Raises:
        ConfigError: two arguments would index two files under one plan name.
    """
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


def _builtin_embedder(name: str) -> Callable[[Path], Embedder]:
    def factory(cache_dir: Path) -> Embedder:
        from planvec.embed.factory import make_embedder

        return make_embedder(name, cache_dir)

    return factory


@hookimpl
def register_sources(register: Callable[..., None]) -> None:
    register("markdown", markdown_source)


@hookimpl
def register_embedders(register: Callable[..., None]) -> None:
    for name in EMBEDDERS:
        register(name, _builtin_embedder(name))
