"""The write lock: one ``planvec index`` (or repair/import) per index at a time.

A second writer fails fast with ``IndexLocked`` (or waits with ``wait=True``). Readers
(search, check) take no lock: every write is an idempotent point upsert/delete, so a reader
sees each point either before or after it changed, never half-written.

For a server index the lock file lives in the cache directory (keyed by URL and collection):
it protects against two writers on one machine only; document that for clusters.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
from pathlib import Path
from types import TracebackType

from filelock import FileLock, Timeout

from planvec.errors import ConfigError, IndexLocked


def index_side_file(
    index_dir: Path,
    qdrant_url: str | None,
    collection: str,
    cache_dir: Path,
    *,
    folder: str,
    name: str,
    extension: str,
) -> Path:
    """Where a per-index file lives: ``<index_dir>/.<collection>.<name>`` beside an embedded
    index, or ``<cache_dir>/<folder>/<digest>.<extension>`` for a server index (keyed by URL
    and collection). The write lock and the owner's discovery file both live here."""
    if qdrant_url and not qdrant_url.startswith("memory://"):
        digest = hashlib.sha256(f"{qdrant_url}\x00{collection}".encode()).hexdigest()[:16]
        return cache_dir / folder / f"{digest}.{extension}"
    return index_dir / f".{collection}.{name}"


def lock_path_for(
    index_dir: Path, qdrant_url: str | None, collection: str, cache_dir: Path
) -> Path:
    """Where the write lock of an index lives."""
    return index_side_file(
        index_dir, qdrant_url, collection, cache_dir, folder="locks", name="lock", extension="lock"
    )


class WriteLock:
    """An exclusive, process-level lock on one index (a context manager)."""

    def __init__(self, path: Path, *, wait: bool = False, timeout: float | None = None) -> None:
        self.path = path
        self._wait = wait
        self._timeout = timeout
        self._lock: FileLock | None = None

    def acquire(self) -> None:
        lock = FileLock(str(self.path), mode=0o600)
        timeout = (self._timeout if self._timeout is not None else -1) if self._wait else 0
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            lock.acquire(timeout=timeout)
        except Timeout as exc:
            raise IndexLocked(
                f"another planvec process is writing this index (lock {self.path}, "
                f"held by pid {_holder(self.path)}): wait for it to finish, or rerun with "
                f"--wait to queue behind it"
            ) from exc
        except OSError as exc:
            raise ConfigError(
                f"cannot create the write lock {self.path} ({exc.strerror or exc}): pass a"
                " writable --index directory (a server index keeps its lock in the cache"
                " directory: set XDG_CACHE_HOME)"
            ) from exc
        self._lock = lock
        with contextlib.suppress(OSError):
            self.path.with_suffix(".pid").write_text(str(os.getpid()))

    def release(self) -> None:
        if self._lock is not None:
            self._lock.release()
            self._lock = None

    def __enter__(self) -> WriteLock:
        self.acquire()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.release()


def pid_alive(pid: int) -> bool:
    """Whether a process with this pid exists (signal 0; EPERM means it exists)."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def writer_pid(path: Path) -> str | None:
    """The pid of the process holding the write lock at ``path``, or ``None`` when free."""
    if not path.exists():
        return None
    lock = FileLock(str(path), mode=0o600)
    try:
        lock.acquire(timeout=0)
    except Timeout:
        return _holder(path)
    except OSError:
        return None
    lock.release()
    return None


def _holder(path: Path) -> str:
    try:
        return path.with_suffix(".pid").read_text().strip() or "?"
    except OSError:
        return "?"
