"""Configuration file formats -> flat entries: one per key path, with its value and line.

Pure functions over decoded text (no filesystem). Each parser raises ``ConfigFormatError``
with a message that says where the file is broken; the caller turns it into a
``SourceFailure`` so one bad file never stops the others.

Lines are real 1-based line numbers: YAML from the loader's node marks, JSON from a
position-aware walk of the (already validated) text, TOML, INI and ``.env`` by scanning the
text (``planvec.managers.config_lines``). Leaves are scalars; a list of scalars is one entry
(``ports = [80, 443]``); a list holding mappings is walked with indices (``servers[0].host``);
an empty mapping or list is one entry whose value is ``{}`` / ``[]``.
"""

from __future__ import annotations

import json
import tomllib
from bisect import bisect_right
from collections.abc import Iterator
from typing import Any

from planvec.managers.config_lines import (
    ConfigEntry,
    ConfigFormatError,
    line_for,
    parse_env,
    parse_ini,
    toml_key_lines,
)

__all__ = ["ConfigEntry", "ConfigFormatError", "parse_config"]

#: A file yielding more entries than this is cut (a warning says so): data, not configuration.
MAX_ENTRIES = 5000
_MAX_DEPTH = 64

PathPart = str | int


def _is_scalar(value: Any) -> bool:
    return value is None or isinstance(value, str | int | float | bool)


def flatten(value: Any, line_of: Any, prefix: tuple[PathPart, ...] = ()) -> Iterator[ConfigEntry]:
    """Leaves of a parsed document; ``line_of(path)`` gives each leaf's line."""
    if len(prefix) > _MAX_DEPTH:
        raise ConfigFormatError(f"nested deeper than {_MAX_DEPTH} levels")
    if isinstance(value, dict) and value:
        for key, child in value.items():
            yield from flatten(child, line_of, (*prefix, str(key)))
    elif isinstance(value, list) and value and not all(_is_scalar(v) for v in value):
        for i, child in enumerate(value):
            yield from flatten(child, line_of, (*prefix, i))
    elif prefix:
        if isinstance(value, dict | list) and not value:
            value = {} if isinstance(value, dict) else []
        elif not (_is_scalar(value) or isinstance(value, list)):
            value = str(value)  # TOML dates and times
        yield ConfigEntry(prefix, value, line_of(prefix))


# -- JSON: validated by json, lines from a position-aware walk ---------------------------

_DECODER = json.JSONDecoder()
_WS = " \t\r\n"


