"""What each plan file's points were built from, kept beside the index for the next diff.

Why: a re-run after a small edit still diffs every changed file whole, and on big plans most
of that diff was spent reading each file's points back from the store (``embed_hash``,
``payload_hash``, ``lexical_hash``, position) and rebuilding the payload and its hash of
every task, unchanged or not. This sidecar keeps, per file version, each task's *state* (the
five fields the diff compares) and a *signature* of the parsed task (a digest of every
``Task`` field), so the diff of an edited file reads one row and builds payloads only for the
tasks whose signature changed.

Why it is never wrong:

* An entry is keyed by ``(key, plan, sha256 of the file's bytes)``, where ``key`` is the
  fingerprint key (``planvec.fingerprints.fingerprint_key``: the parsing and point-building
  code, recipe, lexical analyzer and model family) plus this module's ``FORMAT``. What it
  holds is a pure function of those: the tasks those bytes parse into and the hashes their
  points get. So an entry cannot go stale; it can only be missing.
* It stands for "the points stored for this plan" only where the recorded file fingerprint
  already does: the sync asks for the entry of the sha256 in the trusted fingerprint
  (``planvec.fingerprints``: the last sync finished, same key, the collection holds exactly
  the recorded number of points; every other writer forgets the fingerprints). A file
  without a trusted fingerprint is diffed against the store, as before.
* An entry is used only when it holds exactly the plan's recorded point count and every row
  has the expected shape. A missing, damaged, unreadable or mismatching entry, or any SQLite
  error, falls back to reading the store.
* A task whose signature equals the recorded one has the recorded state, because the state is
  a function of the task's fields and the key. Any other task is diffed as before.

Each row also keeps what the file's last parse derived from each task's Markdown source
(cleaned text, number, metadata, content hash: ``markdown_plans.SourceMemo``), a pure
function of the source under the same key: the next parse of the edited file reuses it for
the tasks whose source did not change, whatever the file's bytes now.

Storage: one SQLite file beside the index (``<index_dir>/.<collection>.tasks.sqlite``; under
the cache directory for a server index), one row per plan (the latest version written), rows
``marshal`` tuples of ``str``/``int``/``None``/``bytes`` behind a CRC-32 (``pack``: a damaged
row is refused, not misread). Not compressed: the rows are mostly hashes, which zlib shrank by
only 1.6x while compressing and inflating them cost ~0.15 s of a 1 %-edit run on the DEV
corpus (the parse thread's, on its critical path), for ~9 MB instead of ~5 MB on disk there
(~460 bytes per task). Writes are batched on
the parse thread and committed at the end of a run; a failed write only costs the next run
its shortcut. Dry runs write nothing.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import marshal
import sqlite3
import sys
import threading
import zlib
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from planvec.records import Task

if TYPE_CHECKING:
    from planvec.sources.markdown_plans import Derived

log = logging.getLogger(__name__)

#: bump when a row's layout (or the state fields of ``planvec.sync``) changes
FORMAT = f"2/m{marshal.version}/py{sys.version_info[0]}.{sys.version_info[1]}"
#: fields of a task's state, in order (``planvec.sync`` compares them)
STATE_FIELDS = ("embed_hash", "payload_hash", "lexical_hash", "line", "parent_line")
#: uncommitted bytes after which the parse thread commits (bounds memory at 1M tasks)
_COMMIT_BYTES = 8 << 20

#: one task's recorded state: the values of ``STATE_FIELDS``
State = tuple[Any, ...]
#: id -> (signature, state) of one plan's points
Recorded = dict[str, tuple[bytes, State]]


def task_signature(task: Task) -> bytes:
    """A digest of every field of ``task`` (types included: ``True`` is not ``1``).

    ``marshal`` keeps types and order apart, so two tasks with equal signatures build the
    same payload and vectors; a dict built in another order only gives another signature
    (diffed the slow way, never wrongly).
    """
    fields = (
        task.plan,
        task.line,
        task.checked,
        task.status,
        task.text,
        task.depth,
        task.parent_line,
        task.section,
        task.key,
        task.id,
        task.parent_id,
        task.content_hash,
        dict(task.metadata),
    )
    return hashlib.blake2b(marshal.dumps(fields), digest_size=16).digest()


class TaskStates:
    """The sidecar file of one collection (see the module docstring). Thread-safe."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._db: sqlite3.Connection | None = None
        self._broken = False
        self._pending = 0

    def _connect(self) -> sqlite3.Connection | None:
        if self._db is None and not self._broken:
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                db = sqlite3.connect(self.path, timeout=1.0, check_same_thread=False)
                db.execute("PRAGMA journal_mode=WAL")
                db.execute("PRAGMA synchronous=OFF")  # a cache: atomic, need not be durable
                db.execute(
                    "CREATE TABLE IF NOT EXISTS plan_states ("
                    "plan TEXT PRIMARY KEY, key TEXT NOT NULL, sha256 TEXT NOT NULL, "
                    "data BLOB NOT NULL, texts BLOB)"
                )
                db.commit()
                self._db = db
            except (sqlite3.Error, OSError) as exc:
                self._give_up("open", exc)
        return self._db

    def _give_up(self, what: str, exc: BaseException) -> None:
        log.info("task states %s failed (%s): diffs read the store instead", what, exc)
        self._broken = True
        if self._db is not None:
            with contextlib.suppress(sqlite3.Error):
                self._db.close()
            self._db = None

    def _one(self, sql: str, params: tuple[str, ...]) -> tuple[Any, ...] | None:
        """The first row of a read, or ``None`` (none, no file, or a SQLite error: the
        store is read instead, and this file is given up for the run)."""
        with self._lock:
            db = self._connect()
            if db is None:
                return None
            try:
                row: tuple[Any, ...] | None = db.execute(sql, params).fetchone()
            except sqlite3.Error as exc:
                self._give_up("read", exc)
                return None
        return row

    def get(self, key: str, plan: str, sha256: str, points: int | None) -> Recorded | None:
        """The recorded tasks of ``plan`` as of the bytes ``sha256``, if there is a valid
        entry holding exactly ``points`` tasks; else ``None``."""
        row = self._one(
            "SELECT data FROM plan_states WHERE plan = ? AND key = ? AND sha256 = ?",
            (plan, f"{FORMAT}:{key}", sha256),
        )
        if row is None:
            return None
        return _decode(row[0], points)

    def texts(self, key: str, plan: str) -> dict[str, Derived] | None:
        """What the last recorded parse of ``plan`` derived from its task sources
        (``markdown_plans.SourceMemo``): a pure function of each source under ``key``, so
        usable whatever the file's bytes now; ``None`` when missing or damaged."""
        row = self._one(
            "SELECT texts FROM plan_states WHERE plan = ? AND key = ?", (plan, f"{FORMAT}:{key}")
        )
        if row is None or not isinstance(row[0], bytes):
            return None
        return _decode_texts(row[0])

    def put(
        self,
        key: str,
        plan: str,
        sha256: str,
        rows: Iterable[tuple[str, bytes, State]],
        texts: dict[str, Derived] | None = None,
    ) -> None:
        """Record the tasks ``plan`` builds from the bytes ``sha256`` and what its parse
        derived from task sources (replacing its older entry); committed by ``commit`` or
        once enough is pending."""
        try:
            data = pack(list(rows))
            derived = pack(texts) if texts else None
        except ValueError:  # a plugin's metadata marshal cannot write: no entry
            return
        with self._lock:
            db = self._connect()
            if db is None:
                return
            try:
                db.execute(
                    "INSERT OR REPLACE INTO plan_states (plan, key, sha256, data, texts) "
                    "VALUES (?, ?, ?, ?, ?)",
                    (plan, f"{FORMAT}:{key}", sha256, data, derived),
                )
                self._pending += len(data) + len(derived or b"")
                if self._pending >= _COMMIT_BYTES:
                    db.commit()
                    self._pending = 0
            except sqlite3.Error as exc:
                self._give_up("write", exc)

    def commit(self, keep: Iterable[str] | None = None) -> None:
        """Commit the pending entries; with ``keep``, drop the entries of other plans."""
        with self._lock:
            db = self._connect()
            if db is None:
                return
            try:
                if keep is not None:
                    wanted = set(keep)
                    stored = [p for (p,) in db.execute("SELECT plan FROM plan_states")]
                    gone = [(p,) for p in stored if p not in wanted]
                    db.executemany("DELETE FROM plan_states WHERE plan = ?", gone)
                db.commit()
                self._pending = 0
            except sqlite3.Error as exc:
                self._give_up("commit", exc)

    def close(self) -> None:
        """Close the file; entries not committed are dropped (they are only a cache)."""
        with self._lock:
            if self._db is not None:
                with contextlib.suppress(sqlite3.Error):
                    self._db.close()
                self._db = None


