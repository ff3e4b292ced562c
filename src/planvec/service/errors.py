"""Errors as RFC 9457 problem details (``application/problem+json``), and the request guards.

Every error the API returns is ``{"type", "title", "status", "detail"}`` plus extras; the
``PlanvecError`` tree maps to HTTP statuses here, in one table. Messages are the library's:
they already say how to fix the problem. Internal errors are logged with their traceback and
answered with a generic 500 (never a traceback, never a secret).
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from fastapi import FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from planvec import errors
from planvec.service.state import ReadOnlyService, SyncBusy, SyncCancelled

log = logging.getLogger("planvec.service")

PROBLEM = "application/problem+json"

#: Most specific first: the first class an error is an instance of gives its status.
STATUS_OF: tuple[tuple[type[errors.PlanvecError], int], ...] = (
    (errors.TaskNotFound, 404),
    (SyncBusy, 409),
    (ReadOnlyService, 403),
    (SyncCancelled, 503),
    (errors.IndexLocked, 409),
    (errors.DeleteRefused, 409),
    (errors.IndexMismatch, 409),
    (errors.ConfigError, 400),
    (errors.SourceError, 400),
    (errors.CollectionNotFound, 503),
    (errors.StoreUnavailable, 503),
    (errors.StoreTimeout, 504),
    (errors.CheckFailed, 503),
    (errors.StoreError, 502),
    (errors.EmbedError, 500),
)


def problem(status: int, title: str, detail: str, **extra: Any) -> JSONResponse:
    """A problem-details response."""
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail}
    body.update(extra)
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse(body, status_code=status, media_type=PROBLEM, headers=headers)


def status_for(exc: errors.PlanvecError) -> int:
    """The HTTP status of a library error."""
    for kind, status in STATUS_OF:
        if isinstance(exc, kind):
            return status
    return 500


def install_error_handlers(app: FastAPI) -> None:
    """Map library errors, validation errors, HTTP errors and bugs to problem details."""

    async def on_planvec(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, errors.PlanvecError)
        status = status_for(exc)
        if status >= 500:
            log.warning("request failed: %s: %s", type(exc).__name__, exc)
        return problem(status, type(exc).__name__, str(exc))

    async def on_validation(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        details = [
            {"loc": list(e.get("loc", ())), "msg": str(e.get("msg", ""))} for e in exc.errors()
        ]
        return problem(422, "Invalid request", "the request does not match the API", errors=details)

    async def on_http(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        return problem(exc.status_code, _title(exc.status_code), str(exc.detail))

    async def on_bug(_: Request, exc: Exception) -> JSONResponse:
        log.error("internal error", exc_info=exc)
        return problem(500, "Internal error", "an internal error occurred; see the server log")

    app.add_exception_handler(errors.PlanvecError, on_planvec)
    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(StarletteHTTPException, on_http)
    app.add_exception_handler(Exception, on_bug)


def _title(status: int) -> str:
    from http import HTTPStatus

    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def check_token(request: Request, token: str | None) -> None:
    """Require ``Authorization: Bearer <token>`` (constant-time) when a token is set."""
    if not token:
        return
    header = request.headers.get("authorization", "")
    scheme, _, given = header.partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(
        given.strip().encode("utf-8", "surrogateescape"), token.encode("utf-8")
    ):
        raise HTTPException(401, "missing or wrong bearer token (Authorization: Bearer ...)")


Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


class BodyLimit:
    """ASGI middleware: refuse request bodies larger than ``max_body`` bytes (413)."""

    def __init__(self, app: ASGIApp, max_body: int) -> None:
        self.app = app
        self.max_body = max_body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        length = dict(scope.get("headers") or []).get(b"content-length")
        if length is not None and (not length.isdigit() or int(length) > self.max_body):
            await _send_problem(send, 413, f"request body larger than {self.max_body} bytes")
            return
        seen = 0

        async def limited() -> Message:
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > self.max_body:
                raise HTTPException(413, f"request body larger than {self.max_body} bytes")
            return message

        await self.app(scope, limited, send)


async def _send_problem(send: Send, status: int, detail: str) -> None:
    response = problem(status, _title(status), detail)
    await send({"type": "http.response.start", "status": status, "headers": response.raw_headers})
    await send({"type": "http.response.body", "body": response.body})
