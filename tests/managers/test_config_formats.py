"""Configuration formats -> entries with real line numbers (planvec.managers.config_formats)."""

from __future__ import annotations

import pytest

from planvec.managers.config_formats import ConfigFormatError, parse_config


def _by_path(text: str, fmt: str) -> dict[tuple[str | int, ...], tuple[object, int]]:
    return {e.path: (e.value, e.line) for e in parse_config(text, fmt)}


def test_yaml_lines_types_merge_keys_and_documents() -> None:
    text = (
        "base: &b\n"
        "  host: db\n"
        "  port: 5432\n"
        "prod:\n"
        "  <<: *b\n"
        "  port: 6543\n"
        "  tags: [a, b]\n"
        "  servers:\n"
        "    - name: x\n"
        "    - name: y\n"
        "  empty: {}\n"
        "  flag: yes\n"
        "---\n"
        "kind: Secret\n"
    )
    got = _by_path(text, "yaml")
    assert got[("#1", "prod", "port")] == (6543, 6)
    assert got[("#1", "prod", "host")] == ("db", 2)  # merged: the line where it is written
    assert got[("#1", "prod", "tags")] == (["a", "b"], 7)
    assert got[("#1", "prod", "servers", 1, "name")] == ("y", 10)
    assert got[("#1", "prod", "empty")] == ({}, 11)
    assert got[("#1", "prod", "flag")] == (True, 12)
    assert got[("#2", "kind")] == ("Secret", 14)


def test_json_lines_follow_the_text() -> None:
    text = (
        '{\n  "a": {"b": 1,\n     "c": [1, 2]},\n  "list": [\n'
        '    {"x": "y"},\n    {"x": null}\n  ],\n  "e": {}\n}\n'
    )
    got = _by_path(text, "json")
    assert got[("a", "b")] == (1, 2)
    assert got[("a", "c")] == ([1, 2], 3)
    assert got[("list", 0, "x")] == ("y", 5)
    assert got[("list", 1, "x")] == (None, 6)
    assert got[("e",)] == ({}, 8)


def test_toml_lines_tables_arrays_of_tables_and_multiline_values() -> None:
    text = (
        'title = "x"\n'
        "[db]\n"
        'host = "h"\n'
        'desc = """\n'
        "a = b\n"
        '"""\n'
        "ports = [\n"
        "  1,\n"
        "]\n"
        "inline = {a = 1}\n"
        "[[servers]]\n"
        'name = "a"\n'
        "[[servers]]\n"
        'name = "b"\n'
        "[servers.meta]\n"
        "k = 1\n"
    )
    got = _by_path(text, "toml")
    assert got[("title",)] == ("x", 1)
    assert got[("db", "desc")] == ("a = b\n", 4)
    assert got[("db", "ports")] == ([1], 7)
    assert got[("db", "inline", "a")] == (1, 10)
    assert got[("servers", 0, "name")] == ("a", 12)
    assert got[("servers", 1, "name")] == ("b", 14)
    assert got[("servers", 1, "meta", "k")] == (1, 16)


def test_ini_keys_before_sections_default_and_continuations() -> None:
    text = "root = true\n[metadata]\nName = x\ndescription = multi\n   line\n[DEFAULT]\nk = v\n"
    got = _by_path(text, "ini")
    assert got[("root",)] == ("true", 1)
    assert got[("metadata", "Name")] == ("x", 3)  # case kept
    assert got[("metadata", "description")] == ("multi\nline", 4)
    assert got[("DEFAULT", "k")] == ("v", 7)  # an ordinary section: not copied everywhere
    assert ("metadata", "k") not in got


def test_env_quotes_exports_comments_and_bad_lines() -> None:
    text = (
        "# c\nexport A=1\nB=\"x\\ny\"\nC='lit # x'\nD=val # comment\nbad line\n"
        'E="multi\nline"\nA=2\n'
    )
    got = _by_path(text, "env")
    assert got[("A",)] == ("2", 9)  # the last assignment wins, as when loaded
    assert got[("B",)] == ("x\ny", 3)
    assert got[("C",)] == ("lit # x", 4)
    assert got[("D",)] == ("val", 5)
    assert got[("E",)] == ("multi\nline", 7)


@pytest.mark.parametrize(
    ("text", "fmt", "where"),
    [
        ('{"a": 1,,}', "json", "line 1"),
        ("a: [1, 2\nb: 3\n", "yaml", "line"),
        ("a = \n", "toml", "TOML"),
    ],
)
def test_invalid_files_say_where(text: str, fmt: str, where: str) -> None:
    with pytest.raises(ConfigFormatError, match=where):
        parse_config(text, fmt)


def test_alias_bombs_are_cut() -> None:
    bomb = "a: &a [x, x, x, x, x, x, x, x, x]\n"
    for i, prev in zip("bcdefg", "abcdef", strict=True):
        bomb += f"{i}: &{i} [" + ", ".join([f"*{prev}"] * 9) + "]\n"
    with pytest.raises(ConfigFormatError, match="entries"):
        parse_config(bomb, "yaml")


def test_json_with_comments_and_trailing_commas_keeps_its_lines() -> None:
    text = (
        "{\n"
        "  // compiler options\n"
        '  "compilerOptions": {\n'
        '    "target": "es2022", /* modern */\n'
        '    "paths": {"@/*": ["src/*"]},\n'
        '    "url": "http://example.com//not-a-comment",\n'
        "  },\n"
        '  "include": ["src", "tests",],\n'
        "}\n"
    )
    got = _by_path(text, "json")
    assert got[("compilerOptions", "target")] == ("es2022", 4)
    assert got[("compilerOptions", "paths", "@/*")] == (["src/*"], 5)
    assert got[("compilerOptions", "url")] == ("http://example.com//not-a-comment", 6)
    assert got[("include",)] == (["src", "tests"], 8)
