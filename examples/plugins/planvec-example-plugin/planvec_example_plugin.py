"""A worked example of a planvec plugin (see README.md beside this file).

It implements the three hooks of ``planvec.hookspecs``:

* ``register_sources``: ``todo-txt``, plans from ``*.txt`` files in the todo.txt format
  (one task a line, ``x `` in front of a done one);
* ``register_embedders``: ``example-hash64``, planvec's hashing embedder at 64 dimensions;
* ``register_commands``: ``planvec example-count PATH...``, tasks per todo.txt file.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import click

from planvec.embed.hashing import HashingEmbedder
from planvec.hookspecs import hookimpl
from planvec.records import Plan, SourceFailure, Task, content_hash, point_id


def _task(plan: str, line: int, raw: str) -> Task:
    done = raw.startswith("x ")
    text = raw[2:].strip() if done else raw.strip()
    return Task(
        plan=plan,
        line=line,
        checked=done,
        status="done" if done else "todo",
        text=text,
        depth=0,
        parent_line=None,
        section=(),
        key=None,
        id=point_id("todo-txt", plan, str(line)),
        parent_id=None,
        content_hash=content_hash(text),
    )


class TodoTxtSource:
    """Plans from todo.txt files: every ``*.txt`` under the given paths (a ``Source``)."""

    def __init__(self, paths: Sequence[Path]) -> None:
        self.paths = [Path(p) for p in paths]

    def _files(self) -> list[tuple[Path, str]]:
        found = []
        for root in self.paths:
            if root.is_file():
                found.append((root, root.name))
            else:
                found.extend((f, f.relative_to(root).as_posix()) for f in root.rglob("*.txt"))
        return sorted(found, key=lambda item: item[1])

    def iter_plans(self) -> Iterator[Plan | SourceFailure]:
        for path, rel in self._files():
            try:
                lines = path.read_text(encoding="utf-8").splitlines()
            except (OSError, UnicodeDecodeError) as exc:
                yield SourceFailure(rel, f"cannot read {path}: {exc}")
                continue
            tasks = tuple(_task(rel, n, raw) for n, raw in enumerate(lines, 1) if raw.strip())
            yield Plan(path=rel, title=None, version=None, tasks=tasks)


@hookimpl
def register_sources(register: Callable[..., None]) -> None:
    register("todo-txt", TodoTxtSource)


@hookimpl
def register_embedders(register: Callable[..., None]) -> None:
    register("example-hash64", lambda cache_dir: HashingEmbedder(64))


@click.command("example-count")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
def example_count(paths: tuple[Path, ...]) -> None:
    """Count the tasks of todo.txt files (an example plugin command).

    \b
    Example:
      planvec example-count todo/
    """
    from planvec.index import sources_for

    for item in sources_for(paths, kind="todo-txt").iter_plans():
        if isinstance(item, Plan):
            click.echo(f"{item.path}: {item.done}/{len(item.tasks)} done")


@hookimpl
def register_commands(cli: click.Group) -> None:
    cli.add_command(example_count)
