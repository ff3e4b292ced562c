"""The CLI as a client of a running owner (``planvec serve``), in one place.

When a live owner serves the index named by the settings (its discovery file, see
``planvec.service.discovery``), ``search``/``index``/``check``/``health``/``quality`` send
their request to it instead of opening the index: the output and the ``--json`` shape stay
the same. Setting ``owner`` (``PLANVEC_OWNER``): ``auto`` (default: use an owner when one
runs), ``off`` (never), ``start`` (start one in the background when none runs; it exits
after ``PLANVEC_OWNER_IDLE`` seconds without a request, default 600).

Without an owner, a reader that finds the embedded index held by another short-lived
process waits for it (bounded by ``PLANVEC_WAIT_HELD``, default 30 s), saying so on stderr.

Only the standard library is imported here (plus light planvec modules): a routed call must
not pay for numpy, qdrant or the model.
"""

from __future__ import annotations

import http.client
import json
import os
import subprocess
import sys
import time
import urllib.parse
from collections.abc import Callable
from typing import Any, TypeVar

from planvec import errors
from planvec.service.discovery import OwnerInfo, discovery_path, read_discovery
from planvec.settings import Settings

T = TypeVar("T")


def find_owner(settings: Settings, env: dict[str, str] | None = None) -> OwnerInfo | None:
    """The live owner of the index named by ``settings``, if any (or started, if asked)."""
    env = dict(os.environ) if env is None else env
    mode = env.get("PLANVEC_OWNER", "auto").strip().lower() or "auto"
    if mode not in ("auto", "off", "start"):
        raise errors.ConfigError(f"PLANVEC_OWNER={mode!r}: choose auto, off or start")
    if mode == "off":
        return None
    path = discovery_path(
        settings.index_dir, settings.qdrant_url, settings.collection, settings.cache_dir
    )
    info = read_discovery(path)
    if info is None and mode == "start":
        info = start_owner(settings, path, float(env.get("PLANVEC_OWNER_IDLE", "600")))
    return info


def start_owner(settings: Settings, path: Any, idle: float, wait: float = 60.0) -> OwnerInfo | None:
    """Start ``planvec serve`` in the background for this index; its info once it is up."""
    args = [sys.executable, "-m", "planvec", "serve", "--index", str(settings.index_dir)]
    args += ["--collection", settings.collection, "--idle-timeout", str(idle)]
    if settings.qdrant_url:
        args += ["--qdrant-url", settings.qdrant_url]
    if settings.embedder != "auto":
        args += ["--embedder", settings.embedder]
    print("planvec: starting an index owner in the background (planvec serve)", file=sys.stderr)
    proc = subprocess.Popen(
        args,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
        env=dict(os.environ, PLANVEC_OWNER="off"),
    )
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        info = read_discovery(path)
        if info is not None:
            return info
        if proc.poll() is not None:  # could not start (no `serve` extra, index held...)
            return None
        time.sleep(0.05)
    return None


class OwnerUnreachable(Exception):
    """The owner named by the discovery file does not accept connections."""


def request(
    info: OwnerInfo,
    method: str,
    path: str,
    *,
    body: Any = None,
    query: dict[str, Any] | None = None,
    timeout: float | None = 60.0,
) -> Any:
    """One JSON request to the owner; a problem response becomes the matching error."""
    url = urllib.parse.urlsplit(info.url)
    if query:
        path += "?" + urllib.parse.urlencode(query, doseq=True)
    conn = http.client.HTTPConnection(url.hostname or "127.0.0.1", url.port, timeout=timeout)
    headers = {"Authorization": f"Bearer {info.token}", "Accept": "application/json"}
    data = None
    if body is not None:
        data = json.dumps(body).encode("utf-8")
        headers["Content-Type"] = "application/json"
    try:
        try:
            conn.request(method, path, body=data, headers=headers)
        except (ConnectionRefusedError, FileNotFoundError) as exc:
            raise OwnerUnreachable(str(exc)) from exc
        response = conn.getresponse()
        payload = response.read()
    except OSError as exc:
        raise errors.StoreUnavailable(
            f"the index owner at {info.url} (pid {info.pid}) failed: {exc}; "
            "retry, or bypass it with PLANVEC_OWNER=off once it is stopped"
        ) from exc
    finally:
        conn.close()
    decoded = json.loads(payload or b"null")
    if response.status >= 400:
        raise _problem_error(response.status, decoded, info)
    return decoded


def _problem_error(status: int, problem: Any, info: OwnerInfo) -> errors.PlanvecError:
    detail = problem.get("detail") if isinstance(problem, dict) else None
    title = problem.get("title") if isinstance(problem, dict) else None
    message = f"{detail or title or status} (from the index owner, pid {info.pid})"
    kind = getattr(errors, str(title), None)
    if isinstance(kind, type) and issubclass(kind, errors.PlanvecError):
        return kind(message) if kind is not errors.SourceError else errors.ConfigError(message)
    if status == 409:
        return errors.IndexLocked(message)
    if status in (400, 403, 413, 422):
        return errors.ConfigError(message)
    return errors.StoreError(message)


