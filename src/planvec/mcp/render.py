"""Compact text renderings of the MCP tool results: what an assistant reads first.

One line per task (``[status] plan:line  key text  (id)``), short headers, no JSON: the full
data travels alongside as structured content.
"""

from __future__ import annotations

from typing import Any

BOX = {"done": "x", "todo": " ", "in_progress": "~", "cancelled": "-"}


def task_line(task: dict[str, Any]) -> str:
    """``[x] plan.md:12  1.2 Text  (id)``."""
    mark = BOX.get(str(task.get("status")), "?")
    text, key = str(task["text"]), task.get("key")
    shown = f"{key} {text}" if key and not text.startswith(str(key)) else text
    return f"[{mark}] {task['plan']}:{task['line']}  {shown}  ({task['id']})"


def render_hits(data: dict[str, Any]) -> str:
    hits = data["hits"]
    if not hits:
        return "No task matches."
    lines = [f"{len(hits)} task(s), best first:"]
    for hit in hits:
        section = " > ".join(hit.get("section") or [])
        lines.append(f"- {hit['score']:.3f} {task_line(hit)}")
        if section:
            lines.append(f"    in: {section}")
        for other in hit.get("also_in") or []:
            lines.append(f"    same text in {other['plan']}:{other['line']} ({other['id']})")
    return "\n".join(lines)


def render_task(data: dict[str, Any]) -> str:
    task = data["task"]
    lines = [task_line(task)]
    if task.get("section"):
        lines.append(f"section: {' > '.join(task['section'])}")
    for name in ("priority", "estimate", "tags"):
        if task.get(name):
            lines.append(f"{name}: {task[name]}")
    if data["parents"]:
        lines.append("parents (nearest first):")
        lines += [f"  {task_line(p)}" for p in data["parents"]]
    total = data["children_total"]
    if total:
        lines.append(f"children ({total}):")
        lines += [f"  {task_line(c)}" for c in data["children"]]
        if total > len(data["children"]):
            lines.append(f"  ... {total - len(data['children'])} more")
    return "\n".join(lines)


def _percent(entry: dict[str, Any]) -> str:
    return f"{entry['done']}/{entry['tasks']} done ({entry['percent']}%)"


def render_progress(data: dict[str, Any]) -> str:
    lines: list[str] = []
    for plan in data["plans"]:
        left = plan["tasks"] - plan["done"]
        lines.append(f"{plan['plan']}: {_percent(plan)}, {left} left")
        for section in plan.get("sections") or []:
            lines.append(f"  - {section['title']}: {_percent(section)}")
    return "\n".join(lines) or "The index holds no plan."


def render_plans(data: dict[str, Any]) -> str:
    total = data["total"]
    lines = [f"{total['plans']} plan(s), {_percent(total)}:"]
    lines += [f"- {p['plan']}: {_percent(p)}" for p in data["plans"]]
    return "\n".join(lines)


def render_similar(data: dict[str, Any]) -> str:
    lines = []
    if data.get("of"):
        lines.append(f"Duplicates of {task_line(data['of'])}")
    else:
        lines.append(f"Tasks like: {data['query']}")
    if data["exact"]:
        lines.append("Same text:")
        lines += [f"- {e['plan']}:{e['line']} [{e['status']}] ({e['id']})" for e in data["exact"]]
    if data["similar"]:
        lines.append("Similar (cosine):")
        lines += [f"- {s['score']:.3f} {task_line(s)}" for s in data["similar"]]
    if not data["exact"] and not data["similar"]:
        lines.append("No similar task.")
    return "\n".join(lines)


def render_check(data: dict[str, Any]) -> str:
    summary = ", ".join(f"{k}: {v}" for k, v in (data.get("summary") or {}).items())
    head = (
        f"Index check: {data['status']} ({data['points']} points, {data['tasks']} tasks, "
        f"{data['plans_checked']} plan(s) compared with disk)"
    )
    lines = [head]
    if summary:
        lines.append(f"problems: {summary}")
    if data.get("error"):
        lines.append(f"error: {data['error']}")
    for finding in data["findings"][:10]:
        where = f"{finding.get('plan') or ''}:{finding.get('line') or ''}".strip(":")
        lines.append(f"- {finding.get('kind')}: {where} {finding.get('message', '')}".rstrip())
    return "\n".join(lines)


def render_sync(data: dict[str, Any]) -> str:
    counts = ", ".join(
        f"{name} {data[name]}" for name in ("added", "updated", "deleted", "unchanged", "failed")
    )
    lines = [f"Synced {data['plans']} plan(s), {data['tasks']} task(s): {counts}"]
    lines += [f"- failed {f['path']}: {f['error']}" for f in data.get("failures") or []]
    return "\n".join(lines)
