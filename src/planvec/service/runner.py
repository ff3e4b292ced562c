"""Run the owner: bind, open the index, announce it (discovery file), serve, stop cleanly.

Lifecycle: the socket is bound first (port 0 picks a free one), then the app opens the index
(holding the Edge shard and the write lock), then the discovery file is written, so a client
that finds the file finds a ready owner. SIGTERM/SIGINT: the discovery file goes away, new
connections are refused, a running sync stops at its next safe point, requests in flight
finish, the store is flushed and closed, the process exits 0. A SIGKILLed owner leaves a
stale discovery file (ignored: its pid is gone) and an index that the next owner's startup
sync converges (every write is idempotent).
"""

from __future__ import annotations

import contextlib
import logging
import os
import secrets
import signal
import socket
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from types import FrameType
from typing import Any

import uvicorn

from planvec.errors import ConfigError
from planvec.service.app import create_app
from planvec.service.config import ServiceSettings
from planvec.service.discovery import (
    OwnerInfo,
    discovery_path,
    read_discovery,
    remove_discovery,
    write_discovery,
)
from planvec.service.state import ServiceState

log = logging.getLogger("planvec.service")


def bind_socket(host: str, port: int) -> socket.socket:
    """A listening TCP socket (IPv6 when ``host`` is an IPv6 address).

    The protocol is named (``IPPROTO_TCP``, not 0): asyncio turns Nagle's algorithm off only
    on accepted sockets whose ``proto`` is TCP, and with it on, every response (headers, then
    body) waited ~40 ms for the client's delayed ACK.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host.strip("[]"), port))
    except OSError as exc:
        sock.close()
        raise ConfigError(
            f"cannot listen on {host}:{port}: {exc.strerror}; pick another --port"
        ) from exc
    sock.listen(2048)
    sock.set_inheritable(False)
    return sock


class OwnerServer(uvicorn.Server):
    """uvicorn's server, plus: announce when started, stop syncs and un-announce on signal."""

    def __init__(self, config: uvicorn.Config, state: ServiceState, announce: Any) -> None:
        super().__init__(config)
        self.state = state
        self.announce = announce

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        if not self.should_exit:
            self.announce.publish()

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        """Handle SIGINT/SIGTERM as a clean stop (uvicorn re-raises them: exit code -15)."""
        if threading.current_thread() is not threading.main_thread():
            yield
            return
        handled = (signal.SIGINT, signal.SIGTERM)
        original = {sig: signal.signal(sig, self.handle_exit) for sig in handled}
        try:
            yield
        finally:
            for sig, handler in original.items():
                signal.signal(sig, handler)

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        self.announce.withdraw()
        self.state.request_stop()
        super().handle_exit(sig, frame)


class Announcement:
    """The discovery file of this owner: written once serving, removed when stopping."""

    def __init__(self, path: Path | None, info: OwnerInfo) -> None:
        self.path, self.info = path, info

    def publish(self) -> None:
        if self.path is not None:
            write_discovery(self.path, self.info)
        mode = " read-only" if self.info.read_only else ""
        print(
            f"planvec serve: {self.info.url} (pid {self.info.pid}){mode} owns {self.info.index}",
            file=sys.stderr,
            flush=True,
        )

    def withdraw(self) -> None:
        if self.path is not None:
            remove_discovery(self.path, self.info.pid)


def serve(config: ServiceSettings, *, log_level: str = "warning") -> int:
    """Run ``planvec serve`` until a signal (or the idle timeout); returns the exit code."""
    config.check()  # before a token is generated: off loopback the user must choose one
    config = replace(config, token=config.token or secrets.token_urlsafe(32))
    s = config.index
    path: Path | None = discovery_path(s.index_dir, s.qdrant_url, s.collection, s.cache_dir)
    assert path is not None
    existing = read_discovery(path)
    if existing is not None and existing.pid != os.getpid():
        if not config.read_only:
            raise ConfigError(
                f"this index is already served by pid {existing.pid} at {existing.url}: "
                "use it, or stop it first (kill -TERM it)"
            )
        path = None  # a read replica next to the writer: reachable by URL, not announced
    sock = bind_socket(config.host, config.port)
    host, port = sock.getsockname()[:2]
    shown = f"[{host}]" if ":" in host else host
    info = OwnerInfo(
        url=f"http://{shown}:{port}",
        pid=os.getpid(),
        token=config.token or "",
        index=s.qdrant_url or str(s.index_dir.resolve()),
        started_at=time.time(),
        read_only=config.read_only,
    )
    state = ServiceState(config)
    try:
        state.open()  # errors here are clean CLI errors, before anything is announced
    except BaseException:
        sock.close()
        raise
    app = create_app(config, state=state)
    uv = uvicorn.Config(
        app,
        log_level=log_level,
        access_log=False,
        lifespan="on",
        timeout_graceful_shutdown=30,
        timeout_keep_alive=30,
    )
    server = OwnerServer(uv, state, Announcement(path, info))
    if config.idle_timeout:
        _exit_when_idle(server, state, config.idle_timeout)
    try:
        server.run(sockets=[sock])
    finally:
        Announcement(path, info).withdraw()
        state.close()  # a running sync stops at its safe point; flush; release the locks
        sock.close()
    return 0 if server.started else 1


def _exit_when_idle(server: OwnerServer, state: ServiceState, idle: float) -> None:
    def loop() -> None:
        while not server.should_exit:
            time.sleep(min(1.0, idle / 4))
            quiet = time.monotonic() - state.last_request
            if quiet >= idle and not state.sync_running:
                log.info("idle for %.0fs: exiting", quiet)
                server.handle_exit(0, None)
                return

    threading.Thread(target=loop, name="planvec-idle", daemon=True).start()
