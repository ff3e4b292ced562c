"""Markdown plans on disk: discovery, decoding, and per-file failures.

The only module of ``planvec.sources`` that touches the filesystem. One bad file never stops
the others: a binary or unreadable file becomes a ``SourceFailure``, a file that is not valid
UTF-8 is decoded anyway (detected encoding, else replacement characters) with a warning.
Only an argument that does not exist raises ``SourceError``, before anything is parsed.
"""

from __future__ import annotations

import codecs
import dataclasses
import hashlib
import logging
import os
import stat
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from planvec.errors import SourceError
from planvec.records import ParseWarning, Plan, SourceFailure

if TYPE_CHECKING:
    from planvec.sources.markdown_plans import SourceMemo

log = logging.getLogger(__name__)

#: Bytes looked at to decide whether a file is binary.
_SNIFF = 8192
_UTF16_32_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
# Control characters that never occur in text files (tab, newlines, form feed and ESC do).
_CONTROL = bytes(c for c in range(32) if c not in (9, 10, 12, 13, 27))


def is_plan_file(path: Path) -> bool:
    """A Markdown file by its name (``.md``, any case)."""
    return path.suffix.lower() == ".md"


def _hidden(name: str) -> bool:
    return name.startswith(".")


_WARNED: set[str] = set()


def _warn_once(message: str) -> None:
    """Log a discovery warning once per process (several callers walk the same tree)."""
    if message not in _WARNED:
        _WARNED.add(message)
        log.warning("%s", message)


def _special_kind(path: Path) -> str | None:
    """What ``path`` is when it exists but is not a regular file (or a link to one).

    ``os.stat`` never blocks, unlike opening a FIFO (which waits for a writer forever) or
    reading ``/dev/zero`` (which never ends): such files are skipped before being opened.
    """
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return None  # missing or unreadable: reading it reports why
    if stat.S_ISREG(mode) or stat.S_ISDIR(mode):
        return None
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    return "not a regular file"


def discover(paths: Sequence[Path]) -> tuple[list[tuple[Path, str]], list[SourceFailure]]:
    """Every plan file under the given paths, with its path relative to its argument.

    Args:
        paths: files (taken as they are, whatever their extension) or directories
            (searched recursively for ``*.md``, skipping hidden directories such as
            ``.git``, ``.planvec`` and ``.venv``).

    Returns:
        (file path, relative POSIX path) pairs, each argument's files sorted by relative
        path and a file given twice listed once; and the directories that could not be
        listed, as failures.

    Raises:
        SourceError: an argument does not exist.
    """
    for path in paths:
        if not os.path.lexists(path):
            raise SourceError(str(path), "no such file or directory; check the path and retry")
    found: list[tuple[Path, str]] = []
    failures: list[SourceFailure] = []
    seen: set[Path] = set()
    for path in paths:
        if not path.is_dir():
            # A file (or something we cannot stat as a directory): reading it reports why.
            entries = [(path, path.name)]
        else:
            entries = []

            def _record(exc: OSError, root: Path = path) -> None:
                where = Path(exc.filename) if exc.filename else root
                inside = where.is_relative_to(root)
                rel = where.relative_to(root).as_posix() if inside else str(where)
                reason = exc.strerror or str(exc)
                message = f"cannot list this directory ({reason}); check its permissions"
                failures.append(SourceFailure(rel, message))

            for folder, dirs, files in os.walk(path, onerror=_record):
                dirs[:] = sorted(d for d in dirs if not _hidden(d))
                for name in files:
                    if is_plan_file(Path(name)) and not _hidden(name):
                        full = Path(folder) / name
                        kind = _special_kind(full)
                        if kind is not None:  # reading a FIFO or a device would hang
                            _warn_once(f"{full}: {kind} named *.md; skipped")
                            continue
                        entries.append((full, full.relative_to(path).as_posix()))
            entries.sort(key=lambda entry: entry[1])
        for full, rel in entries:
            key = full.resolve() if full.exists() else full
            if key not in seen:
                seen.add(key)
                found.append((full, rel))
    return found, failures


def decode(raw: bytes, rel: str) -> tuple[str, list[ParseWarning]]:
    """Decode a plan's bytes; never raises for text-like content.

    Args:
        raw: the file content.
        rel: the plan's relative path, for warnings.

    Returns:
        The text (BOM removed) and the warnings about how it was decoded.

    Raises:
        SourceError: the content looks binary (runs of NULs or many control bytes).
    """
    for bom, encoding in _UTF16_32_BOMS:
        if raw.startswith(bom):
            try:
                return raw.decode(encoding), [
                    ParseWarning(rel, None, f"decoded as {encoding.upper()} (byte order mark)")
                ]
            except UnicodeDecodeError:
                break
    sample = raw[:_SNIFF]
    if _looks_binary(sample):
        raise SourceError(rel, "binary file (not text); skipped — remove it or pass text files")
    warnings: list[ParseWarning] = []
    nuls = raw.count(b"\x00")
    if nuls:  # a stray NUL in a text file (a bad paste, a buggy editor): drop it, keep the plan
        line = raw.count(b"\n", 0, raw.index(b"\x00")) + 1
        raw = raw.replace(b"\x00", b"")
        warnings.append(ParseWarning(rel, line, f"{nuls} NUL byte(s) removed (first on this line)"))
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        text, how = _decode_fallback(raw, exc)
        warnings.append(ParseWarning(rel, None, how))
    return text.removeprefix("\ufeff"), warnings


