"""The configuration manager: YAML, JSON, TOML, INI and ``.env`` files -> ``planvec_configs``.

One ``Plan`` per configuration file (named by its path relative to the inputs' common
folder), one ``Task`` per key path: ``text`` is ``key.path = value``, ``line`` the real line
of the key. **Secrets never enter the index**: every value goes through
``planvec.text.secrets.redact_value`` (secret-looking keys, known token formats, URL and DSN
credentials, high-entropy strings) and every key name through ``scan_text`` *before* the
record exists, so neither the embedder, the payload, the logs nor a report can see them.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import math
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from planvec.errors import ConfigError, SourceError
from planvec.managers.base import Finding, ManagerInputs
from planvec.managers.config_discovery import MAX_CONFIG_BYTES, discover_configs
from planvec.managers.config_formats import MAX_ENTRIES, ConfigEntry, parse_config
from planvec.managers.config_lines import ConfigFormatError, env_warnings
from planvec.managers.items import Item, item_task
from planvec.records import ParseWarning, Plan, SourceFailure, Task, content_hash, point_id
from planvec.sources.files import decode
from planvec.text.secrets import (
    SECRETS_RULES_VERSION,
    is_harmless_value,
    is_secret_key,
    redact_value,
    redaction_marker,
    scan_text,
)

if TYPE_CHECKING:
    from planvec.index import Index
    from planvec.sync_report import SyncReport

log = logging.getLogger(__name__)

KIND = "config"
COLLECTION = "planvec_configs"
#: Bump when records change meaning: folded into every file hash.
CONFIG_RECIPE = "config-records-1"
#: Longest value shown in ``text`` (the rest is cut with an ellipsis).
MAX_VALUE_CHARS = 200


def render_key_path(path: Sequence[str | int]) -> str:
    """``("db", "hosts", 0, "name")`` -> ``db.hosts[0].name``; odd keys are JSON-quoted."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
            continue
        plain = part and all(c.isalnum() or c in "_-#$@/" for c in part)
        shown = part if plain else json.dumps(part, ensure_ascii=False)
        out += f".{shown}" if out else shown
    return out


def render_value(value: Any) -> str:
    """How a value reads in ``text``: YAML-like scalars, ``[a, b]`` lists, one line."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return "[" + ", ".join(render_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{}"
    text = str(value).replace("\r\n", "\n").replace("\n", "\\n")
    return text if len(text) <= MAX_VALUE_CHARS else text[: MAX_VALUE_CHARS - 1] + "…"


def _value_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool"
    return {int: "int", float: "float", str: "str", list: "list", dict: "map"}.get(
        type(value), "str"
    )


def _json_safe(value: Any) -> Any:
    """``.nan``/``inf`` (YAML, TOML) as text: payloads are JSON, which has no NaN."""
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, list):
        return [_json_safe(v) for v in value]
    return value


def clean_entry(entry: ConfigEntry) -> tuple[list[str], Any, list[str]]:
    """The entry's key parts and value with every secret removed, and the reasons."""
    reasons: list[str] = []
    keys: list[str] = []
    for part in entry.path:
        if isinstance(part, int):
            keys.append(str(part))
            continue
        scan = scan_text(part)
        keys.append(scan.text)
        reasons.extend(scan.reasons)
    names = [p for p in entry.path if isinstance(p, str)]  # classification only, never stored
    value = _json_safe(entry.value)
    if isinstance(value, list):
        if is_secret_key(names) and not all(is_harmless_value(v) for v in value):
            value, why = redaction_marker("secret-key"), ["secret-key"]
        else:
            cleaned = [redact_value([], v) for v in value]
            value, why = [v for v, _ in cleaned], [r for _, rs in cleaned for r in rs]
        reasons.extend(why)
    elif not isinstance(value, dict):
        value, why_tuple = redact_value(names, value)
        reasons.extend(why_tuple)
    return keys, value, list(dict.fromkeys(reasons))


