"""Request bodies of the HTTP API (pydantic), with the limits of ``ServiceSettings``."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, create_model

from planvec.search import SEARCH_MODES
from planvec.service.config import ServiceSettings

Status = Literal["todo", "done", "in_progress", "cancelled", "item"]
Mode = Literal[SEARCH_MODES]  # type: ignore[valid-type]  # a tuple of literals


class SyncBody(BaseModel):
    """``POST /sync``: what to sync (default: the served PATHs)."""

    model_config = ConfigDict(extra="forbid")

    paths: list[str] | None = Field(
        default=None,
        max_length=256,
        description="Plan files or directories (absolute, or relative to the server's cwd).",
    )
    dry_run: bool = Field(default=False, description="Report the changes; write nothing.")
    keep_missing: bool = Field(
        default=False, description="Keep the tasks of plans not among paths."
    )
    batch_size: int | None = Field(default=None, ge=1, le=4096)
    allow_delete: bool = Field(
        default=False,
        description="Confirm a sync deleting more than max_delete of the index or of a plan.",
    )


class ManagersRunBody(BaseModel):
    """``POST /managers/run``: which managers (default: all, in their order)."""

    model_config = ConfigDict(extra="forbid")

    names: list[str] | None = Field(default=None, max_length=64)


class SearchBodyBase(BaseModel):
    """``POST /search``: the filters and modes of ``planvec search``."""

    model_config = ConfigDict(extra="forbid")


def search_body(settings: ServiceSettings) -> type[BaseModel]:
    """The search body model with this service's limits (query length, ``limit``)."""
    return create_model(
        "SearchBody",
        __base__=SearchBodyBase,
        query=(str, Field(min_length=1, max_length=settings.max_query_chars)),
        limit=(int, Field(default=10, ge=1, le=settings.max_limit)),
        mode=(Mode, Field(default="hybrid")),
        plan=(str | None, Field(default=None, max_length=512, description="Glob of plans.")),
        status=(Status | None, Field(default=None)),
        section=(str | None, Field(default=None, max_length=512)),
        priority=(str | None, Field(default=None, max_length=32)),
        collapse=(
            bool,
            Field(default=True, description="Tasks of identical text as one hit (also_in)."),
        ),
    )
