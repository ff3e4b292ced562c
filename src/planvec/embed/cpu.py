"""Small host facts the backends tune themselves with: core count, bf16 support.

bf16 inference is only a win on CPUs with native bf16 matrix units (AMX or AVX512-BF16);
elsewhere it is emulated and slower than fp32, so it is used only when the flags say so.
"""

from __future__ import annotations

import os
from pathlib import Path

_BF16_FLAGS = frozenset({"amx_bf16", "avx512_bf16"})


def cpu_flags(cpuinfo: Path = Path("/proc/cpuinfo")) -> frozenset[str]:
    """The feature flags of the first CPU listed in ``cpuinfo`` (empty when unreadable).

    Args:
        cpuinfo: the file to read (Linux format); other systems just get no flags.

    Returns:
        The set of flag names.
    """
    try:
        with cpuinfo.open(encoding="utf-8", errors="replace") as handle:
            for line in handle:
                if line.startswith("flags"):
                    return frozenset(line.partition(":")[2].split())
    except OSError:
        pass
    return frozenset()


def supports_bf16(flags: frozenset[str] | None = None) -> bool:
    """Whether this CPU runs bf16 matrix products natively.

    Args:
        flags: CPU flags to judge (defaults to this machine's).

    Returns:
        True when AMX-BF16 or AVX512-BF16 is present.
    """
    return bool(_BF16_FLAGS & (cpu_flags() if flags is None else flags))


def core_count() -> int:
    """Cores this process may run on (affinity-aware), at least 1."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def core_is_idle(load: float | None = None) -> bool:
    """Whether a core is likely free for a second thread of this process: the 1-minute load
    average leaves at least one usable core idle (True where the system has no load
    average). Hybrid search overlaps its lexical side with the query embedding only then:
    on a saturated machine the second thread only queues for a core, and the overlap
    measured 3 ms slower at p50 than doing both in turn (docs/store.md).

    Args:
        load: the load average to judge (defaults to this machine's, 1 minute).
    """
    if load is None:
        try:
            load = os.getloadavg()[0]
        except (AttributeError, OSError):
            return True
    return load <= core_count() - 1
