"""Per-file fingerprints: how a re-run skips the plan files that did not change.

At the end of a sync the manifest records, for every plan file whose points were written
completely, a fingerprint: size, ``mtime_ns``, ``ctime_ns`` and the sha256 of its bytes. The
next run (``RootedPlanSource.iter_plans_since``) compares each file with it:

* size, mtime and ctime all equal: unchanged, without even reading the file (a short-cut);
* otherwise the file is read and hashed: the same sha256 means unchanged (not parsed, not
  diffed; the fingerprint is refreshed), another one means parsed and diffed as before.

The hash decides; the stat only spares re-hashing. ``ctime`` is in the short-cut because no
user tool can set it: ``cp -p``, ``rsync -t`` or ``tar x`` restore an old mtime on new bytes,
never an old ctime. A file whose mtime or ctime lies less than ``RACY_NS`` before the moment
it was read is *racy*: another write in the same timestamp tick (coarse file systems,
editors saving twice a second) could leave size and times equal, so its fingerprint is
recorded without the short-cut and the next run hashes it (git's "racily clean" rule).

Fingerprints are trusted only when all of these hold (else the run diffs every file once and
records fresh ones, which is also how a manifest from an older planvec is migrated):

* they were recorded under the same ``fingerprint_key`` (planvec's parsing and point-building
  code, embedding recipe, lexical analyzer and model family: a change of any re-diffs all);
* the last sync finished (no ``SYNC_MARKER``: an interrupted run may have half-written a
  file whose content is back to its recorded hash);
* the collection holds exactly the number of points recorded with them (another writer,
  or a lost shard, makes the store disagree with the manifest).

A file gets a fingerprint only when its points were written completely: never for a file
that failed, a plan the deletion guard held back, a plan whose deletions were refused, or in
a dry run. Fingerprints of plans outside the run's scope (a run over a subfolder) are kept.
"""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from planvec.records import Plan, SourceFailure

log = logging.getLogger(__name__)

#: manifest key of the fingerprint record
MANIFEST_KEY = "files"
#: a file modified less than this before it was read may be modified again unnoticed within
#: the same timestamp tick (FAT: 2 s; ext4/xfs: a kernel tick; HFS+: 1 s)
RACY_NS = 2_000_000_000
#: bump when the fingerprint record changes shape
FORMAT = 1
#: the code that turns a file's bytes into points: a change re-diffs every file once
_POINT_CODE = ("sources", "text", "records.py", "embedding_recipe.py", "data")

_code_digest: str | None = None


@dataclass(frozen=True)
class FileFingerprint:
    """What a file looked like when its points were last written completely."""

    size: int
    mtime_ns: int
    ctime_ns: int
    sha256: str
    #: False for a racy file: the next run re-hashes it whatever its stat says
    stat_trusted: bool = True

    def stat_matches(self, st: os.stat_result) -> bool:
        """Whether ``st`` says the file is untouched (the short-cut; the hash decides)."""
        return (
            self.stat_trusted
            and st.st_size == self.size
            and st.st_mtime_ns == self.mtime_ns
            and st.st_ctime_ns == self.ctime_ns
        )

    def to_json(self) -> list[Any]:
        return [self.size, self.mtime_ns, self.ctime_ns, self.sha256, self.stat_trusted]

    @classmethod
    def from_json(cls, value: Any) -> FileFingerprint | None:
        """The fingerprint stored as ``value``; ``None`` when it is malformed."""
        try:
            size, mtime, ctime, sha, trusted = value
            return cls(int(size), int(mtime), int(ctime), str(sha), bool(trusted))
        except (TypeError, ValueError):
            return None


def fingerprint(st: os.stat_result, sha256: str, read_at_ns: int) -> FileFingerprint:
    """The fingerprint of a file stat'ed as ``st`` (before reading it) with bytes ``sha256``."""
    newest = max(st.st_mtime_ns, st.st_ctime_ns)
    return FileFingerprint(
        st.st_size, st.st_mtime_ns, st.st_ctime_ns, sha256, read_at_ns - newest >= RACY_NS
    )


