"""planvec: Markdown project plans -> a searchable, always-correct Qdrant vector index."""

from __future__ import annotations

__version__ = "0.1.0"
