"""The service's own knobs, next to the index ``Settings`` (built only at the edges)."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from pathlib import Path

from planvec.errors import ConfigError
from planvec.settings import Settings


@dataclass(frozen=True)
class ServiceSettings:
    """Everything ``planvec serve`` needs. ``token`` is never printed or logged.

    Attributes:
        index: where the index lives and which embedder to use.
        paths: plan files/directories that ``POST /sync`` and ``--watch`` sync by default.
        host / port: where to listen (port 0: any free port, told by the discovery file).
        token: bearer token required by every endpoint but probes and metrics.
        watch: follow ``paths`` and sync on change.
        read_only: refuse syncs (a read replica of a server collection).
        debounce: seconds of quiet after a change before a watch sync starts.
        max_body / max_query_chars / max_limit: request limits.
        quality_interval: seconds between quality runs (0: never).
        quality_threshold: largest acceptable drop of a quality metric versus the baseline.
        quality_sample: tasks sampled by each quality run.
        webhook_url: where drift alerts are POSTed (JSON), if anywhere.
        webhook_timeout / webhook_retries: per attempt, and attempts after the first.
        idle_timeout: exit after this many seconds without a request (auto-started owners).
        sync_backoff_max: longest pause between failed watch syncs.
        sync_on_start: sync ``paths`` when the service starts (converges after a crash).
        manager_paths: project directories the managers scan (``POST /managers/run``;
            with ``watch``, a changed manifest re-runs the dependency manager).
    """

    index: Settings = field(default_factory=Settings)
    paths: tuple[Path, ...] = ()
    host: str = "127.0.0.1"
    port: int = 0
    token: str | None = None
    watch: bool = False
    read_only: bool = False
    debounce: float = 0.4
    max_body: int = 64 * 1024
    max_query_chars: int = 2000
    max_limit: int = 200
    quality_interval: float = 0.0
    quality_threshold: float = 0.05
    quality_sample: int = 200
    webhook_url: str | None = None
    webhook_timeout: float = 5.0
    webhook_retries: int = 2
    idle_timeout: float | None = None
    sync_backoff_max: float = 60.0
    sync_on_start: bool = True
    #: project directories the managers scan (``serve --managers PATH``); docs/managers.md
    manager_paths: tuple[Path, ...] = ()

    def __repr__(self) -> str:
        shown = "***" if self.token else None
        return f"ServiceSettings(host={self.host!r}, port={self.port}, token={shown})"

    def check(self) -> None:
        """Refuse unsafe or impossible combinations (a ``ConfigError`` saying how to fix)."""
        if not is_loopback(self.host) and not self.token:
            raise ConfigError(
                f"refusing to listen on {self.host} without a token: set PLANVEC_API_TOKEN "
                "(clients send it as 'Authorization: Bearer ...'), or bind 127.0.0.1"
            )
        if self.watch and not self.paths:
            raise ConfigError(
                "--watch needs plan PATHs to follow: planvec serve docs/plans --watch"
            )
        if self.watch and self.read_only:
            raise ConfigError("--watch syncs the index: it cannot be combined with --read-only")
        if self.webhook_url and not self.webhook_url.startswith(("http://", "https://")):
            raise ConfigError(f"webhook URL {self.webhook_url!r} must start with http(s)://")


def is_loopback(host: str) -> bool:
    """Whether ``host`` only accepts connections from this machine."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False