def _looks_binary(sample: bytes) -> bool:
    """Whether the first bytes of a file are binary rather than text with a few odd bytes.

    Text has almost no control bytes: more than 3 % (NUL included) means binary; so does
    a run of NULs (UTF-16 without a byte order mark, images, archives). One stray NUL in
    a UTF-8 plan is not enough to throw the whole plan away.
    """
    if not sample:
        return False
    if b"\x00\x00" in sample or sample.count(b"\x00") > max(8, len(sample) // 1000):
        return True
    return len(sample.translate(None, _CONTROL)) < len(sample) * 0.97


def _decode_fallback(raw: bytes, exc: UnicodeDecodeError) -> tuple[str, str]:
    """Text of a file that is not valid UTF-8, and a sentence saying how it was read.

    A file with valid multi-byte UTF-8 (é, emojis) and a few bad bytes is UTF-8 with some
    damage: re-reading all of it in an 8-bit code page would garble every accent, so only
    the bad bytes are replaced. A file with no valid multi-byte sequence is in a legacy
    encoding (cp1252, latin-1...): charset-normalizer names it.
    """
    line = raw.count(b"\n", 0, exc.start) + 1
    invalid = f"invalid UTF-8 (first bad byte at line {line})"
    replaced = raw.decode("utf-8", errors="replace")
    if replaced.replace("\ufffd", "").isascii():
        try:
            from charset_normalizer import from_bytes

            best = from_bytes(raw[:1_000_000]).best()
        except Exception:  # a detector failure must not lose the file: replace instead
            best = None
        if best is not None and best.encoding and best.encoding not in ("utf_8", "ascii"):
            try:
                return raw.decode(best.encoding), f"{invalid}; decoded as {best.encoding}"
            except (UnicodeDecodeError, LookupError):
                pass
    bad = replaced.count("\ufffd")
    return replaced, f"{invalid}; {bad} bad byte sequence(s) replaced by U+FFFD — re-save as UTF-8"


def read_plan(full: Path, rel: str) -> Plan | SourceFailure:
    """Read, decode and parse one file.

    Args:
        full: where the file is.
        rel: its path relative to its argument (becomes ``Plan.path``).

    Returns:
        The parsed plan (with decoding warnings and ``file_hash`` = sha256 of the raw
        bytes), or a ``SourceFailure`` when the file cannot be read or is binary.
    """
    raw = read_bytes(full, rel)
    return raw if isinstance(raw, SourceFailure) else parse_bytes(raw, rel)


def read_bytes(full: Path, rel: str) -> bytes | SourceFailure:
    """The bytes of one plan file, or a ``SourceFailure`` saying why it cannot be read."""
    kind = _special_kind(full)
    if kind is not None:
        return SourceFailure(rel, f"{kind}, not a regular file; skipped (reading it could hang)")
    try:
        return full.read_bytes()
    except IsADirectoryError:
        return SourceFailure(rel, "is a directory, expected a Markdown file")
    except OSError as exc:
        reason = exc.strerror or str(exc)
        return SourceFailure(rel, f"cannot read ({reason}); check that it exists and is readable")


def parse_bytes(
    raw: bytes, rel: str, sha256: str | None = None, memo: SourceMemo | None = None
) -> Plan | SourceFailure:
    """Decode and parse the bytes of plan ``rel`` (``sha256``: their digest, if known;
    ``memo``: see ``markdown_plans.SourceMemo``)."""
    try:
        text, warnings = decode(raw, rel)
    except SourceError as exc:
        return SourceFailure(rel, exc.reason)
    if not raw.strip():
        warnings.append(ParseWarning(rel, None, "empty file: no tasks"))
    from planvec.sources.markdown_plans import parse_plan  # a no-op re-run parses nothing

    plan = parse_plan(text, rel, memo)
    return dataclasses.replace(
        plan,
        warnings=(*warnings, *plan.warnings),
        file_hash=sha256 or hashlib.sha256(raw).hexdigest(),
    )


class MarkdownPlanSource:
    """Plans from Markdown files and directories (the ``Source`` protocol).

    Example:
        >>> from pathlib import Path
        >>> source = MarkdownPlanSource([Path("examples/plans")])
        >>> plans = [p for p in source.iter_plans() if isinstance(p, Plan)]
    """

    def __init__(self, paths: Sequence[Path]) -> None:
        self.paths = [Path(p) for p in paths]

    def iter_plans(self) -> Iterator[Plan | SourceFailure]:
        """Every plan in a stable order; see ``planvec.sources.base``.

        Raises:
            SourceError: an argument path does not exist (raised before any plan).
        """
        files, failures = discover(self.paths)
        yield from failures
        for full, rel in files:
            yield read_plan(full, rel)


def parse_paths(paths: Sequence[Path]) -> tuple[list[Plan], list[SourceFailure]]:
    """Parse every plan under ``paths``.

    Args:
        paths: files or directories.

    Returns:
        The parsed plans and the files that failed, each in a stable order.

    Raises:
        SourceError: an argument path does not exist.
    """
    plans: list[Plan] = []
    failures: list[SourceFailure] = []
    for item in MarkdownPlanSource(paths).iter_plans():
        (plans if isinstance(item, Plan) else failures).append(item)  # type: ignore[arg-type]
    return plans, failures