@dataclass(frozen=True)
class UnchangedFile:
    """A plan file whose bytes are those recorded: its points are up to date."""

    path: str
    fingerprint: FileFingerprint


@dataclass(frozen=True)
class Fingerprinted:
    """A file that was read: its parse (or failure) and its new fingerprint."""

    item: Plan | SourceFailure
    fingerprint: FileFingerprint | None
    #: what the parse derived from task sources (``markdown_plans.SourceMemo``), if asked
    memo: Any = None


def _digest_code() -> str:
    root = Path(__file__).parent
    digest = hashlib.sha256()
    for name in _POINT_CODE:
        path = root / name
        files = sorted(path.rglob("*")) if path.is_dir() else [path]
        for file in files:
            if file.is_file() and file.suffix in (".py", ".tsv", ".txt", ".json"):
                digest.update(file.relative_to(root).as_posix().encode())
                digest.update(file.read_bytes())
    return digest.hexdigest()[:16]


def fingerprint_key(*, family: str, lexical: str | None, recipe: str) -> str:
    """What must be equal for recorded fingerprints to say "the points are up to date"."""
    global _code_digest
    if _code_digest is None:
        _code_digest = _digest_code()
    return f"{FORMAT}:{family}:{lexical}:{recipe}:{_code_digest}"


def trusted_fingerprints(
    manifest: Mapping[str, Any], *, key: str, points: int, interrupted: bool
) -> dict[str, FileFingerprint]:
    """The recorded fingerprints if they can be trusted (module docstring), else ``{}``."""
    record = manifest.get(MANIFEST_KEY)
    if not isinstance(record, dict):
        return {}
    why = None
    if interrupted:
        why = "the last sync was interrupted"
    elif record.get("key") != key:
        why = "planvec or its embedding/lexical settings changed"
    elif record.get("points") != points:
        why = f"the collection holds {points} points, {record.get('points')} were recorded"
    if why is not None:
        log.info("file fingerprints not used (%s): every file is read and diffed", why)
        return {}
    entries = record.get("entries")
    known = {}
    for plan, value in (entries if isinstance(entries, dict) else {}).items():
        fp = FileFingerprint.from_json(value)
        if fp is not None:
            known[str(plan)] = fp
    return known


class FingerprintBook:
    """The fingerprints a sync collects, to record when it finishes."""

    def __init__(self, known: Mapping[str, FileFingerprint]) -> None:
        self.known = dict(known)
        self._new: dict[str, FileFingerprint] = {}
        self._with_deletes: set[str] = set()

    def record(self, plan: str, fp: FileFingerprint | None, *, deletes: bool = False) -> None:
        """``plan`` was synced (``deletes``: its point deletions are still to be applied)."""
        if fp is None:
            return
        self._new[plan] = fp
        if deletes:
            self._with_deletes.add(plan)

    def deletions_refused(self) -> None:
        """The run's deletions were not applied: plans that had some are not up to date."""
        for plan in self._with_deletes:
            self._new.pop(plan, None)

    def entries(self, seen: Iterable[str], in_scope: Any) -> dict[str, FileFingerprint]:
        """The fingerprints to record: this run's, plus the known ones of plans it did not
        visit and that lie outside its scope (their points were not touched)."""
        visited = set(seen)
        kept = {
            p: fp
            for p, fp in self.known.items()
            if p not in visited and in_scope is not None and not in_scope(p)
        }
        return {**kept, **self._new}


def fingerprint_record(
    entries: Mapping[str, FileFingerprint], *, key: str, points: int
) -> dict[str, Any]:
    """The manifest value of ``MANIFEST_KEY``."""
    return {
        "key": key,
        "points": points,
        "entries": {p: fp.to_json() for p, fp in sorted(entries.items())},
    }
