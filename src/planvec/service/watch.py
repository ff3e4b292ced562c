"""``planvec serve --watch``: follow the plan files and sync on change (watchfiles).

* Debounce: changes are gathered until ``debounce`` seconds pass without a new one, so a
  burst of saves (or a ``git checkout``) gives one sync. Changes made during a sync are
  gathered meanwhile and give the next one.
* Editors: temp and backup files (``.foo.md.swp``, ``foo.md~``, ``.#foo.md``, ``4913``,
  ``*.tmp``) are ignored; an atomic save (write a temp file, rename it over the plan) is seen
  as a change of the plan. Single files are watched through their directory, so a rename
  over them does not lose the watch.
* Deletions follow the index's rules: a plan file removed from a watched directory has its
  tasks deleted by the next sync (the index mirrors PATHS); a PATH given explicitly that
  disappears makes syncs fail (logged, counted, retried with backoff) and keeps its tasks.
* A failed sync never stops the watch: it is retried with exponential backoff.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

from watchfiles import Change, DefaultFilter, watch

from planvec.service.jobs import sync_with_backoff
from planvec.service.state import ServiceState

log = logging.getLogger("planvec.service")

_TEMP_SUFFIXES = (".swp", ".swx", ".swo", ".tmp", ".temp", ".part", ".bak", "~")


class PlanFilter(DefaultFilter):
    """Plan files only: ``*.md`` under watched directories, and the watched files themselves."""

    def __init__(self, files: set[Path]) -> None:
        super().__init__()
        self.files = files

    def __call__(self, change: Change, path: str) -> bool:
        p = Path(path)
        name = p.name
        if p in self.files:
            return True
        if name.startswith((".", "#")) or name.endswith(_TEMP_SUFFIXES) or name == "4913":
            return False
        if any(part.startswith(".") for part in p.parts[:-1] if part not in (".", "..")):
            return False  # hidden directories (.git, .planvec), as discovery skips them
        return p.suffix.lower() == ".md" and super().__call__(change, path)


def watch_roots(paths: tuple[Path, ...]) -> tuple[list[Path], set[Path]]:
    """Directories to watch, and the single files among ``paths`` (watched via their parent)."""
    roots: list[Path] = []
    files: set[Path] = set()
    for path in paths:
        full = path.resolve()
        if full.is_dir():
            roots.append(full)
        else:
            files.add(full)
            roots.append(full.parent)
    unique = sorted(set(roots))
    return [r for r in unique if not any(o != r and o in r.parents for o in unique)], files


def watch_changes(
    roots: Sequence[Path],
    watch_filter: Callable[[Change, str], bool],
    stop: threading.Event,
    debounce: float,
) -> Iterator[set[tuple[Change, str]]]:
    """Batches of changes under ``roots``, one per burst (``debounce`` seconds of quiet).

    An empty batch comes at least every 0.3 s (``stop`` is noticed, and the first batch
    marks the moment the watcher is in place: work done from then on misses nothing).
    """
    step = max(50, int(debounce * 1000))
    return watch(
        *roots,
        watch_filter=watch_filter,
        stop_event=stop,
        debounce=max(step * 10, 2000),
        step=step,
        rust_timeout=300,
        yield_on_timeout=True,
        raise_interrupt=False,
    )


def watch_body(state: ServiceState) -> Callable[[threading.Event], None]:
    """The watch job: an initial sync, then one debounced sync per burst of changes."""

    def body(stop: threading.Event) -> None:
        roots, files = watch_roots(state.config.paths)
        log.info("watching %s", ", ".join(map(str, roots)))
        started = False
        for changes in watch_changes(roots, PlanFilter(files), stop, state.config.debounce):
            if state.stopping.is_set():
                return
            for change, _ in changes:
                state.metrics.watch_events.labels(change.name).inc()
            if changes or not started:  # the first sync once the watcher is in place:
                started = True  # nothing changed between it and the watch goes unseen
                _sync_until_done(state, stop, "watch")

    return body


def _sync_until_done(state: ServiceState, stop: threading.Event, trigger: str) -> None:
    attempt = 0
    while not stop.is_set() and not state.stopping.is_set():
        if sync_with_backoff(state, stop, trigger, attempt):
            return
        attempt += 1
