"""Policy documents on disk: which files are policies, and the ``Source`` over them.

The managers share one set of input paths (the project), so this source picks the policy
files out of it (docs/managers-security.md):

* a file given directly is taken when it is Markdown (``.md``/``.markdown``) or YAML
  (``.yaml``/``.yml``);
* under a directory: Markdown and YAML files that sit below a folder named ``policies``,
  (the directory given may be that folder itself),
  ``policy``, ``security``, ``politiques`` or ``securite``/``sécurité``, or whose own
  name contains ``policy``/``policies``/``politique``, plus ``SECURITY.md``; hidden folders and
  ``node_modules``/``venv`` are skipped;
* a YAML file is a policy only when it follows the rule schema (``policy_yaml``); other
  YAML found there (configuration) is left to the storage manager.

One bad file never stops the others (``SourceFailure``); plan names are POSIX paths
relative to the argument they were found under.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
from collections.abc import Iterator, Sequence
from pathlib import Path

from planvec.errors import SourceError
from planvec.managers.policy_markdown import parse_policy_markdown
from planvec.managers.policy_yaml import looks_like_rules, parse_policy_yaml
from planvec.records import Plan, SourceFailure
from planvec.sources.files import decode

MARKDOWN_SUFFIXES = (".md", ".markdown")
YAML_SUFFIXES = (".yaml", ".yml")
POLICY_FOLDERS = frozenset({"policies", "policy", "security", "politiques", "securite", "sécurité"})
_NAME_HINTS = ("policy", "policies", "politique")
_SKIPPED_FOLDERS = frozenset({"node_modules", "venv", "__pycache__", "site-packages"})


def is_policy_path(rel: Path, *, in_policy_folder: bool = False) -> bool:
    """Whether a file found under a directory (``rel`` relative to it) is a policy file;
    ``in_policy_folder``: that directory is itself a policy folder (``policies/``)."""
    suffix = rel.suffix.lower()
    if suffix not in MARKDOWN_SUFFIXES + YAML_SUFFIXES:
        return False
    if in_policy_folder or rel.name.upper() == "SECURITY.MD":
        return True
    if any(part.casefold() in POLICY_FOLDERS for part in rel.parts[:-1]):
        return True
    return any(hint in rel.stem.casefold() for hint in _NAME_HINTS)


def discover_policies(paths: Sequence[Path]) -> list[tuple[Path, str]]:
    """Policy files under ``paths``: (file, relative POSIX name), sorted, each once.

    Raises:
        SourceError: an argument does not exist.
    """
    found: dict[Path, tuple[Path, str]] = {}
    for path in paths:
        if not os.path.lexists(path):
            raise SourceError(str(path), "no such file or directory; check the path and retry")
        if not path.is_dir():
            if path.suffix.lower() in MARKDOWN_SUFFIXES + YAML_SUFFIXES:
                found.setdefault(path.resolve(), (path, path.name))
            continue
        policy_folder = path.resolve().name.casefold() in POLICY_FOLDERS
        for folder, dirs, files in os.walk(path):
            dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d not in _SKIPPED_FOLDERS)
            for name in files:
                full = Path(folder) / name
                rel = full.relative_to(path)
                wanted = is_policy_path(rel, in_policy_folder=policy_folder)
                if wanted and not name.startswith(".") and full.is_file():
                    found.setdefault(full.resolve(), (full, rel.as_posix()))
    return sorted(found.values(), key=lambda entry: entry[1])


def read_policy(full: Path, rel: str) -> Plan | SourceFailure | None:
    """Read and parse one policy file; ``None`` for YAML that is not a rule file."""
    try:
        raw = full.read_bytes()
    except OSError as exc:
        reason = exc.strerror or str(exc)
        return SourceFailure(rel, f"cannot read ({reason}); check that it is readable")
    try:
        text, warnings = decode(raw, rel)
    except SourceError as exc:
        return SourceFailure(rel, exc.reason)
    if full.suffix.lower() in YAML_SUFFIXES:
        if not looks_like_rules(text):
            return None
        plan = parse_policy_yaml(text, rel)
    else:
        plan = parse_policy_markdown(text, rel)
    return dataclasses.replace(
        plan,
        warnings=(*warnings, *plan.warnings),
        file_hash=hashlib.sha256(raw).hexdigest(),
    )


class PolicySource:
    """The rules of the policy files under ``paths`` (the ``Source`` protocol)."""

    def __init__(self, paths: Sequence[Path]) -> None:
        self.paths = [Path(p) for p in paths]

    def iter_plans(self) -> Iterator[Plan | SourceFailure]:
        """Every policy document in a stable order; see ``planvec.sources.base``.

        Raises:
            SourceError: an argument path does not exist (raised before any plan).
        """
        for full, rel in discover_policies(self.paths):
            item = read_policy(full, rel)
            if item is not None:
                yield item
