"""``planvec health`` as a library call: is the store reachable, is the collection there?

``health_report`` opens the store and the collection, compares the point count with the
manifest, reads a sample of points whole (vectors, sparse vectors, payloads), and reports
a last sync that was interrupted (the manifest's ``sync_in_progress`` marker left by a
killed run). An index another process is writing is *busy*, not missing. It never raises
for an unhealthy store: everything wrong is listed in ``problems`` with what to do, so the
CLI can print it and exit 1.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from planvec.errors import REBUILD_HINT, IndexLocked, PlanvecError
from planvec.redact import redact_text
from planvec.settings import StoreConfig, StoreTarget, parse_store_url
from planvec.store.factory import open_configured_store
from planvec.store.probe import sample_points

#: the manifest key a running sync sets (``planvec.manifest.SYNC_MARKER``)
_SYNC_MARKER = "sync_in_progress"

#: Manifest keys shown first in the summary (others follow, scalars only).
_SUMMARY_KEYS = (
    "schema_version", "model", "model_id", "dimension", "distance", "lexical",
    "created_at", "updated_at",
)  # fmt: skip


#: Nested manifest objects with more entries than this are summarized by their size.
_MAX_NESTED = 16


@dataclass
class HealthReport:
    """What ``planvec health`` prints. ``ok`` is true when ``problems`` is empty."""

    backend: str
    location: str
    collection: str
    reachable: bool = False
    collection_present: bool = False
    points: int | None = None
    dimension: int | None = None
    distance: str | None = None
    sparse: bool | None = None
    manifest: dict[str, Any] | None = None
    busy: bool = False
    interrupted_sync: dict[str, Any] | None = None
    manifest_points: int | None = None
    sampled: int | None = None
    collections: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Healthy: reachable, collection present, nothing wrong."""
        return not self.problems

    @property
    def status(self) -> str:
        """``ok``, ``busy`` (another process is writing; not fully checked) or ``unhealthy``."""
        if self.problems:
            return "unhealthy"
        return "busy" if self.busy else "ok"

    def to_dict(self) -> dict[str, Any]:
        """The JSON form (``planvec health --json``)."""
        data = asdict(self)
        data["ok"] = self.ok
        for key in ("problems", "warnings"):  # third-party texts may quote a URL
            data[key] = [redact_text(str(line)) for line in data[key]]
        data["status"] = self.status
        return data


def summarize_manifest(manifest: dict[str, Any]) -> dict[str, Any]:
    """A short, flat view of a manifest: known keys first, scalars only, nested one level.

    Args:
        manifest: the manifest as stored.

    Returns:
        ``{key: scalar}``; nested dicts become ``parent.key`` (big ones ``parent.count``),
        lists their length.
    """
    out: dict[str, Any] = {}
    ordered = [k for k in _SUMMARY_KEYS if k in manifest]
    ordered += sorted(k for k in manifest if k not in _SUMMARY_KEYS)
    for key in ordered:
        value = manifest[key]
        if isinstance(value, dict) and len(value) > _MAX_NESTED:
            out[f"{key}.count"] = len(value)  # e.g. one entry per plan: too long to show
        elif isinstance(value, dict):
            for sub, inner in value.items():
                if inner is None or isinstance(inner, str | int | float | bool):
                    out[f"{key}.{sub}"] = inner
        elif isinstance(value, list):
            out[f"{key}.count"] = len(value)
        else:
            out[key] = value
    return out


def _location(target: StoreTarget, index_dir: Path) -> tuple[str, str]:
    if target.kind == "edge":
        return "edge", str(index_dir)
    if target.kind == "memory":
        return "memory", "memory://"
    if target.kind == "local":
        return "local", redact_text(f"local://{target.address}")
    return "server", redact_text(target.address)


