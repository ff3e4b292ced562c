"""What the MCP tools compute, without the MCP SDK: plain functions over one index.

``PlanBackend`` answers every tool and resource of ``planvec mcp`` with JSON-ready data.
When a running owner (``planvec serve``) serves the index, requests go to it through the
injected ``owner_call`` (the CLI's ``planvec.cli.owner.call``: this package sits below the
CLI and cannot import it). Otherwise the index is opened *per call* and closed again: an
embedded (Edge) index directory is held by one process at a time, so keeping it open for
the server's lifetime would lock ``planvec index`` out while an assistant is connected. The
embedder is built once and reused across calls, so the model is loaded once.

Every method raises ``PlanvecError`` subclasses with an actionable message on bad input;
the server turns them into tool errors.
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from planvec.embed.base import Embedder
from planvec.errors import ConfigError, PlanvecError, TaskNotFound
from planvec.index import Index
from planvec.operations import get_task, list_plans, plan_progress
from planvec.settings import Settings
from planvec.wiring import open_index

T = TypeVar("T")
#: ``owner_call(method, path, body=..., query=..., timeout=...)``: the owner's JSON answer,
#: or ``None`` when no owner serves the index.
OwnerCall = Callable[..., Any]
#: ``wait(run)``: ``run()``, retried while another short-lived process holds the index.
Waiter = Callable[[Callable[[], Any]], Any]

MAX_LIMIT = 50
MAX_QUERY_CHARS = 2000
STATUSES = ("todo", "done", "in_progress", "cancelled", "item")
KINDS = ("task",)


def _no_owner(*_: Any, **__: Any) -> None:
    return None


def _run(run: Callable[[], Any]) -> Any:
    return run()


class PlanBackend:
    """The data behind the MCP tools, for the index named by ``settings``."""

    def __init__(
        self,
        settings: Settings,
        *,
        owner_call: OwnerCall = _no_owner,
        wait: Waiter = _run,
        allow_write: bool = False,
    ) -> None:
        self.settings = settings
        self.allow_write = allow_write
        self._owner_call = owner_call
        self._wait = wait
        self._embedder: Embedder | None = None

    # -- plumbing ----------------------------------------------------------------------------

    @contextmanager
    def _index(self, *, write: bool = False) -> Iterator[Index]:
        index = open_index(self.settings, write=write, embedder=self._embedder)
        try:
            self._embedder = index.embedder
            yield index
        finally:
            index.close()

    def _local(self, read: Callable[[Index], T]) -> T:
        def run() -> T:
            with self._index() as index:
                return read(index)

        result: T = self._wait(run)
        return result

    def _owner(self, method: str, path: str, **kwargs: Any) -> Any:
        return self._owner_call(method, path, **kwargs)

    # -- tools -------------------------------------------------------------------------------

    def search_tasks(
        self,
        query: str,
        *,
        plan: str | None = None,
        status: str | None = None,
        section: str | None = None,
        kind: str | None = None,
        limit: int = 10,
        mode: str = "hybrid",
        collapse: bool = True,
    ) -> list[dict[str, Any]]:
        """Ranked tasks for ``query`` (the ``SearchHit.to_dict`` form)."""
        query = _checked_query(query)
        limit = _checked_limit(limit)
        if kind is not None and kind not in KINDS:
            raise ConfigError(
                f"kind={kind!r}: only 'task' exists in this index (managers come later); "
                "omit kind or pass 'task'"
            )
        if status is not None:
            given, status = status, status.strip().lower().replace("-", "_").replace(" ", "_")
            if status not in STATUSES:
                raise ConfigError(f"status={given!r}: choose one of {', '.join(STATUSES)}")
        fields = {"plan": plan, "status": status, "section": section}
        body = {"query": query, "limit": limit, "mode": mode, "collapse": collapse, **fields}
        answer = self._owner("POST", "/search", body=body, timeout=120)
        if answer is not None:
            return list(answer["hits"])
        return self._local(
            lambda index: [
                hit.to_dict()
                for hit in index.search(query, limit=limit, mode=mode, collapse=collapse, **fields)
            ]
        )

    def get_task(self, task_id: str) -> dict[str, Any]:
        """One task with its parent chain (nearest first) and its children."""
        if not isinstance(task_id, str) or not task_id.strip():
            raise TaskNotFound("id is empty: pass a task id as returned by search_tasks")
        task_id = task_id.strip()
        quoted = urllib.parse.quote(task_id, safe="")
        answer = self._owner("GET", f"/tasks/{quoted}", timeout=30)
        if answer is not None:
            return dict(answer)
        try:
            return self._local(lambda index: get_task(index, task_id, max_children=200))
        except TaskNotFound as exc:
            raise TaskNotFound(f"{exc}; use the id of a search_tasks hit") from exc

    def list_plans(self) -> dict[str, Any]:
        """Every plan with its totals, the grand totals and the index root."""
        answer = self._owner("GET", "/plans", timeout=60)
        if answer is not None:
            return dict(answer)
        return self._local(list_plans)

    def plan_progress(self, plan: str | None = None) -> list[dict[str, Any]]:
        """Progress per plan with its top-level sections (all plans, or ``plan`` alone)."""
        if plan is not None:
            quoted = urllib.parse.quote(plan, safe="/")
            answer = self._owner("GET", f"/plans/{quoted}", timeout=60)
            if answer is not None:
                return [dict(answer)]
            return self._local(lambda index: [p.to_dict() for p in plan_progress(index, plan)])
        listed = self._owner("GET", "/plans", timeout=60)
        if listed is not None:
            return [self.plan_progress(p["plan"])[0] for p in listed["plans"]]
        return self._local(lambda index: [p.to_dict() for p in plan_progress(index)])

    def find_similar_tasks(
        self, *, text: str | None = None, task_id: str | None = None, limit: int = 10
    ) -> dict[str, Any]:
        """Near duplicates of a text or of a task, across plans (dense search).

        Returns ``{"query", "of" (the task, when by id), "exact" (same text elsewhere),
        "similar" (nearest other tasks, best first)}``.
        """
        if (text is None) == (task_id is None):
            raise ConfigError("give exactly one of text or id (the task whose duplicates to find)")
        limit = _checked_limit(limit)
        of = None
        if task_id is not None:
            of = self.get_task(task_id)["task"]
            text = str(of["text"])
        query = _checked_query(text or "")
        hits = self.search_tasks(query, limit=limit + 1, mode="dense", collapse=True)
        exclude = {of["id"]} if of else set()
        exact: list[dict[str, Any]] = []
        similar: list[dict[str, Any]] = []
        wanted = " ".join(query.split()).casefold()
        for hit in hits:
            locations = [_location(hit), *hit.get("also_in", [])]
            same = " ".join(str(hit["text"]).split()).casefold() == wanted
            for loc in locations:
                if loc["id"] in exclude:
                    continue
                entry = {**loc, "text": hit["text"], "score": hit["score"]}
                (exact if same else similar).append(entry)
        return {"query": query, "of": of, "exact": exact, "similar": similar[:limit]}

    def check_index(self, *, against_plans: bool = True, sample: int = 64) -> dict[str, Any]:
        """``planvec check`` (read-only) on the index, against the plans under its root."""
        root = self.list_plans().get("root") if against_plans else None
        paths = [root] if isinstance(root, str) and Path(root).is_dir() else []
        query = {"path": paths, "sample": sample, "render": "true"}
        answer = self._owner("GET", "/check", query=query, timeout=None)
        if answer is not None:
            markdown = answer.get("markdown_short", "")
            report = {k: v for k, v in answer.items() if not k.startswith("markdown")}
            return _check_summary(report, markdown)
        from planvec.checks.verify import CheckOptions, check_index

        def read(index: Index) -> dict[str, Any]:
            source = (
                index.source(
                    [Path(p) for p in paths],
                    root=self.settings.root,
                    config_file=self.settings.config_file,
                )
                if paths
                else None
            )
            report = check_index(index, source, CheckOptions(vector_sample=sample))
            return _check_summary(report.to_dict(), report.to_markdown(max_per_kind=10))

        return self._local(read)

    def sync(self, paths: Sequence[str] | None = None) -> dict[str, Any]:
        """Sync plans from disk into the index (``planvec index``); needs ``--allow-write``.

        ``paths`` are files or folders, relative to the index root (or absolute inside it);
        none: every plan under the root.
        """
        if not self.allow_write:
            raise ConfigError(
                "sync writes the index: start the server with `planvec mcp --allow-write`"
            )
        root = self._root()
        chosen = [self._inside_root(root, p) for p in paths] if paths else [root]
        missing = [str(p) for p in chosen if not p.exists()]
        if missing:
            raise ConfigError(f"no such file or folder: {', '.join(missing)}")
        body = {"paths": [str(p) for p in chosen]}
        answer = self._owner("POST", "/sync", body=body, timeout=None)
        if answer is not None:
            return dict(answer)

        def run() -> dict[str, Any]:
            with self._index(write=True) as index:
                source = index.source(
                    chosen, root=self.settings.root, config_file=self.settings.config_file
                )
                return index.sync(source, batch_size=self.settings.batch_size).to_dict()

        result: dict[str, Any] = self._wait(run)
        return result

    # -- resources ---------------------------------------------------------------------------

    def read_plan(self, plan: str) -> str:
        """The Markdown of the indexed plan ``plan`` (a path relative to the index root)."""
        listed = self.list_plans()
        names = {p["plan"] for p in listed["plans"]}
        if plan not in names:
            raise TaskNotFound(f"no plan {plan!r} in the index: list them with list_plans")
        path = self._inside_root(self._root(listed), plan)
        try:
            return path.read_text(encoding="utf-8", errors="replace")
        except OSError as exc:
            raise ConfigError(f"plan {plan!r} is indexed but cannot be read: {exc}") from exc

    def _root(self, listed: dict[str, Any] | None = None) -> Path:
        if self.settings.root is not None:
            return Path(self.settings.root).resolve()
        root = (listed if listed is not None else self.list_plans()).get("root")
        if not isinstance(root, str):
            raise ConfigError(
                "the index records no plan root (written before roots existed): "
                "sync it once with `planvec index PATH`, or pass --root"
            )
        return Path(root).resolve()

    @staticmethod
    def _inside_root(root: Path, name: str) -> Path:
        path = (root / name).resolve()
        if not path.is_relative_to(root):
            raise ConfigError(f"{name!r} is outside the index root {root}: refused")
        return path


def _checked_query(query: str) -> str:
    if not isinstance(query, str) or not query.strip():
        raise ConfigError("the query is empty: describe the task to look for, in a few words")
    if len(query) > MAX_QUERY_CHARS:
        raise ConfigError(f"the query has {len(query)} characters; at most {MAX_QUERY_CHARS}")
    return query.strip()


def _checked_limit(limit: int) -> int:
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_LIMIT:
        raise ConfigError(f"limit={limit!r}: give a whole number from 1 to {MAX_LIMIT}")
    return limit


def _location(hit: dict[str, Any]) -> dict[str, Any]:
    return {k: hit[k] for k in ("plan", "line", "id", "status")}


def _check_summary(report: dict[str, Any], markdown: str) -> dict[str, Any]:
    keep = ("status", "error", "location", "points", "tasks", "plans_checked", "summary")
    out = {k: report.get(k) for k in keep}
    findings = list(report.get("findings") or [])
    out["findings"] = findings[:20]
    out["findings_total"] = len(findings)
    out["markdown"] = markdown
    return out


__all__ = ["MAX_LIMIT", "PlanBackend", "PlanvecError"]
