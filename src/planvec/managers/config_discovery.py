"""Which files are configuration files, and where to look for them.

Rules (documented in ``docs/managers-storage.md``):

- formats by name: ``*.yaml``/``*.yml`` (YAML), ``*.json`` (JSON), ``*.toml`` (TOML),
  ``*.ini``/``*.cfg`` (INI), ``.env``, ``.env.<anything>`` and ``*.env`` (dotenv);
- directories are walked recursively, skipping version control, dependency, cache, build
  and virtual-environment directories (``SKIPPED_DIRS``, any directory holding a
  ``pyvenv.cfg``) and hidden directories other than CI ones (``KEPT_HIDDEN_DIRS``);
- generated lock files (``package-lock.json``, ``npm-shrinkwrap.json``), ``*.min.json`` and
  files over ``MAX_CONFIG_BYTES`` are left out (they are data, not configuration);
- a file given explicitly is read whatever its location, if its format is known.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from planvec.errors import SourceError
from planvec.records import SourceFailure

MAX_CONFIG_BYTES = 1024 * 1024
SKIPPED_DIRS = frozenset(
    {
        ".git",
        ".hg",
        ".svn",
        "node_modules",
        "bower_components",
        "__pycache__",
        ".venv",
        "venv",
        "site-packages",
        ".tox",
        ".nox",
        ".mypy_cache",
        ".pytest_cache",
        ".ruff_cache",
        ".planvec",
        ".terraform",
        "dist",
        "build",
        "target",
        ".idea",
    }
)
KEPT_HIDDEN_DIRS = frozenset({".github", ".gitlab", ".circleci", ".devcontainer"})
SKIPPED_FILES = frozenset({"package-lock.json", "npm-shrinkwrap.json"})
_SUFFIX_FORMATS = {
    ".yaml": "yaml",
    ".yml": "yaml",
    ".json": "json",
    ".toml": "toml",
    ".ini": "ini",
    ".cfg": "ini",
    ".env": "env",
}


def config_format(path: Path) -> str | None:
    """The format of a file by its name (``yaml``, ``json``, ``toml``, ``ini``, ``env``)."""
    name = path.name.lower()
    if name == ".env" or name.startswith(".env."):
        return "env"
    return _SUFFIX_FORMATS.get(path.suffix.lower())


def _skipped_dir(folder: Path, name: str) -> bool:
    if name in SKIPPED_DIRS:
        return True
    if name.startswith(".") and name not in KEPT_HIDDEN_DIRS:
        return True
    return (folder / name / "pyvenv.cfg").exists()


def _wanted_file(name: str) -> bool:
    lower = name.lower()
    return lower not in SKIPPED_FILES and not lower.endswith(".min.json")


def input_root(paths: Sequence[Path]) -> Path:
    """The directory config names are relative to: the arguments' deepest common folder."""
    folders = [str(Path(os.path.abspath(p if p.is_dir() else p.parent))) for p in paths]
    return Path(os.path.commonpath(folders))


def discover_configs(
    paths: Sequence[Path],
) -> tuple[Path, list[tuple[Path, str, str]], list[SourceFailure]]:
    """Every configuration file under ``paths``.

    Returns:
        The root names are relative to; (file, name relative to the root, format) sorted
        by name, each file once; and failures (unlistable directories, unknown formats).

    Raises:
        SourceError: a path does not exist.
    """
    for path in paths:
        if not os.path.lexists(path):
            raise SourceError(str(path), "no such file or directory; check the path and retry")
    root = input_root(paths)
    found: dict[str, tuple[Path, str, str]] = {}
    failures: list[SourceFailure] = []

    def _record(exc: OSError) -> None:
        where = exc.filename or "?"
        failures.append(SourceFailure(str(where), f"cannot list this directory ({exc.strerror})"))

    for path in paths:
        if not path.is_dir():
            fmt = config_format(path)
            rel = Path(os.path.abspath(path)).relative_to(root).as_posix()
            if fmt is None:
                failures.append(
                    SourceFailure(rel, "unknown configuration format (YAML, JSON, TOML, INI, .env)")
                )
            else:
                found.setdefault(rel, (path, rel, fmt))
            continue
        for folder, dirs, files in os.walk(path, onerror=_record):
            here = Path(folder)
            dirs[:] = sorted(d for d in dirs if not _skipped_dir(here, d))
            for name in files:
                fmt = config_format(Path(name))
                if fmt is None or not _wanted_file(name):
                    continue
                full = here / name
                rel = Path(os.path.abspath(full)).relative_to(root).as_posix()
                found.setdefault(rel, (full, rel, fmt))
    return root, [found[k] for k in sorted(found)], failures
