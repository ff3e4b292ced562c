"""Coverage-guided fuzz targets (atheris/libFuzzer) for the parser and the archive reader.

Run by tests/reliability/test_atheris.py as a subprocess (libFuzzer owns the process), or by
hand for longer campaigns::

    .venv/bin/python tests/reliability/atheris_targets.py parser -runs=200000
    .venv/bin/python tests/reliability/atheris_targets.py archive -runs=20000

atheris is an optional dev tool (``pip install atheris``), not a planvec dependency. Any
exception other than the clear refusals (``SourceError`` for binary input, ``ArchiveError``
for a bad archive) is a crash that libFuzzer reports with the input that caused it.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import atheris

with atheris.instrument_imports():
    from planvec.backup.archive import read_archive
    from planvec.errors import ArchiveError, SourceError
    from planvec.sources.files import decode
    from planvec.sources.markdown_plans import parse_plan

_SCRATCH = Path(tempfile.mkdtemp(prefix="planvec-atheris-")) / "input.tar"


def parser_target(data: bytes) -> None:
    try:
        text, _ = decode(data, "fuzz.md")
    except SourceError:
        return
    plan = parse_plan(text, "fuzz.md")
    ids = [t.id for t in plan.tasks]
    if len(set(ids)) != len(ids):
        raise AssertionError("duplicate task ids")


def archive_target(data: bytes) -> None:
    _SCRATCH.write_bytes(data)
    try:
        read_archive(_SCRATCH)
    except ArchiveError:
        return


def main() -> None:
    target = {"parser": parser_target, "archive": archive_target}[sys.argv[1]]
    argv = [sys.argv[0], *sys.argv[2:]]
    atheris.Setup(argv, target)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