def health_report(
    config: StoreConfig, collection: str, *, writer: str | None = None
) -> HealthReport:
    """Check the store and one collection; never raises for an unhealthy store.

    One attempt per request and at most 10 s each: a health check answers fast.

    Args:
        config: where the store is (``Settings.store``; the API key is never reported).
        collection: the collection that should be there.
        writer: pid of the process holding the index's write lock, if one does.

    Returns:
        The report; ``report.ok`` says whether everything is fine.
    """
    try:
        backend, location = _location(config.target, config.index_dir)
    except PlanvecError as exc:
        report = HealthReport(backend="?", location="?", collection=collection)
        report.problems.append(str(exc))
        return report
    report = HealthReport(backend=backend, location=location, collection=collection)
    if writer is not None:
        report.busy = True
        report.warnings.append(
            f"busy: planvec process {writer} is writing this index; run health again when it"
            " is done for a full check"
        )
    try:
        store = open_configured_store(replace(config, retries=1, timeout=min(config.timeout, 10.0)))
    except PlanvecError as exc:
        report.problems.append(redact_text(str(exc)))
        return report
    try:
        _fill(report, store, config.index_dir)
    except IndexLocked as exc:  # an Edge shard open in another process
        if not report.busy:
            report.busy = True
            report.warnings.append(f"busy: {exc}")
    finally:
        store.close()
    return report


def _fill(report: HealthReport, store: Any, index_dir: Path) -> None:
    health = store.health()
    report.reachable = health.ok
    report.collections = list(health.collections)
    if not health.ok:
        report.problems.append(health.detail or "the store does not answer")
        return
    if health.detail:
        report.warnings.append(health.detail)
    where = report.location
    try:
        info = store.collection_info(report.collection)
        if info is None:
            hint = "" if report.backend != "edge" else f" --index {index_dir}"
            report.problems.append(
                f"collection {report.collection!r} not found at {where}: run"
                f" `planvec index PATHS{hint}` or pick one of: {', '.join(report.collections)}"
                if report.collections
                else f"collection {report.collection!r} not found at {where}: run"
                f" `planvec index PATHS{hint}` first"
            )
            return
        report.collection_present = True
        report.points, report.dimension = info.points, info.dimension
        report.distance, report.sparse = info.distance, info.sparse
        manifest = store.read_manifest(report.collection)
    except IndexLocked:
        raise  # busy: ``health_report`` says so
    except PlanvecError as exc:
        report.problems.append(str(exc))
        return
    if manifest is None:
        if info.points:
            report.problems.append(
                f"collection {report.collection!r} holds {info.points} points but no planvec"
                f" manifest (lost, or written by another tool): {REBUILD_HINT}; a legacy"
                " collection is imported with `planvec migrate-legacy`"
            )
        return
    report.manifest = summarize_manifest(manifest)
    built_dim = manifest.get("dimension")
    if isinstance(built_dim, int) and built_dim != info.dimension:
        report.problems.append(
            f"manifest says {built_dim}-d vectors but the collection holds"
            f" {info.dimension}-d: {REBUILD_HINT}"
        )
    _check_state(report, store, manifest, info.points)


def _check_state(report: HealthReport, store: Any, manifest: dict[str, Any], points: int) -> None:
    """Interrupted sync, point count against the manifest, a sample of points read whole."""
    marker = manifest.get(_SYNC_MARKER)
    if isinstance(marker, dict) and not report.busy:
        report.interrupted_sync = marker
        report.problems.append(
            f"the last sync (started {marker.get('started_at')}, pid {marker.get('pid')}) was"
            " interrupted: the index may lag behind its plans; rerun `planvec index PATHS`"
        )
    plans = manifest.get("plans")
    if isinstance(plans, dict):
        report.manifest_points = sum(int(n) for n in plans.values() if isinstance(n, int))
        if report.manifest_points != points and not report.busy and marker is None:
            report.problems.append(
                f"the manifest counts {report.manifest_points} points but the collection holds"
                f" {points}: points were lost or added outside planvec; `planvec check PATHS`"
                f" says which, or {REBUILD_HINT}"
            )
    try:
        report.sampled = sample_points(store, report.collection)
    except IndexLocked:
        raise
    except PlanvecError as exc:
        report.problems.append(str(exc))


def store_health_report(
    store: Any, *, index_dir: Path, collection: str, qdrant_url: str | None = None
) -> HealthReport:
    """``health_report`` for a store that is already open (the owner's, in ``planvec serve``)."""
    backend, location = _location(parse_store_url(qdrant_url), index_dir)
    report = HealthReport(backend=backend, location=location, collection=collection)
    _fill(report, store, index_dir)
    return report