class _JsonLines:
    """Walks valid JSON text recording the offset where each key path's value starts."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.lines: dict[tuple[PathPart, ...], int] = {}
        self._starts = [0] + [i + 1 for i, c in enumerate(text) if c == "\n"]

    def line(self, offset: int) -> int:
        return bisect_right(self._starts, offset)

    def skip(self, i: int) -> int:
        while i < len(self.text) and self.text[i] in _WS:
            i += 1
        return i

    def value(self, i: int, path: tuple[PathPart, ...]) -> int:
        i = self.skip(i)
        self.lines.setdefault(path, self.line(i))
        char = self.text[i]
        if char == "{":
            return self._container(i, path, "}", keyed=True)
        if char == "[":
            return self._container(i, path, "]", keyed=False)
        return _DECODER.raw_decode(self.text, i)[1]

    def _container(self, i: int, path: tuple[PathPart, ...], close: str, *, keyed: bool) -> int:
        i, index = self.skip(i + 1), 0
        while self.text[i] != close:
            if keyed:
                key, i = json.decoder.scanstring(self.text, i + 1)  # type: ignore[attr-defined]
                i = self.skip(self.skip(i) + 1)  # past ":"
                self.lines[(*path, key)] = self.line(i)
                i = self.value(i, (*path, key))
            else:
                i = self.value(i, (*path, index))
                index += 1
            i = self.skip(i)
            if self.text[i] == ",":
                i = self.skip(i + 1)
        return i + 1


def strip_jsonc(text: str) -> str:
    """``text`` with ``//`` and ``/* */`` comments and trailing commas blanked out.

    JSON with comments (``tsconfig.json``, editor settings) is common in projects. Removed
    characters become spaces (newlines are kept), so offsets and line numbers do not move.
    """
    out = list(text)
    i, n, in_string = 0, len(text), False
    last_comma = -1  # offset of a comma that may turn out to be trailing
    while i < n:
        char = text[i]
        if in_string:
            if char == "\\":
                i += 2
                continue
            in_string = char != '"'
        elif char == '"':
            in_string, last_comma = True, -1
        elif text.startswith("//", i) or text.startswith("/*", i):
            if text.startswith("//", i):
                end = text.find("\n", i)
                end = n if end == -1 else end
            else:
                end = text.find("*/", i + 2)
                end = n if end == -1 else end + 2
            for j in range(i, end):
                out[j] = out[j] if text[j] == "\n" else " "
            i = end
            continue
        elif char == ",":
            last_comma = i
        elif char in "}]" and last_comma >= 0:
            out[last_comma], last_comma = " ", -1
        elif not char.isspace():
            last_comma = -1
        i += 1
    return "".join(out)


def parse_json(text: str) -> list[ConfigEntry]:
    """JSON, or JSON with comments and trailing commas (JSONC) when strict JSON fails."""
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        lenient = strip_jsonc(text)
        try:
            document = json.loads(lenient)
        except json.JSONDecodeError:
            where = f"line {exc.lineno}, column {exc.colno}"
            raise ConfigFormatError(f"invalid JSON at {where}: {exc.msg}") from None
        text = lenient
    walker = _JsonLines(text)
    walker.value(0, ())
    return list(flatten(document, lambda p: line_for(walker.lines, p)))


# -- YAML: the composer's nodes carry their marks ------------------------------------------


def _yaml() -> Any:
    try:
        import yaml
    except ImportError as exc:  # pragma: no cover - a core dependency
        raise ConfigFormatError("reading YAML needs PyYAML: pip install pyyaml") from exc
    return yaml


def _yaml_scalar(yaml: Any, node: Any) -> Any:
    """The typed value of a scalar node (the safe loader's resolution: int, bool, null...)."""
    loader = yaml.SafeLoader("")
    try:
        return loader.construct_object(node, deep=True)
    finally:
        loader.dispose()


def _walk_yaml(
    yaml: Any, node: Any, path: tuple[PathPart, ...], out: list[ConfigEntry], depth: int = 0
) -> None:
    if depth > _MAX_DEPTH or len(out) > MAX_ENTRIES:
        raise ConfigFormatError(
            f"more than {MAX_ENTRIES} entries or {_MAX_DEPTH} levels (alias expansion?)"
        )
    line = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode) and node.value:
        explicit = {k.value for k, _ in node.value if isinstance(k, yaml.ScalarNode)}
        for key_node, value_node in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":  # "<<: *base": merged keys
                sequence = isinstance(value_node, yaml.SequenceNode)
                merged = value_node.value if sequence else [value_node]
                for source in merged:
                    for k, v in getattr(source, "value", []):
                        if isinstance(k, yaml.ScalarNode) and k.value not in explicit:
                            _walk_yaml(yaml, v, (*path, str(k.value)), out, depth + 1)
                continue
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else "?"
            _walk_yaml(yaml, value_node, (*path, str(key)), out, depth + 1)
    elif isinstance(node, yaml.SequenceNode) and any(
        not isinstance(item, yaml.ScalarNode) for item in node.value
    ):
        for i, item in enumerate(node.value):
            _walk_yaml(yaml, item, (*path, i), out, depth + 1)
    elif path:
        if isinstance(node, yaml.ScalarNode):
            value = _yaml_scalar(yaml, node)
        elif isinstance(node, yaml.SequenceNode):
            value = [_yaml_scalar(yaml, item) for item in node.value]
        else:
            value = {}
        if not (_is_scalar(value) or isinstance(value, list | dict)):
            value = str(value)  # dates, timestamps, binary
        out.append(ConfigEntry(path, value, line))


def parse_yaml(text: str) -> list[ConfigEntry]:
    """Every document of a YAML stream; later documents' paths start with ``#<n>``."""
    yaml = _yaml()
    out: list[ConfigEntry] = []
    try:
        documents = list(yaml.compose_all(text, Loader=yaml.SafeLoader))
        for n, node in enumerate(documents):
            if node is not None:
                prefix: tuple[PathPart, ...] = (f"#{n + 1}",) if len(documents) > 1 else ()
                _walk_yaml(yaml, node, prefix, out)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ConfigFormatError(f"invalid YAML{where}: {problem}") from None
    return out


# -- TOML: tomllib values, lines by scanning -----------------------------------------------


def parse_toml(text: str) -> list[ConfigEntry]:
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigFormatError(f"invalid TOML: {exc}") from None
    lines = toml_key_lines(text)
    return list(flatten(document, lambda p: line_for(lines, p)))


_PARSERS = {
    "yaml": parse_yaml,
    "json": parse_json,
    "toml": parse_toml,
    "ini": parse_ini,
    "env": parse_env,
}


def parse_config(text: str, fmt: str) -> list[ConfigEntry]:
    """The entries of one configuration file's text in format ``fmt``.

    Raises:
        ConfigFormatError: the text is not valid ``fmt`` (the message says where).
    """
    entries = _PARSERS[fmt](text)
    seen: set[tuple[PathPart, ...]] = set()
    unique = []
    for entry in reversed(entries):  # a duplicate key: the last one wins, as when loaded
        if entry.path not in seen:
            seen.add(entry.path)
            unique.append(entry)
    return unique[::-1]
