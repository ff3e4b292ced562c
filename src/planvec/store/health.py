"""``planvec health`` as a library call: is the store reachable, is the collection there?

``health_report`` opens the store, asks it a few cheap questions and closes it. It never
raises for an unhealthy store: everything wrong is listed in ``problems`` with what to do,
so the CLI can print it and exit 1.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from planvec.errors import PlanvecError
from planvec.store.factory import open_store

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
    collections: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Healthy: reachable, collection present, nothing wrong."""
        return not self.problems

    def to_dict(self) -> dict[str, Any]:
        """The JSON form (``planvec health --json``)."""
        data = asdict(self)
        data["ok"] = self.ok
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


def _location(index_dir: Path, qdrant_url: str | None) -> tuple[str, str]:
    if not qdrant_url:
        return "edge", str(index_dir)
    if qdrant_url.startswith("memory://"):
        return "memory", "memory://"
    if qdrant_url.startswith("local://"):
        return "local", qdrant_url
    return "server", qdrant_url


def health_report(
    *,
    index_dir: Path,
    collection: str,
    qdrant_url: str | None = None,
    api_key: str | None = None,
    timeout: float = 10,
    grpc: bool = False,
    verify_tls: bool = True,
) -> HealthReport:
    """Check the store and one collection; never raises for an unhealthy store.

    Args:
        index_dir: embedded index directory.
        collection: the collection that should be there.
        qdrant_url: server URL, ``memory://``, ``local://`` or ``None`` (embedded).
        api_key: server API key (never reported).
        timeout: per-request timeout (seconds).
        grpc: prefer gRPC.
        verify_tls: verify TLS certificates.

    Returns:
        The report; ``report.ok`` says whether everything is fine.
    """
    backend, location = _location(index_dir, qdrant_url)
    report = HealthReport(backend=backend, location=location, collection=collection)
    try:
        store = open_store(
            index_dir=index_dir,
            qdrant_url=qdrant_url,
            api_key=api_key,
            timeout=timeout,
            retries=1,
            grpc=grpc,
            verify_tls=verify_tls,
        )
    except PlanvecError as exc:
        report.problems.append(str(exc))
        return report
    try:
        _fill(report, store, index_dir)
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
    except PlanvecError as exc:
        report.problems.append(str(exc))
        return
    if manifest is None:
        report.warnings.append(
            f"collection {report.collection!r} has no planvec manifest (legacy or foreign"
            " collection): `planvec index` writes one"
        )
    else:
        report.manifest = summarize_manifest(manifest)
        built_dim = manifest.get("dimension")
        if isinstance(built_dim, int) and built_dim != info.dimension:
            report.problems.append(
                f"manifest says {built_dim}-d vectors but the collection holds"
                f" {info.dimension}-d: rebuild with `planvec index --rebuild`"
            )


def store_health_report(
    store: Any, *, index_dir: Path, collection: str, qdrant_url: str | None = None
) -> HealthReport:
    """``health_report`` for a store that is already open (the owner's, in ``planvec serve``)."""
    backend, location = _location(index_dir, qdrant_url)
    report = HealthReport(backend=backend, location=location, collection=collection)
    _fill(report, store, index_dir)
    return report
