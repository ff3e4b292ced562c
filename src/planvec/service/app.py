"""The ASGI app factory: ``create_app(settings)`` returns a FastAPI app; no global instance.

The app opens the index when it starts (lifespan) and closes it when it stops: a running
sync is stopped at its next safe point, the store is flushed, locks are released. Background
jobs (``--watch``, periodic quality) start and stop with it.
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from starlette.concurrency import run_in_threadpool

from planvec import __version__
from planvec.service.config import ServiceSettings
from planvec.service.errors import (
    ASGIApp,
    BodyLimit,
    Message,
    Receive,
    Scope,
    Send,
    install_error_handlers,
)
from planvec.service.routes import api_router, probe_router
from planvec.service.state import ServiceState

log = logging.getLogger("planvec.service")

DESCRIPTION = """\
One process owns the index, the warm embedding model and the cache; everything else is its
client. Errors are RFC 9457 problem details. Every endpoint but the probes (`/healthz`,
`/readyz`) and `/metrics` needs `Authorization: Bearer <token>` when the service has a token.
"""


def create_app(settings: ServiceSettings, *, state: ServiceState | None = None) -> FastAPI:
    """Build the app.

    Args:
        settings: the service settings (checked: a non-loopback bind needs a token).
        state: an already open state (tests); by default one is opened at startup and
            closed at shutdown.

    Returns:
        The FastAPI app; ``app.state.planvec`` is the ``ServiceState``.
    """
    settings.check()
    owned = state is None
    service = state if state is not None else ServiceState(settings)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        if owned:
            await run_in_threadpool(service.open)
        from planvec.service.jobs import start_jobs

        jobs = start_jobs(service)
        try:
            yield
        finally:
            service.request_stop()
            for job in jobs:
                job.stop()
            if owned:
                await run_in_threadpool(service.close)

    app = FastAPI(
        title="planvec",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
    )
    app.state.planvec = service
    install_error_handlers(app)
    app.include_router(probe_router(service))
    app.include_router(api_router(service))
    app.add_middleware(RequestMetrics, state=service)
    app.add_middleware(BodyLimit, max_body=settings.max_body)
    return app


class RequestMetrics:
    """ASGI middleware: count requests by route and status; note activity (idle exit)."""

    def __init__(self, app: ASGIApp, state: ServiceState) -> None:
        self.app = app
        self.state = state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        self.state.last_request = time.monotonic()
        status = [500]

        async def capture(message: Message) -> None:
            if message["type"] == "http.response.start":
                status[0] = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, capture)
        finally:
            route: Any = scope.get("route")
            name = getattr(route, "path", None) or "unmatched"
            self.state.metrics.http_requests.labels(scope["method"], name, str(status[0])).inc()
            self.state.last_request = time.monotonic()