def pack(value: Any) -> bytes:
    """``value`` as ``marshal`` bytes behind their CRC-32 (4 bytes, big-endian)."""
    data = marshal.dumps(value)
    return zlib.crc32(data).to_bytes(4, "big") + data


def unpack(data: bytes) -> Any:
    """The value of ``pack``'s bytes; ``ValueError`` when they were damaged."""
    if not isinstance(data, bytes) or len(data) < 4:
        raise ValueError("entry too short")
    body = memoryview(data)[4:]
    if zlib.crc32(body).to_bytes(4, "big") != data[:4]:
        raise ValueError("entry checksum mismatch")
    return marshal.loads(body)


def _decode(data: bytes, points: int | None) -> Recorded | None:
    """The rows of one entry, checked; ``None`` when damaged or not ``points`` long."""
    try:
        rows = unpack(data)
    except (ValueError, EOFError, TypeError):
        return None
    if not isinstance(rows, list) or (points is not None and len(rows) != points):
        return None
    recorded: Recorded = {}
    width = len(STATE_FIELDS)
    for row in rows:
        if not (
            isinstance(row, tuple)
            and len(row) == 3
            and isinstance(row[0], str)
            and isinstance(row[1], bytes)
            and isinstance(row[2], tuple)
            and len(row[2]) == width
        ):
            return None
        recorded[row[0]] = (row[1], row[2])
    if len(recorded) != len(rows):
        return None
    return recorded


def _decode_texts(data: bytes) -> dict[str, Derived] | None:
    """The source -> derived values of one entry, checked; ``None`` when damaged."""
    try:
        texts = unpack(data)
    except (ValueError, EOFError, TypeError):
        return None
    if not isinstance(texts, dict):
        return None
    for source, value in texts.items():
        if not (
            isinstance(source, str)
            and isinstance(value, tuple)
            and len(value) == 4
            and isinstance(value[0], str)
            and (value[1] is None or isinstance(value[1], str))
            and isinstance(value[2], dict)
            and isinstance(value[3], str)
        ):
            return None
    return texts
