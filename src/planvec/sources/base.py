"""The ``Source`` seam: where records come from.

Contract: ``iter_plans()`` yields one item per input file, in a stable order (sorted paths):
a parsed ``Plan`` (possibly with warnings) or a ``SourceFailure`` for a file that could not be
read at all. It never raises for a bad file: one bad file must not stop the others. It may
raise ``planvec.errors.SourceError`` only when an argument itself is unusable (e.g. a path
that does not exist).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Protocol, runtime_checkable

from planvec.records import Plan, SourceFailure


@runtime_checkable
class Source(Protocol):
    """Yields parsed plans (or per-file failures). See the module docstring."""

    def iter_plans(self) -> Iterator[Plan | SourceFailure]:
        """Every plan of this source, in a stable order."""
