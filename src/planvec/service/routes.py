"""The endpoints: each parses its request, makes one library call, returns its JSON.

No ``from __future__ import annotations`` here: FastAPI reads the annotations of the route
functions, and the search body is a class built per app (its limits come from settings).
Blocking library calls run in FastAPI's thread pool (plain ``def`` routes), so many readers
proceed at once while a sync runs.
"""

import contextlib
import os
import time
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import JSONResponse

from planvec.operations import get_task, list_plans, plan_progress
from planvec.service.errors import check_token
from planvec.service.managers import refresh_manager_gauges, run_service_managers
from planvec.service.models import ManagersRunBody, SyncBody, search_body
from planvec.service.state import ServiceState

STARTED = time.time()


def probe_router(state: ServiceState) -> APIRouter:
    """Liveness, readiness and metrics: no token (orchestrators and Prometheus scrape them)."""
    router = APIRouter(tags=["probes"])

    @router.get("/healthz", summary="Liveness: the process answers.")
    def healthz() -> dict[str, Any]:
        return {"status": "ok", "pid": os.getpid(), "uptime_seconds": round(time.time() - STARTED)}

    @router.get("/readyz", summary="Readiness: store reachable, manifest valid, freshness.")
    def readyz(
        strict: Annotated[bool, Query(description="Also require a fresh index.")] = False,
    ) -> Any:
        body = readiness(state)
        ready = body["ready"] and (body["fresh"] or not strict)
        return JSONResponse(body, status_code=200 if ready else 503)

    @router.get("/metrics", summary="Prometheus metrics.", response_class=Response)
    def metrics() -> Response:
        data = state.metrics.on_scrape(lambda: _refresh(state))
        return Response(data, media_type=state.metrics.content_type)

    return router


def _refresh(state: ServiceState) -> None:
    try:
        state.freshness()
    except Exception:  # a scrape must answer even when the index is unreadable
        state.metrics.plans_changed.set(-1)
    with contextlib.suppress(Exception):
        refresh_manager_gauges(state)


def readiness(state: ServiceState) -> dict[str, Any]:
    """The ``/readyz`` body: checks, then freshness; ``ready`` needs store and manifest."""
    checks: dict[str, Any] = {}
    try:
        health = state.index.store_health()
        checks["store"] = {"ok": health.ok, "detail": health.detail}
        state.index.check_manifest()
        checks["manifest"] = {"ok": True, "detail": ""}
    except Exception as exc:
        checks.setdefault("store", {"ok": False, "detail": str(exc)})
        checks["manifest"] = {"ok": False, "detail": str(exc)}
    body: dict[str, Any] = {"ready": all(c["ok"] for c in checks.values()), "checks": checks}
    try:
        body.update(state.freshness())
    except Exception as exc:
        body.update({"fresh": False, "freshness_error": str(exc)})
    with contextlib.suppress(Exception):  # managers never make the service unready
        body["managers"] = refresh_manager_gauges(state)
    return body


def api_router(state: ServiceState) -> APIRouter:
    """The token-protected API."""
    config = state.config

    def authorized(request: Request) -> None:
        check_token(request, config.token)

    router = APIRouter(dependencies=[Depends(authorized)])
    SearchBody = search_body(config)

    @router.post("/search", tags=["search"], summary="Search tasks (hybrid, dense, lexical).")
    def search(body: SearchBody) -> dict[str, Any]:  # type: ignore[valid-type]
        fields = body.model_dump()  # type: ignore[attr-defined]
        started = time.perf_counter()
        hits = state.search(fields.pop("query"), **fields)
        took = round(1000 * (time.perf_counter() - started), 3)
        return {"hits": [hit.to_dict() for hit in hits], "took_ms": took}

    @router.get("/tasks/{task_id}", tags=["tasks"], summary="One task, its parents, children.")
    def task(task_id: str) -> dict[str, Any]:
        return get_task(state.index, task_id)

    @router.get("/plans", tags=["plans"], summary="Every plan with its progress.")
    def plans() -> dict[str, Any]:
        return list_plans(state.index)

    @router.get("/plans/{plan:path}", tags=["plans"], summary="One plan, per-section progress.")
    def plan(plan: str) -> dict[str, Any]:
        return plan_progress(state.index, plan)[0].to_dict()

    @router.post("/sync", tags=["index"], summary="Sync plans into the index (409 if running).")
    def sync(body: SyncBody) -> dict[str, Any]:
        paths = [Path(p) for p in body.paths] if body.paths else None
        report = state.sync(
            paths,
            dry_run=body.dry_run,
            delete_missing=not body.keep_missing,
            batch_size=body.batch_size,
            allow_delete=body.allow_delete,
        )
        return report.to_dict()

    @router.get("/managers", tags=["managers"], summary="Each manager's health and item count.")
    def managers() -> dict[str, Any]:
        return {"managers": refresh_manager_gauges(state)}

    @router.post("/managers/run", tags=["managers"], summary="Run managers over --managers PATHs.")
    def managers_run(body: ManagersRunBody) -> dict[str, Any]:
        return run_service_managers(state, body.names or ()).to_dict()

    _add_check_routes(router, state)
    return router


def _add_check_routes(router: APIRouter, state: ServiceState) -> None:
    @router.get("/check", tags=["checks"], summary="Consistency check (planvec check).")
    def check(
        path: Annotated[list[str] | None, Query(max_length=256)] = None,
        sample: Annotated[int, Query(ge=0, le=100_000)] = 256,
        render: Annotated[bool, Query(description="Also return the Markdown report.")] = False,
    ) -> dict[str, Any]:
        report = state.check([Path(p) for p in path or []], sample)
        out = report.to_dict()
        if render:
            out["markdown"] = report.to_markdown()
            out["markdown_short"] = report.to_markdown(max_per_kind=10)
        return out

    @router.get("/quality", tags=["checks"], summary="Embedding quality (planvec quality).")
    def quality(
        sample: Annotated[int, Query(ge=1, le=100_000)] = 500,
        dup_threshold: Annotated[float, Query(ge=0, le=1)] = 0.95,
        compare: Annotated[bool, Query(description="Compare with the stored baseline.")] = True,
    ) -> dict[str, Any]:
        from planvec.service.quality import measure_against_baseline

        return measure_against_baseline(state, sample, dup_threshold, compare=compare).to_dict()

    @router.get("/health", tags=["checks"], summary="Store health (planvec health).")
    def health() -> dict[str, Any]:
        return state.health().to_dict()
