"""One frozen ``Settings`` object, built only at the edges (CLI, service, tests).

Precedence: explicit flag > ``PLANVEC_*`` environment variable > config file > default.
The config file is TOML: ``planvec.toml`` in the current directory, or the path in
``PLANVEC_CONFIG``; keys are the field names below (top level or under ``[planvec]``).
The core never reads ``os.environ``: it receives a ``Settings`` (or plain arguments).
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

from planvec.errors import ConfigError

EMBEDDERS = ("auto", "onnx", "onnx-int8", "torch", "hashing")


def _default_cache_dir(env: Mapping[str, str]) -> Path:
    base = env.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "planvec"


@dataclass(frozen=True)
class Settings:
    """Every knob of planvec. Secrets (``api_key``) are never printed or logged."""

    index_dir: Path = Path(".planvec")
    qdrant_url: str | None = None
    api_key: str | None = None
    collection: str = "planvec_tasks"
    embedder: str = "auto"
    cache_dir: Path = Path("~/.cache/planvec")
    grpc: bool = False
    timeout: float = 30.0
    retries: int = 5
    retry_ceiling: float = 10.0
    verify_tls: bool = True
    batch_size: int = 256
    #: deletion guard: a sync deleting more than this fraction of the index or of a plan
    #: is refused unless confirmed (``--allow-delete``); see ``planvec.guard``
    max_delete: float = 0.5
    #: the directory plan names are relative to (default: the one recorded in the index,
    #: else the project root); see ``planvec.roots``
    root: Path | None = None
    #: the config file these settings were read from (set by ``load_settings``)
    config_file: Path | None = None

    def __repr__(self) -> str:
        shown = {f.name: getattr(self, f.name) for f in fields(self)}
        if shown["api_key"]:
            shown["api_key"] = "***"
        return "Settings(" + ", ".join(f"{k}={v!r}" for k, v in shown.items()) + ")"

    def with_overrides(self, **overrides: Any) -> Settings:
        """A copy with the non-``None`` overrides applied (flags)."""
        clean = {k: v for k, v in overrides.items() if v is not None}
        return _coerce(replace(self, **clean)) if clean else self


_BOOL_TRUE = {"1", "true", "yes", "on"}
_BOOL_FALSE = {"0", "false", "no", "off", ""}


def _convert(name: str, value: Any, kind: Any) -> Any:
    try:
        if kind in (Path, "Path"):
            return Path(str(value)).expanduser()
        if kind in (bool, "bool"):
            if isinstance(value, bool):
                return value
            text = str(value).strip().lower()
            if text in _BOOL_TRUE:
                return True
            if text in _BOOL_FALSE:
                return False
            raise ValueError(value)
        if kind in (int, "int"):
            return int(value)
        if kind in (float, "float"):
            return float(value)
        return None if value is None else str(value)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"setting {name!r} has an invalid value {value!r}") from exc


def _coerce(settings: Settings) -> Settings:
    values = {}
    for f in fields(settings):
        raw = getattr(settings, f.name)
        kind = str(f.type).split(" | ")[0]
        values[f.name] = raw if raw is None else _convert(f.name, raw, kind)
    result = Settings(**values)  # type: ignore[arg-type]  # each value was converted above
    if result.embedder not in EMBEDDERS:
        raise ConfigError(
            f"unknown embedder {result.embedder!r}: choose one of {', '.join(EMBEDDERS)}"
        )
    if not 0.0 <= result.max_delete <= 1.0:
        raise ConfigError(
            f"max_delete {result.max_delete} must be a fraction between 0 and 1 (0.5 = 50 %)"
        )
    if result.qdrant_url and not result.qdrant_url.startswith(
        ("http://", "https://", "memory://", "local://")
    ):
        raise ConfigError(
            f"--qdrant-url {result.qdrant_url!r} must start with http://, https://, memory:// or local://"
        )
    return result


def _read_config_file(path: Path) -> dict[str, Any]:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"cannot read config file {path}: {exc.strerror}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"config file {path} is not valid TOML: {exc}") from exc
    table = data.get("planvec", data)
    if not isinstance(table, dict):
        raise ConfigError(f"config file {path}: [planvec] must be a table")
    known = {f.name for f in fields(Settings)} - {"config_file"}
    unknown = sorted(set(table) - known)
    if unknown:
        raise ConfigError(
            f"config file {path}: unknown setting(s) {', '.join(unknown)}; "
            f"known: {', '.join(sorted(known))}"
        )
    if "api_key" in table:
        raise ConfigError(
            f"config file {path}: put the API key in PLANVEC_API_KEY, not in a file"
            " that may be committed"
        )
    return dict(table)


def load_settings(
    env: Mapping[str, str] | None = None,
    config_file: Path | None = None,
    **flags: Any,
) -> Settings:
    """Build settings from defaults < config file < environment < flags."""
    env = dict(os.environ) if env is None else dict(env)
    values: dict[str, Any] = {"cache_dir": _default_cache_dir(env)}
    path = config_file or (Path(env["PLANVEC_CONFIG"]) if env.get("PLANVEC_CONFIG") else None)
    if path is None and Path("planvec.toml").is_file():
        path = Path("planvec.toml")
    if path is not None:
        values.update(_read_config_file(path))
        values["config_file"] = path.absolute()
        if values.get("root") is not None:  # relative to the file, not to the cwd
            values["root"] = path.absolute().parent / Path(str(values["root"])).expanduser()
    for f in fields(Settings):
        key = f"PLANVEC_{f.name.upper()}"
        if key in env and f.name != "config_file":
            values[f.name] = env[key]
    if "api_key" not in values and env.get("QDRANT_API_KEY"):
        values["api_key"] = env["QDRANT_API_KEY"]
    values.update({k: v for k, v in flags.items() if v is not None})
    return _coerce(Settings(**values))