def call(
    settings: Settings,
    method: str,
    path: str,
    *,
    body: Any = None,
    query: dict[str, Any] | None = None,
    timeout: float | None = 60.0,
) -> Any | None:
    """The owner's answer, or ``None`` when no owner serves this index (run locally)."""
    info = find_owner(settings)
    if info is None:
        return None
    try:
        return request(info, method, path, body=body, query=query, timeout=timeout)
    except OwnerUnreachable:
        return None  # died without cleaning up: the caller runs locally


def wait_if_held(run: Callable[[], T], env: dict[str, str] | None = None) -> T:
    """``run()``; while the embedded index is open in another process, wait and retry.

    Bounded by ``PLANVEC_WAIT_HELD`` seconds (default 30, 0 fails at once); says on stderr
    that it waits. Only the "open in another process" case is retried.
    """
    env = dict(os.environ) if env is None else env
    budget = float(env.get("PLANVEC_WAIT_HELD", "30") or 0)
    deadline = time.monotonic() + budget
    delay, told = 0.05, False
    while True:
        try:
            return run()
        except errors.IndexLocked as exc:
            if "open in another process" not in str(exc) or time.monotonic() >= deadline:
                raise
            if not told:
                print(
                    f"planvec: the index is held by another planvec process; waiting up to "
                    f"{budget:.0f}s (run `planvec serve` to share it)",
                    file=sys.stderr,
                )
                told = True
            time.sleep(delay)
            delay = min(0.5, delay * 2)


# -- the routed commands: the owner's JSON turned back into what the local path returns ------


def routed_search(settings: Settings, query: str, **fields: Any) -> list[Any] | None:
    """``planvec search`` through the owner: the hits, or ``None`` without an owner."""
    answer = call(settings, "POST", "/search", body={"query": query, **fields}, timeout=120)
    if answer is None:
        return None
    from planvec.records import HitLocation, SearchHit

    return [
        SearchHit(
            id=h["id"],
            score=float(h["score"]),
            plan=h["plan"],
            line=int(h["line"]),
            text=h["text"],
            section=tuple(h["section"]),
            status=h["status"],
            key=h.get("key"),
            payload={"priority": h.get("priority")},
            also_in=tuple(
                HitLocation(c["plan"], int(c["line"]), c["id"], c["status"], c.get("score"))
                for c in h.get("also_in") or ()
            ),
        )
        for h in answer["hits"]
    ]


def routed_sync(settings: Settings, paths: Any, *, wait: bool, **fields: Any) -> Any | None:
    """``planvec index`` through the owner: a ``SyncReport``, or ``None`` without an owner."""
    body = {"paths": [os.path.abspath(p) for p in paths], **fields}
    while True:
        try:
            answer = call(settings, "POST", "/sync", body=body, timeout=None)
            break
        except errors.IndexLocked:
            if not wait:
                raise
            time.sleep(0.5)  # --wait: queue behind the running sync
    if answer is None:
        return None
    from planvec.records import SourceFailure
    from planvec.sync import Change, SyncReport

    known = set(SyncReport.__dataclass_fields__) - {"failures", "warnings", "changes", "guard"}
    report = SyncReport(**{k: v for k, v in answer.items() if k in known})
    if isinstance(answer.get("guard"), dict):
        from planvec.guard import DeleteGuard

        report.guard = DeleteGuard.from_dict(answer["guard"])
    report.failures = [SourceFailure(f["path"], f["error"]) for f in answer["failures"]]
    report.warnings = list(answer["warnings"])
    report.changes = [Change(**c) for c in answer.get("changes", [])]
    return report


def routed_check(settings: Settings, paths: Any, sample: int) -> dict[str, Any] | None:
    """``planvec check`` through the owner: the report JSON plus its Markdown renderings."""
    query = {"path": [os.path.abspath(p) for p in paths], "sample": sample, "render": "true"}
    answer: dict[str, Any] | None = call(settings, "GET", "/check", query=query, timeout=None)
    return answer


def routed_quality(settings: Settings, sample: int, dup_threshold: float) -> Any | None:
    """``planvec quality`` (measurement) through the owner: a ``QualityReport`` or ``None``."""
    query = {"sample": sample, "dup_threshold": dup_threshold, "compare": "false"}
    answer = call(settings, "GET", "/quality", query=query, timeout=None)
    if answer is None:
        return None
    from planvec.checks.quality import QualityReport

    known = set(QualityReport.__dataclass_fields__)
    return QualityReport(**{k: v for k, v in answer.items() if k in known})


def routed_health(settings: Settings) -> Any | None:
    """``planvec health`` through the owner: a ``HealthReport``, or ``None``."""
    answer = call(settings, "GET", "/health", timeout=30)
    if answer is None:
        return None
    from planvec.store.health import HealthReport

    known = set(HealthReport.__dataclass_fields__)
    return HealthReport(**{k: v for k, v in answer.items() if k in known})
