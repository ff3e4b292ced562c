"""Stable plan identity: plan names are paths relative to one root, recorded in the index.

A plan's name (``Plan.path``, part of every task id) is its path relative to the index's
*root*, not to the argument it was found under, so ``planvec index plans/`` and
``planvec index plans/phase-2`` address the same plans. The root is, in order:

1. ``--root`` / ``PLANVEC_ROOT`` / ``root`` in ``planvec.toml`` (given explicitly; a
   different root than the recorded one re-anchors the index: every plan is renamed);
2. the root recorded in the index manifest;
3. for an index written before roots existed (or whose manifest was lost), the ancestor
   of the arguments that keeps the most of its stored plan names (so upgrading renames
   nothing); it is recorded on the next sync;
4. for a new index, the project root: the directory of the config file, else the VCS root
   (``.git``/``.hg``) around the arguments, else their common parent directory.

An argument outside the root is refused (``ConfigError``) with the ways out. A run over a
subset of the root deletes vanished plans only inside that subset (``in_scope``).
"""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from planvec.errors import ConfigError, SourceError
from planvec.fingerprints import FileFingerprint, Fingerprinted, UnchangedFile, fingerprint
from planvec.records import Plan, SourceFailure
from planvec.sources.files import discover, parse_bytes, read_bytes, read_plan

if TYPE_CHECKING:
    from planvec.sources.markdown_plans import SourceMemo

VCS_MARKERS = (".git", ".hg")
#: ancestors of the arguments tried when adopting an index written before roots
_LEGACY_LEVELS = 8


def _absolute(path: Path) -> Path:
    return Path(os.path.abspath(path))


def _inside(path: Path, root: Path) -> bool:
    return path == root or path.is_relative_to(root)


def common_parent(paths: Sequence[Path]) -> Path:
    """The deepest directory holding every argument (a file argument counts as its folder)."""
    folders = [str(p if p.is_dir() else p.parent) for p in map(_absolute, paths)]
    return Path(os.path.commonpath(folders))


def vcs_root(start: Path) -> Path | None:
    """The nearest directory at or above ``start`` holding ``.git`` or ``.hg``."""
    for folder in (start, *start.parents):
        if any((folder / marker).exists() for marker in VCS_MARKERS):
            return folder
    return None


def project_root(paths: Sequence[Path], *, config_file: Path | None = None) -> Path:
    """The root of a new index: config file's folder, VCS root, or the arguments' parent."""
    base = common_parent(paths)
    if config_file is not None and _inside(base, _absolute(config_file).parent):
        return _absolute(config_file).parent
    return vcs_root(base) or base


def _legacy_root(paths: Sequence[Path], stored: Collection[str]) -> Path:
    """The ancestor of ``paths`` under which the most stored plan names are found again."""
    base = common_parent(paths)
    files = [_absolute(full) for full, _ in discover(list(paths))[0]]
    best, best_score = base, 0
    for candidate in [base, *base.parents][:_LEGACY_LEVELS]:
        score = sum(1 for f in files if f.relative_to(candidate).as_posix() in stored)
        if score > best_score:
            best, best_score = candidate, score
    return best


def resolve_root(
    manifest: dict[str, Any] | None,
    paths: Sequence[Path],
    *,
    explicit: Path | None = None,
    config_file: Path | None = None,
    stored_plans: Callable[[], Collection[str]] = frozenset,
) -> Path:
    """The root plan names are relative to (see the module docstring), checked.

    Raises:
        ConfigError: an argument lies outside the root.
    """
    recorded = (manifest or {}).get("root")
    if explicit is not None:
        root = _absolute(explicit)
    elif isinstance(recorded, str) and recorded:
        root = Path(recorded)
    elif stored := stored_plans():
        root = _legacy_root(paths, stored)
    else:
        root = project_root(paths, config_file=config_file)
    for path in paths:
        if not _inside(_absolute(path), root):
            raise ConfigError(_outside_message(path, root, explicit is not None))
    return root


