"""One frozen ``Settings`` object, built only at the edges (CLI, service, tests).

Precedence: explicit flag > ``PLANVEC_*`` environment variable > config file > default.
The config file is TOML: ``planvec.toml`` in the current directory, or the path in
``PLANVEC_CONFIG``; keys are the field names below (top level or under ``[planvec]``).
The core never reads ``os.environ``: it receives a ``Settings`` (or plain arguments).
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any, Literal

from planvec.errors import ConfigError

#: The built-in embedder names: the one list (``planvec.embed.factory`` and the CLI use it).
EMBEDDERS = ("auto", "onnx", "onnx-int8", "torch", "hashing")

#: Embedder names added by plugins (``planvec.plugins`` fills it when it builds its registry).
_PLUGIN_EMBEDDERS: list[str] = []


def allow_embedders(names: Iterable[str]) -> None:
    """Accept exactly these embedder names besides the built-in ones (the plugin registry
    calls it each time it is built; users do not)."""
    _PLUGIN_EMBEDDERS[:] = [n for n in dict.fromkeys(names) if n not in EMBEDDERS]


def known_embedders() -> tuple[str, ...]:
    """The built-in embedder names, then those of loaded plugins."""
    return EMBEDDERS + tuple(_PLUGIN_EMBEDDERS)


#: What ``--qdrant-url`` may start with (no URL: the embedded Qdrant Edge store).
URL_SCHEMES = ("http://", "https://", "memory://", "local://")

StoreKind = Literal["edge", "server", "memory", "local"]


@dataclass(frozen=True)
class StoreTarget:
    """A parsed ``--qdrant-url``: which backend, and its address (URL or path)."""

    kind: StoreKind
    address: str = ""


def parse_store_url(url: str | None) -> StoreTarget:
    """The one parser of ``--qdrant-url``: ``None``/empty, http(s), ``memory://``, ``local://``.

    Raises:
        ConfigError: an unknown scheme (the message lists the accepted ones).
    """
    if not url:
        return StoreTarget("edge")
    if url.startswith("memory://"):
        return StoreTarget("memory", url)
    if url.startswith("local://"):
        return StoreTarget("local", url[len("local://") :])
    if url.startswith(("http://", "https://")):
        return StoreTarget("server", url)
    raise ConfigError(
        f"--qdrant-url {url!r} must start with http://, https://, memory:// or local://"
    )


@dataclass(frozen=True)
class StoreConfig:
    """How to reach the vector store: one value instead of eight loose arguments.

    Built from ``Settings`` (``settings.store``); ``planvec.wiring.open_store`` and
    ``planvec.store.factory.open_store`` take it.
    """

    index_dir: Path = Path(".planvec")
    qdrant_url: str | None = None
    api_key: str | None = None
    timeout: float = 30.0
    retries: int = 5
    retry_ceiling: float = 10.0
    grpc: bool = False
    verify_tls: bool = True

    def __repr__(self) -> str:
        key = "***" if self.api_key else None
        return (
            f"StoreConfig(index_dir={self.index_dir!r}, qdrant_url={self.qdrant_url!r}, "
            f"api_key={key!r}, timeout={self.timeout!r}, retries={self.retries!r}, "
            f"retry_ceiling={self.retry_ceiling!r}, grpc={self.grpc!r}, "
            f"verify_tls={self.verify_tls!r})"
        )

    @property
    def target(self) -> StoreTarget:
        return parse_store_url(self.qdrant_url)


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

    def __repr__(self) -> str:
        shown = {f.name: getattr(self, f.name) for f in fields(self)}
        if shown["api_key"]:
            shown["api_key"] = "***"
        return "Settings(" + ", ".join(f"{k}={v!r}" for k, v in shown.items()) + ")"

    @property
    def store(self) -> StoreConfig:
        """The store part of these settings."""
        return StoreConfig(
            index_dir=self.index_dir,
            qdrant_url=self.qdrant_url,
            api_key=self.api_key,
            timeout=self.timeout,
            retries=self.retries,
            retry_ceiling=self.retry_ceiling,
            grpc=self.grpc,
            verify_tls=self.verify_tls,
        )

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
    if result.embedder not in known_embedders():
        raise ConfigError(
            f"unknown embedder {result.embedder!r}: choose one of {', '.join(known_embedders())}"
        )
    parse_store_url(result.qdrant_url)  # raises on an unknown scheme
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
    known = {f.name for f in fields(Settings)}
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
    for f in fields(Settings):
        key = f"PLANVEC_{f.name.upper()}"
        if key in env:
            values[f.name] = env[key]
    if "api_key" not in values and env.get("QDRANT_API_KEY"):
        values["api_key"] = env["QDRANT_API_KEY"]
    values.update({k: v for k, v in flags.items() if v is not None})
    return _coerce(Settings(**values))