def entry_task(entry: ConfigEntry, plan: str, fmt: str) -> Task:
    """The record of one key path (already free of secrets)."""
    keys, value, reasons = clean_entry(entry)
    parts: list[str | int] = [
        int(k) if isinstance(p, int) else k for k, p in zip(keys, entry.path, strict=True)
    ]
    key_path = render_key_path(parts)
    text = f"{key_path} = {render_value(value)}"
    parent = render_key_path(parts[:-1])
    shown_value = render_value(value) if isinstance(value, str) else value
    item = Item(
        key=key_path,
        line=entry.line,
        text=text,
        section=(Path(plan).name, *([parent] if parent else [])),
        depth=len(parts) - 1,
        metadata={
            "format": fmt,
            "key_path": key_path,
            "value": shown_value,
            "value_type": _value_type(entry.value if not reasons else value),
            "redacted": reasons,
        },
    )
    return item_task(KIND, plan, item)


def _unique_keys(tasks: list[Task]) -> tuple[Task, ...]:
    """Keys made equal by redaction (two secret-looking key names under one parent) get
    ``#2``, ``#3``... so that every record keeps its own id."""
    seen: dict[str, int] = {}
    out = []
    for task in tasks:
        key = task.key or ""
        seen[key] = seen.get(key, 0) + 1
        if seen[key] > 1:
            key = f"{key}#{seen[key]}"
            task = dataclasses.replace(
                task,
                key=key,
                id=point_id(KIND, task.plan, key),
                metadata={**task.metadata, "key_path": key},
            )
        out.append(task)
    return tuple(out)


def read_config(full: Path, rel: str, fmt: str) -> Plan | SourceFailure:
    """One configuration file as a plan of key-path records, or why it cannot be read."""
    try:
        size = full.stat().st_size
        if size > MAX_CONFIG_BYTES:
            return SourceFailure(
                rel, f"{size} bytes: too large for a configuration file (limit {MAX_CONFIG_BYTES})"
            )
        raw = full.read_bytes()
        text, warnings = decode(raw, rel)
        entries = parse_config(text, fmt)
    except OSError as exc:
        return SourceFailure(rel, f"cannot read ({exc.strerror or exc}); check its permissions")
    except SourceError as exc:
        return SourceFailure(rel, exc.reason)
    except ConfigFormatError as exc:  # parser messages may quote the file: scanned too
        message = scan_text(str(exc)).text
        return SourceFailure(rel, f"{message}; fix the file (the other files are indexed)")
    if fmt == "env":
        warnings.extend(ParseWarning(rel, n, m) for n, m in env_warnings(text))
    if len(entries) > MAX_ENTRIES:
        warnings.append(ParseWarning(rel, None, f"only the first {MAX_ENTRIES} keys indexed"))
        entries = entries[:MAX_ENTRIES]
    tasks = _unique_keys([entry_task(e, rel, fmt) for e in entries])
    log.debug("%s: %d configuration keys", rel, len(tasks))
    return Plan(
        path=rel,
        title=Path(rel).name,
        version=None,
        tasks=tasks,
        warnings=tuple(warnings),
        file_hash=content_hash(
            CONFIG_RECIPE, SECRETS_RULES_VERSION, hashlib.sha256(raw).hexdigest()
        ),
    )


class ConfigSource:
    """The configuration files under some paths, as a ``planvec.sources.base.Source``."""

    def __init__(self, paths: Sequence[Path]) -> None:
        self.paths = [Path(p) for p in paths]

    def iter_plans(self) -> Iterator[Plan | SourceFailure]:
        """Every configuration file in name order (a bad one becomes a ``SourceFailure``)."""
        _, files, failures = discover_configs(self.paths)
        yield from failures
        for full, rel, fmt in files:
            yield read_config(full, rel, fmt)


class ConfigManager:
    """Configuration files -> ``planvec_configs`` (kind ``config``); see the module docstring."""

    name = "configs"
    kind = KIND
    collection = COLLECTION
    order = 20

    def source(self, inputs: ManagerInputs) -> ConfigSource:
        if not inputs.paths:
            raise ConfigError("the configs manager needs project paths to scan; pass one or more")
        return ConfigSource(inputs.paths)

    def analyse(self, index: Index, report: SyncReport, inputs: ManagerInputs) -> list[Finding]:
        """One finding per file that could not be read (the report carries the rest)."""
        return [
            Finding(self.name, "unreadable", f"{f.path}: {f.message}", (f.path,))
            for f in report.failures
        ]
