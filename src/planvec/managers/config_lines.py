"""Line-scanning parts of the configuration formats: TOML key lines, INI and ``.env``.

TOML values come from ``tomllib``; only the line of each key is found here, by scanning
table headers (``[a.b]``, ``[[a.b]]`` with their array index) and ``key = value`` lines,
skipping multi-line strings and arrays. INI values come from ``configparser`` (no
interpolation, keys' case kept, ``[DEFAULT]`` an ordinary section, keys before any section
allowed); lines by scanning. ``.env`` is parsed here: ``KEY=value``, ``export KEY=value``,
single/double quotes (double quotes may span lines and take ``\\n``/``\\"`` escapes),
``#`` comments; a malformed line is skipped with a warning.
"""

from __future__ import annotations

import configparser
import re
from dataclasses import dataclass
from typing import Any

PathPart = str | int
KeyLines = dict[tuple[PathPart, ...], int]


@dataclass(frozen=True)
class ConfigEntry:
    """One key path of a configuration file, its value (a scalar, a list of scalars,
    ``{}`` or ``[]``) and the 1-based line where it is written."""

    path: tuple[PathPart, ...]
    value: Any
    line: int


class ConfigFormatError(ValueError):
    """A configuration file is not valid in its format (the message says where)."""


def line_for(lines: KeyLines, path: tuple[PathPart, ...]) -> int:
    """The line of ``path``, else of its longest known prefix, else 1."""
    for end in range(len(path), 0, -1):
        found = lines.get(path[:end])
        if found is not None:
            return found
    return 1


# -- TOML ------------------------------------------------------------------------------------


def _split_outside_quotes(text: str, sep: str) -> list[str]:
    parts, current, quote = [], [], ""
    for char in text:
        if quote:
            current.append(char)
            if char == quote:
                quote = ""
        elif char in "\"'":
            quote = char
            current.append(char)
        elif char == sep:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    parts.append("".join(current))
    return parts


def _toml_key(text: str) -> tuple[str, ...]:
    return tuple(part.strip().strip("\"'") for part in _split_outside_quotes(text, "."))


def _bracket_delta(text: str) -> int:
    """Open minus closed ``[``/``{`` outside strings and comments."""
    depth, quote, escaped = 0, "", False
    for char in text:
        if quote:
            if escaped:
                escaped = False
            elif char == "\\" and quote == '"':
                escaped = True
            elif char == quote:
                quote = ""
        elif char in "\"'":
            quote = char
        elif char == "#":
            break
        elif char in "[{":
            depth += 1
        elif char in "]}":
            depth -= 1
    return depth


class _TomlScanner:
    def __init__(self) -> None:
        self.lines: KeyLines = {}
        self.table: tuple[PathPart, ...] = ()
        self.array_index: dict[tuple[PathPart, ...], int] = {}
        self.open_string = ""
        self.depth = 0

    def resolve(self, parts: tuple[str, ...]) -> tuple[PathPart, ...]:
        out: list[PathPart] = []
        for part in parts:
            out.append(part)
            index = self.array_index.get(tuple(out))
            if index is not None:
                out.append(index)
        return tuple(out)

    def feed(self, number: int, raw: str) -> None:
        if self.open_string:
            if raw.count(self.open_string) % 2:
                self.open_string = ""
            return
        if self.depth > 0:
            self.depth += _bracket_delta(raw)
            return
        line = raw.strip()
        if not line or line.startswith("#"):
            return
        if line.startswith("[["):
            parts = _toml_key(line[2 : line.find("]]")])
            name = (*self.resolve(parts[:-1]), parts[-1])
            index = self.array_index.get(name, -1) + 1
            self.array_index[name] = index
            self.table = (*name, index)
            self.lines[self.table] = number
        elif line.startswith("["):
            self.table = self.resolve(_toml_key(line[1 : line.find("]")]))
            self.lines.setdefault(self.table, number)
        else:
            pieces = _split_outside_quotes(line, "=")
            if len(pieces) < 2:
                return
            self.lines[(*self.table, *_toml_key(pieces[0]))] = number
            value = "=".join(pieces[1:]).strip()
            for delim in ('"""', "'''"):
                if value.startswith(delim) and value.count(delim) == 1:
                    self.open_string = delim
                    return
            self.depth = max(0, _bracket_delta(value))


