"""The discovery file: how a CLI call finds the process that owns an index.

``planvec serve`` writes ``{"url", "pid", "token", ...}`` next to the index (embedded) or in
the cache directory (server URL), mode 0600, replaced atomically; it removes the file when
it exits. A file whose pid is gone (a SIGKILLed owner) is stale: readers ignore it and the
next owner replaces it. A file not owned by the current user, or readable by others, is
ignored (its token could have been planted or read).

Imports only the standard library: the CLI reads it on every call, before anything heavy.
"""

from __future__ import annotations

import contextlib
import json
import os
import stat
from dataclasses import asdict, dataclass
from pathlib import Path

from planvec.lock import index_side_file, pid_alive

FILE_NAME = "planvec-owner.json"


@dataclass(frozen=True)
class OwnerInfo:
    """Where the owner of an index listens, and how to authenticate to it."""

    url: str
    pid: int
    token: str
    index: str
    started_at: float
    read_only: bool = False


def discovery_path(
    index_dir: Path, qdrant_url: str | None, collection: str, cache_dir: Path
) -> Path:
    """Where the discovery file of an index lives (next to its write lock)."""
    return index_side_file(
        index_dir, qdrant_url, collection, cache_dir,
        folder="owners", name=FILE_NAME, extension="json",
    )  # fmt: skip


def write_discovery(path: Path, info: OwnerInfo) -> None:
    """Write the file atomically with mode 0600 (created so, never widened)."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    with contextlib.suppress(FileNotFoundError):
        tmp.unlink()
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        json.dump(asdict(info), out)
        out.flush()
        os.fsync(out.fileno())
    os.replace(tmp, path)


def read_discovery(path: Path) -> OwnerInfo | None:
    """The live owner described by ``path``, or ``None`` (absent, stale, unsafe, garbled)."""
    try:
        st = path.stat()
        if st.st_uid != os.getuid() or st.st_mode & (stat.S_IRWXG | stat.S_IRWXO):
            return None
        data = json.loads(path.read_text(encoding="utf-8"))
        info = OwnerInfo(
            url=str(data["url"]),
            pid=int(data["pid"]),
            token=str(data["token"]),
            index=str(data.get("index", "")),
            started_at=float(data.get("started_at", 0.0)),
            read_only=bool(data.get("read_only", False)),
        )
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return info if pid_alive(info.pid) else None


def remove_discovery(path: Path, pid: int) -> None:
    """Remove the file if it still names ``pid`` (never another owner's)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return
    if isinstance(data, dict) and data.get("pid") == pid:
        with contextlib.suppress(OSError):
            path.unlink()
