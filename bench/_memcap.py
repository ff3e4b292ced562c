"""Run a benchmark child under a hard memory cap (a Linux memory cgroup, v1 or v2).

Peak RSS counts every resident page of mmapped files, which the kernel may drop and read
again whenever it needs the memory: a high VmHWM does not show that a process *needs* that
much. A cap does: the child runs in a memory cgroup limited to ``limit_mb``, where the kernel
reclaims file pages (page cache, mmapped index files) to stay under the limit, and anonymous
memory, which it cannot reclaim without swap, ends in the OOM killer. A run that completes
under the cap (with swap excluded) fits in it.

Needs write access to a memory cgroup hierarchy (root, or a delegated v2 subtree); where
there is none, ``MemoryCap.create`` raises ``CapUnavailable`` with the reason, and the
benchmark skips the capped run saying why.
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass, field
from pathlib import Path

MB = 1024 * 1024


class CapUnavailable(Exception):
    """No writable memory cgroup here (the message says why)."""


def _mounts(mounts_file: Path) -> list[tuple[str, str, set[str]]]:
    """(mount point, fs type, options) of each cgroup mount in ``mounts_file``."""
    found = []
    for line in mounts_file.read_text().splitlines():
        parts = line.split()
        if len(parts) >= 4 and parts[2] in ("cgroup", "cgroup2"):
            found.append((parts[1], parts[2], set(parts[3].split(","))))
    return found


def find_hierarchy(mounts_file: Path = Path("/proc/self/mounts")) -> tuple[Path, int]:
    """The memory cgroup hierarchy to create the cap in, and its version (1 or 2).

    A v1 ``memory`` controller mount wins (where it exists, v2 has no memory controller).
    Raises:
        CapUnavailable: neither is mounted with a memory controller.
    """
    try:
        mounts = _mounts(mounts_file)
    except OSError as exc:
        raise CapUnavailable(f"cannot read {mounts_file} ({exc}): not Linux?") from exc
    for point, kind, options in mounts:
        if kind == "cgroup" and "memory" in options:
            return Path(point), 1
    for point, kind, _ in mounts:
        controllers = Path(point) / "cgroup.controllers"
        if kind == "cgroup2" and "memory" in _words(controllers):
            return Path(point), 2
    raise CapUnavailable("no memory cgroup controller is mounted (cgroup v1 or v2)")


def _words(path: Path) -> list[str]:
    try:
        return path.read_text().split()
    except OSError:
        return []


def _read_int(path: Path) -> int | None:
    try:
        text = path.read_text().strip()
    except OSError:
        return None
    return int(text) if text.isdigit() else None


def _read_keyed(path: Path) -> dict[str, int]:
    """A ``key value`` per line file (memory.stat, memory.events, memory.oom_control)."""
    found: dict[str, int] = {}
    try:
        for line in path.read_text().splitlines():
            key, _, value = line.partition(" ")
            if value.strip().isdigit():
                found[key] = int(value)
    except OSError:
        pass
    return found


def swap_total_mb(meminfo: Path = Path("/proc/meminfo")) -> int | None:
    """SwapTotal in MB (``None`` where unreadable)."""
    for line in meminfo.read_text().splitlines() if meminfo.exists() else []:
        if line.startswith("SwapTotal:"):
            return int(line.split()[1]) // 1024
    return None


@dataclass
class MemoryCap:
    """A memory cgroup limited to ``limit_mb`` (swap excluded) that children can enter."""

    path: Path
    version: int
    limit_mb: int
    peaks_mb: dict[str, int] = field(default_factory=dict)

    @classmethod
    def create(cls, limit_mb: int, name: str | None = None) -> MemoryCap:
        """Make the cgroup and set its limit.

        Raises:
            CapUnavailable: no hierarchy, or it is not writable (not root, not delegated).
        """
        root, version = find_hierarchy()
        path = root / (name or f"planvec-bench-{os.getpid()}")
        limit = str(limit_mb * MB)
        try:
            path.mkdir(exist_ok=True)
            if version == 1:
                (path / "memory.limit_in_bytes").write_text(limit)
                memsw = path / "memory.memsw.limit_in_bytes"
                if memsw.exists():  # with swap accounting, swap counts against the cap too
                    memsw.write_text(limit)
            else:
                (path / "memory.max").write_text(limit)
                swap = path / "memory.swap.max"
                if swap.exists():
                    swap.write_text("0")
        except OSError as exc:
            raise CapUnavailable(
                f"cannot create a memory cgroup under {root} ({exc}): run as root or in a"
                " delegated cgroup v2 subtree"
            ) from exc
        return cls(path, version, limit_mb)

    def enter(self) -> None:
        """Move the calling process into the cap (as ``preexec_fn``: the child, before exec)."""
        (self.path / "cgroup.procs").write_text(str(os.getpid()))

    def sample(self) -> dict[str, int]:
        """The cgroup's usage now, in MB: anonymous, page cache, mapped files, total."""
        stat = _read_keyed(self.path / "memory.stat")
        if self.version == 1:
            now = {
                "anon": stat.get("total_rss", stat.get("rss", 0)),
                "file": stat.get("total_cache", stat.get("cache", 0)),
                "mapped_file": stat.get("total_mapped_file", stat.get("mapped_file", 0)),
                "usage": _read_int(self.path / "memory.usage_in_bytes") or 0,
            }
        else:
            now = {
                "anon": stat.get("anon", 0),
                "file": stat.get("file", 0),
                "mapped_file": stat.get("file_mapped", 0),
                "usage": _read_int(self.path / "memory.current") or 0,
            }
        mb = {key: value // MB for key, value in now.items()}
        for key, value in mb.items():
            self.peaks_mb[key] = max(self.peaks_mb.get(key, 0), value)
        return mb

    def result(self) -> dict[str, int | None]:
        """The kernel's own peak (page cache included), limit hits and OOM kills."""
        if self.version == 1:
            peak = _read_int(self.path / "memory.max_usage_in_bytes")
            hits = _read_int(self.path / "memory.failcnt")
            kills = _read_keyed(self.path / "memory.oom_control").get("oom_kill")
        else:
            peak = _read_int(self.path / "memory.peak")  # Linux >= 5.19
            events = _read_keyed(self.path / "memory.events")
            hits, kills = events.get("max"), events.get("oom_kill")
        return {
            "cgroup_peak_mb": None if peak is None else peak // MB,
            "limit_hits": hits,
            "oom_kills": kills,
        }

    def remove(self) -> None:
        """Delete the cgroup (its processes must have exited); harmless when it is gone."""
        with contextlib.suppress(OSError):
            self.path.rmdir()