def toml_key_lines(text: str) -> KeyLines:
    """The line of every table header and key of a (valid) TOML text."""
    scanner = _TomlScanner()
    for number, raw in enumerate(text.splitlines(), 1):
        scanner.feed(number, raw)
    return scanner.lines


# -- INI ---------------------------------------------------------------------------------------

_TOP = "\x00top"
_INI_SECTION = re.compile(r"^\s*\[([^\]]+)\]")


def _ini_lines(text: str) -> KeyLines:
    lines: KeyLines = {}
    section = _TOP
    for number, raw in enumerate(text.splitlines(), 1):
        stripped = raw.strip()
        if not stripped or stripped[0] in "#;" or raw[0] in " \t":
            continue
        header = _INI_SECTION.match(raw)
        if header:
            section = header.group(1).strip()
            lines.setdefault((section,), number)
            continue
        key = re.split(r"[=:]", raw, maxsplit=1)[0].strip()
        lines[(key,) if section == _TOP else (section, key)] = number
    return lines


def parse_ini(text: str) -> list[ConfigEntry]:
    """Entries of an INI file (``setup.cfg``, ``tox.ini``, ``*.ini``)."""
    parser = configparser.ConfigParser(
        interpolation=None, strict=False, allow_no_value=True, default_section="\x00none"
    )
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    try:
        try:
            parser.read_string(text)
        except configparser.MissingSectionHeaderError:
            parser.read_string(f"[{_TOP}]\n{text}")
    except configparser.Error as exc:
        message = str(exc).splitlines()[0]
        raise ConfigFormatError(f"invalid INI: {message}") from None
    lines = _ini_lines(text)
    out = []
    for section in parser.sections():
        for key, value in parser.items(section, raw=True):
            path: tuple[PathPart, ...] = (key,) if section == _TOP else (section, key)
            out.append(ConfigEntry(path, value, line_for(lines, path)))
    return out


# -- .env ----------------------------------------------------------------------------------------

_ENV_LINE = re.compile(r"^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_.-]*)\s*=\s*(.*)$")
_ESCAPES = {"n": "\n", "t": "\t", '"': '"', "\\": "\\", "$": "$"}


def _double_quoted(body: str) -> tuple[str, bool]:
    """The unescaped content of a double-quoted value and whether it was closed."""
    out, i = [], 0
    while i < len(body):
        char = body[i]
        if char == "\\" and i + 1 < len(body):
            out.append(_ESCAPES.get(body[i + 1], "\\" + body[i + 1]))
            i += 2
            continue
        if char == '"':
            return "".join(out), True
        out.append(char)
        i += 1
    return "".join(out), False


def parse_env(text: str) -> list[ConfigEntry]:
    """Entries of a ``.env`` file; malformed lines are skipped (see ``env_warnings``)."""
    return _parse_env(text)[0]


def env_warnings(text: str) -> list[tuple[int, str]]:
    """(line, message) of every line of a ``.env`` file that is not ``KEY=value``."""
    return _parse_env(text)[1]


def _parse_env(text: str) -> tuple[list[ConfigEntry], list[tuple[int, str]]]:
    lines = text.splitlines()
    out: list[ConfigEntry] = []
    warnings: list[tuple[int, str]] = []
    i = 0
    while i < len(lines):
        number, raw = i + 1, lines[i]
        i += 1
        if not raw.strip() or raw.lstrip().startswith("#"):
            continue
        match = _ENV_LINE.match(raw)
        if not match:
            warnings.append((number, "not a KEY=value line; skipped"))
            continue
        key, rest = match.group(1), match.group(2)
        if rest.startswith('"'):
            body = rest[1:]
            value, closed = _double_quoted(body)
            while not closed and i < len(lines):
                body += "\n" + lines[i]
                i += 1
                value, closed = _double_quoted(body)
            if not closed:
                warnings.append((number, "unterminated double quote; value taken to the end"))
        elif rest.startswith("'"):
            body = rest[1:]
            while "'" not in body and i < len(lines):
                body += "\n" + lines[i]
                i += 1
            value = body.split("'", 1)[0]
        else:
            value = re.split(r"\s+#", rest, maxsplit=1)[0].strip()
        out.append(ConfigEntry((key,), value, number))
    return out, warnings
