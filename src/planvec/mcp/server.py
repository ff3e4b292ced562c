"""``planvec mcp``: the plans, their progress and the index as MCP tools and resources.

Built on the official ``mcp`` SDK (``MCPServer``). Every tool returns a compact text (what an
assistant reads) and the same data as structured content (what a program reads); bad input
(an unknown id, an empty query, a huge limit) is a tool error with a clear message, never a
crashed server. ``sync`` exists only with ``allow_write``. Each indexed plan is a resource
``plan://<plan path>`` (its Markdown), so an assistant can read the context around a hit.

The data comes from ``planvec.mcp.backend.PlanBackend`` (owner or per-call index).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

import anyio.to_thread
from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ResourceError, ToolError
from mcp.types import CallToolResult, Resource, TextContent, ToolAnnotations
from pydantic import Field

from planvec import __version__
from planvec.errors import PlanvecError
from planvec.mcp.backend import MAX_LIMIT, PlanBackend
from planvec.mcp.render import (
    render_check,
    render_hits,
    render_plans,
    render_progress,
    render_similar,
    render_sync,
    render_task,
)

INSTRUCTIONS = (
    "planvec indexes Markdown project plans (phases, headings, numbered checkbox tasks). "
    "Use search_tasks to find tasks by meaning (French or English), get_task for a task's "
    "parents and children, plan_progress for what is done or left per plan and section, "
    "find_similar_tasks before proposing a new task (is there one already?), and read the "
    "plan://<plan> resource for the context around a hit."
)
READ_ONLY = ToolAnnotations(read_only_hint=True, open_world_hint=False)

PlanArg = Annotated[
    str | None, Field(description="Only tasks of this plan (its path, as list_plans shows it).")
]
LimitArg = Annotated[int, Field(description=f"Most results (1 to {MAX_LIMIT}).")]


def _result(text: str, data: Any) -> CallToolResult:
    structured = data if isinstance(data, dict) else {"result": data}
    return CallToolResult(
        content=[TextContent(type="text", text=text)], structured_content=structured
    )


async def _answer(compute: Callable[[], Any], render: Callable[[Any], str]) -> CallToolResult:
    """Run ``compute`` off the event loop; a planvec error becomes a tool error."""
    try:
        data = await anyio.to_thread.run_sync(compute)
    except PlanvecError as exc:
        raise ToolError(str(exc)) from exc
    return _result(render(data), data)


class PlanvecMCPServer(MCPServer):
    """An ``MCPServer`` whose resource list is the plans indexed right now."""

    def __init__(self, backend: PlanBackend, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.backend = backend

    async def list_resources(self) -> list[Resource]:
        try:
            listed = await anyio.to_thread.run_sync(self.backend.list_plans)
        except PlanvecError:
            return []  # no index yet: nothing to list (reading one still says why)
        return [
            Resource(
                uri=f"plan://{p['plan']}",
                name=p["plan"],
                title=f"{p['plan']} ({p['done']}/{p['tasks']} done)",
                description="The plan's Markdown, as on disk.",
                mime_type="text/markdown",
            )
            for p in listed["plans"]
        ]


def build_server(backend: PlanBackend) -> PlanvecMCPServer:
    """The MCP server answering from ``backend``; ``sync`` only if it allows writes."""
    server = PlanvecMCPServer(
        backend,
        name="planvec",
        version=__version__,
        instructions=INSTRUCTIONS,
        log_level="WARNING",
    )
    _add_search_tools(server, backend)
    _add_plan_tools(server, backend)
    _add_index_tools(server, backend)
    _add_resources(server, backend)
    return server


def _add_search_tools(server: MCPServer, backend: PlanBackend) -> None:
    @server.tool(annotations=READ_ONLY)
    async def search_tasks(
        query: Annotated[str, Field(description="What to look for, in a few words (FR or EN).")],
        plan: Annotated[
            str | None,
            Field(
                description="Only tasks of this plan: its path as list_plans shows it, or a "
                "glob such as 'plans/phase-*.md'."
            ),
        ] = None,
        status: Annotated[
            str | None,
            Field(description="Only tasks of this status: todo, done, in_progress, cancelled."),
        ] = None,
        section: Annotated[
            str | None, Field(description="Only tasks under a heading containing this text.")
        ] = None,
        kind: Annotated[
            str | None, Field(description="Kind of item; only 'task' exists today.")
        ] = None,
        limit: LimitArg = 10,
    ) -> CallToolResult:
        """Search the tasks of every indexed plan by meaning and words (hybrid search).

        Returns the best tasks first: id, plan, line, status, section path, text, score, and
        also_in (the same text elsewhere). Pass an id to get_task for its parents/children.
        """
        return await _answer(
            lambda: {
                "hits": backend.search_tasks(
                    query, plan=plan, status=status, section=section, kind=kind, limit=limit
                )
            },
            render_hits,
        )

    @server.tool(annotations=READ_ONLY)
    async def find_similar_tasks(
        text: Annotated[
            str | None, Field(description="A task description to find near duplicates of.")
        ] = None,
        id: Annotated[
            str | None, Field(description="Or: the id of a task whose duplicates to find.")
        ] = None,
        limit: LimitArg = 10,
    ) -> CallToolResult:
        """Near duplicates across plans: "is there already a task for this?".

        Give text or id (one of them). Returns exact (same text elsewhere) and similar
        (nearest other tasks by meaning, with a cosine score; >= 0.9 is nearly the same).
        """
        return await _answer(
            lambda: backend.find_similar_tasks(text=text, task_id=id, limit=limit),
            render_similar,
        )


def _add_plan_tools(server: MCPServer, backend: PlanBackend) -> None:
    @server.tool(annotations=READ_ONLY)
    async def get_task(
        id: Annotated[str, Field(description="The task id (a UUID from search_tasks).")],
    ) -> CallToolResult:
        """One task with its parent chain (nearest first) and its direct children.

        Returns {task, parents, children, children_total}; each task has id, plan, line,
        status, checked, text, section, key, priority, estimate, tags.
        """
        return await _answer(lambda: backend.get_task(id), render_task)

    @server.tool(annotations=READ_ONLY)
    async def plan_progress(plan: PlanArg = None) -> CallToolResult:
        """Progress per plan and per top-level section: tasks, done, percent, statuses.

        Without plan: every indexed plan. Answers "what is left in phase 2?".
        """
        return await _answer(lambda: {"plans": backend.plan_progress(plan)}, render_progress)

    @server.tool(annotations=READ_ONLY)
    async def list_plans() -> CallToolResult:
        """Every indexed plan with its task and done counts, and the grand totals.

        Each plan is also a resource plan://<plan> holding its Markdown.
        """
        return await _answer(backend.list_plans, render_plans)


def _add_index_tools(server: MCPServer, backend: PlanBackend) -> None:
    @server.tool(annotations=READ_ONLY)
    async def check_index() -> CallToolResult:
        """Check the index (planvec check, read-only) against the plans on disk.

        Returns status (ok, problems, error), counts of points and tasks, a summary per kind
        of problem (missing, stale, orphan, duplicate, bad vectors...) and the first findings.
        """
        return await _answer(backend.check_index, render_check)

    if not backend.allow_write:
        return

    @server.tool(annotations=ToolAnnotations(read_only_hint=False, destructive_hint=True))
    async def sync(
        paths: Annotated[
            list[str] | None,
            Field(description="Plan files or folders, relative to the index root; none: all."),
        ] = None,
    ) -> CallToolResult:
        """Sync plans from disk into the index (planvec index): add, update, delete tasks.

        Returns the sync report: plans seen, tasks added/updated/deleted/unchanged, failures.
        """
        return await _answer(lambda: backend.sync(paths), render_sync)


def _add_resources(server: MCPServer, backend: PlanBackend) -> None:
    @server.resource(
        "plan://{+path}",
        name="plan",
        description="An indexed plan's Markdown, by its path relative to the index root.",
        mime_type="text/markdown",
    )
    async def plan_markdown(path: str) -> str:
        try:
            text: str = await anyio.to_thread.run_sync(backend.read_plan, path)
        except PlanvecError as exc:
            raise ResourceError(str(exc)) from exc
        return text


__all__ = ["PlanvecMCPServer", "build_server"]