def _outside_message(path: Path, root: Path, explicit: bool) -> str:
    where = "the --root" if explicit else "the root of this index"
    gone = "" if root.exists() else f" ({root} no longer exists: was the project moved?)"
    return (
        f"{path} lies outside {where}, {root}{gone}. Plan names are paths relative to the "
        f"root, so that indexing any part of the tree addresses the same plans. Pass paths "
        f"inside {root}, use another --index/--collection for this tree, or move the root "
        f"with --root DIR (a root that changes the plan names renames every plan: their "
        f"tasks are re-added under the new names, from the embedding cache, and the old "
        f"names deleted, which the deletion guard asks you to confirm with --allow-delete)"
    )


def rooted_source(
    manifest: dict[str, Any] | None,
    paths: Sequence[Path],
    *,
    root: Path | None = None,
    config_file: Path | None = None,
    stored_plans: Callable[[], Collection[str]] = frozenset,
) -> RootedPlanSource:
    """The plans under ``paths`` named relative to the resolved root (``resolve_root``).

    Raises:
        SourceError: a path does not exist.
        ConfigError: a path lies outside the root.
    """
    for path in paths:
        if not os.path.lexists(path):
            raise SourceError(str(path), "no such file or directory; check the path and retry")
    found = resolve_root(
        manifest, paths, explicit=root, config_file=config_file, stored_plans=stored_plans
    )
    return RootedPlanSource(paths, found)


class RootedPlanSource:
    """Markdown plans under ``paths``, named relative to ``root`` (the ``Source`` protocol)."""

    def __init__(self, paths: Sequence[Path], root: Path) -> None:
        self.paths = [Path(p) for p in paths]
        self.root = _absolute(root)
        self._scopes = [_absolute(p) for p in self.paths]

    def name_of(self, path: Path) -> str:
        """The plan name of a file (its path relative to the root)."""
        return _absolute(path).relative_to(self.root).as_posix()

    def in_scope(self, plan: str) -> bool:
        """Whether plan name ``plan`` lies under one of the arguments (deletable if vanished)."""
        full = self.root / plan
        return any(_inside(full, scope) for scope in self._scopes)

    def iter_plans(self) -> Iterator[Plan | SourceFailure]:
        """Every plan, in a stable order; see ``planvec.sources.base``."""
        files, failures = discover(self.paths)
        for failure in failures:
            yield self.rename_failure(failure)
        for full, _ in files:
            yield read_plan(full, self.name_of(full))

    def iter_plans_since(
        self,
        known: Mapping[str, FileFingerprint],
        memo_for: Callable[[str], SourceMemo | None] | None = None,
    ) -> Iterator[Fingerprinted | UnchangedFile | SourceFailure]:
        """Like ``iter_plans``, but a file whose bytes match its ``known`` fingerprint is
        neither parsed nor read again when its stat matches (``planvec.fingerprints``).
        ``memo_for(plan)`` gives a changed file's parse what earlier parses derived from task
        sources (``markdown_plans.SourceMemo``; returned with the parse)."""
        files, failures = discover(self.paths)
        for failure in failures:
            yield self.rename_failure(failure)
        for full, _ in files:
            yield self._read_since(full, self.name_of(full), known, memo_for)

    @staticmethod
    def _read_since(
        full: Path,
        name: str,
        known: Mapping[str, FileFingerprint],
        memo_for: Callable[[str], SourceMemo | None] | None = None,
    ) -> Fingerprinted | UnchangedFile:
        old = known.get(name)
        try:
            st = os.stat(full)  # before reading: a write during the read changes the stat
        except OSError:
            st = None
        if old is not None and st is not None and old.stat_matches(st):
            return UnchangedFile(name, old)
        raw = read_bytes(full, name)
        if isinstance(raw, SourceFailure) or st is None:
            return Fingerprinted(
                raw if isinstance(raw, SourceFailure) else parse_bytes(raw, name), None
            )
        sha = hashlib.sha256(raw).hexdigest()
        new = fingerprint(st, sha, time.time_ns())
        if old is not None and old.sha256 == sha:
            return UnchangedFile(name, new)
        memo = memo_for(name) if memo_for is not None else None
        return Fingerprinted(parse_bytes(raw, name, sha, memo), new, memo)

    def rename_failure(self, failure: SourceFailure) -> SourceFailure:
        """``failure`` named relative to the root when it lies under one of the arguments."""
        for path in self.paths:
            candidate = _absolute(path / failure.path)
            if path.is_dir() and _inside(candidate, self.root):
                return SourceFailure(self.name_of(candidate), failure.message)
        return failure
