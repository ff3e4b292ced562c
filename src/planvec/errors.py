"""The one error tree of planvec.

Every failure a user can meet is a ``PlanvecError``; third-party errors (qdrant, torch,
onnxruntime, OS) are translated at the seam that calls them with ``raise ... from exc``.
Messages say what went wrong *and how to fix it*: the CLI prints them as they are.

    PlanvecError
    ├── ConfigError            bad settings, flags or config file
    ├── SourceError            a plan file cannot be read or decoded
    ├── EmbedError             the embedding model cannot load or run
    │   └── ModelNotAvailable  the model package / extra is not installed
    ├── StoreError             the vector store failed
    │   ├── StoreUnavailable   cannot reach it (transient; retried first)
    │   ├── StoreTimeout       a call took too long (transient; retried first)
    │   ├── CollectionNotFound the collection does not exist
    │   └── IndexDamaged       index files damaged: `planvec index --rebuild` recovers
    ├── IndexMismatch          the index was built with another model / dimension / schema
    ├── IndexLocked            another planvec process is writing this index
    ├── DeleteRefused          a sync would delete more than max_delete (deletion guard)
    ├── ArchiveError           a backup archive is invalid, tampered or too new
    ├── CatalogueError         the PostgreSQL catalogue cannot be reached or written
    │   └── CatalogueLocked    another catalogue sync is running on this database
    ├── CheckFailed            a check could not run
    └── TaskNotFound           no task (or plan) with this id (or name) in the index
"""

from __future__ import annotations


class PlanvecError(Exception):
    """Base class of every error planvec raises on purpose."""

    exit_code = 1


class ConfigError(PlanvecError):
    """Settings, flags or the config file are invalid."""

    exit_code = 2


class SourceError(PlanvecError):
    """A plan file cannot be read or decoded."""

    def __init__(self, path: str, message: str) -> None:
        super().__init__(f"{path}: {message}")
        self.path = path
        self.reason = message


class EmbedError(PlanvecError):
    """The embedding model cannot be loaded or failed while encoding."""


class ModelNotAvailable(EmbedError):
    """The model (or the extra that provides it) is not installed."""


class StoreError(PlanvecError):
    """The vector store failed."""


class StoreUnavailable(StoreError):
    """The store cannot be reached (transient: retried before it is raised)."""


class StoreTimeout(StoreError):
    """A store call timed out (transient: retried before it is raised)."""


class CollectionNotFound(StoreError):
    """The collection does not exist."""


class IndexMismatch(PlanvecError):
    """The index was built with another model, dimension, distance or schema."""


class IndexLocked(PlanvecError):
    """Another planvec process holds the write lock of this index.

    Exit code 2 ("could not run"), apart from 1 ("ran, some files failed"), so scripts can
    tell a refused run from a partial one.
    """

    exit_code = 2


class DeleteRefused(PlanvecError):
    """A sync would delete more than ``max_delete`` of the index or of a plan.

    Exit code 2: the run was refused (its deletions were not written); ``report`` is the
    sync report with the guard's verdict.
    """

    exit_code = 2

    def __init__(self, message: str, report: object = None) -> None:
        super().__init__(message)
        self.report = report


#: the one recovery path from a damaged index, named by every error about one
REBUILD_HINT = (
    "recover with `planvec index PATHS --rebuild` (drops the damaged index and builds it "
    "again from the plans, reusing cached embeddings)"
)

#: what Qdrant Edge says when its files are damaged (truncated, overwritten)
DAMAGE_MARKERS = (
    "not readable",
    "io error",
    "out of bounds",
    "corrupt",
    "unexpected end",
    "failed to load",
    "invalid",
)


class IndexDamaged(StoreError):
    """The index files (manifest, segments) are damaged; the message names the recovery."""


class ArchiveError(PlanvecError):
    """A backup archive is invalid, truncated, tampered with or from a newer schema."""


class CatalogueError(PlanvecError):
    """The PostgreSQL catalogue failed (messages never show the DSN's password)."""


class CatalogueLocked(CatalogueError):
    """Another ``planvec catalogue sync`` holds this database's sync lock."""

    exit_code = 2


class ManagerNotApplicable(ConfigError):
    """A manager has nothing to read in this run's inputs (the schemas manager without a
    DSN): ``planvec managers run`` skips it unless it was named explicitly."""


class CheckFailed(PlanvecError):
    """A check could not run (the index could not be read)."""

    exit_code = 2


class TaskNotFound(PlanvecError):
    """No task with this id (or no plan with this name) is in the index."""


TRANSIENT_ERRORS: tuple[type[PlanvecError], ...] = (StoreUnavailable, StoreTimeout)
