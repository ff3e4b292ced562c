"""Extract the tasks of the corpus and fill in the ``equivalents`` of every query.

Why: a query has one target task, but the corpus holds exact copies of many tasks
(plan versions, ``X copy.md``, ``*-restructured.md``). A search that returns a copy found
the right thing, so every copy must count as a hit. Copies are found by comparing the
*cleaned* task text (the rules of ``../shared/corpus/README.md``: code-span backticks and
paired emphasis removed, whitespace collapsed).

The extractor below is a small self-contained line parser that follows the golden rules
(fences closed by any run of the same character, even ``\u0060\u0060\u0060plaintext``; ATX
headings outside fences; continuation lines). It exists so that the query set can be
rebuilt without planvec's own parser; ``--check-golden`` compares it with the goldens.

Usage::

    python bench/queries/build_equivalents.py            # rewrite dev.jsonl in place
    python bench/queries/build_equivalents.py --check     # only report, exit 1 on changes
    python bench/queries/build_equivalents.py --check-golden
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
DEFAULT_CORPUS = HERE.parent.parent.parent / "shared" / "corpus"
DEFAULT_QUERIES = HERE / "dev.jsonl"

_TASK = re.compile(
    r"^(?P<indent>[ \t]*)(?:[-*+]|\d{1,9}[.)])[ \t]+\[(?P<box>[ xX])\](?:[ \t]+|$)(?P<rest>.*)$"
)
_ITEM = re.compile(r"^[ \t]*(?:[-*+]|\d{1,9}[.)])(?:[ \t]+|$)")
_FENCE = re.compile(r"^[ \t]*(?P<fence>`{3,}|~{3,})")
_HEADING = re.compile(r"^ {0,3}(?P<hashes>#{1,6})(?:[ \t]+(?P<text>.*?))?[ \t]*$")
_THEMATIC = re.compile(r"^ {0,3}(?:(?:\*[ \t]*){3,}|(?:-[ \t]*){3,}|(?:_[ \t]*){3,})$")
_WS = re.compile(r"\s+")
_PAIRS = [
    re.compile(r"\*\*(?=\S)(.+?)(?<=\S)\*\*"),
    re.compile(r"__(?=\S)(.+?)(?<=\S)__"),
    re.compile(r"~~(?=\S)(.+?)(?<=\S)~~"),
    re.compile(r"(?<![\w*])\*(?=[^\s*])(.+?)(?<=[^\s*])\*(?![\w*])"),
    re.compile(r"(?<![\w])_(?=[^\s_])(.+?)(?<=[^\s_])_(?!\w)"),
]


def clean(text: str) -> str:
    """Clean a task or heading text like the golden extractor (see module docstring)."""
    text = text.replace("`", "")
    for _ in range(3):
        before = text
        for pattern in _PAIRS:
            text = pattern.sub(r"\1", text)
        if text == before:
            break
    return _WS.sub(" ", text).strip()


@dataclass(frozen=True)
class CorpusTask:
    """One checkbox task found in a corpus file."""

    plan: str
    line: int
    checked: bool
    text: str
    section: tuple[str, ...]


def _indent_width(s: str) -> int:
    return len(s.expandtabs(4))


def extract_file(path: Path, rel: str) -> Iterator[CorpusTask]:
    """Yield the tasks of one Markdown file (see module docstring for the rules)."""
    raw = path.read_bytes().decode("utf-8", "replace")
    if raw.startswith("\ufeff"):
        raw = raw[1:]
    lines = [ln[:-1] if ln.endswith("\r") else ln for ln in raw.split("\n")]
    fence: str | None = None
    headings: list[tuple[int, str]] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        fm = _FENCE.match(line)
        if fence is not None:
            if fm and fm.group("fence")[0] == fence[0] and len(fm.group("fence")) >= len(fence):
                fence = None
            i += 1
            continue
        if fm:
            fence = fm.group("fence")
            i += 1
            continue
        hm = _HEADING.match(line)
        if hm:
            level = len(hm.group("hashes"))
            headings = [h for h in headings if h[0] < level]
            headings.append((level, clean(hm.group("text") or "")))
            i += 1
            continue
        tm = _TASK.match(line)
        if tm:
            indent = _indent_width(tm.group("indent"))
            parts = [tm.group("rest")]
            j = i + 1
            while j < len(lines):
                nxt = lines[j]
                if not nxt.strip():
                    break
                stripped = nxt.lstrip()
                if (
                    _indent_width(nxt[: len(nxt) - len(stripped)]) <= indent
                    or _ITEM.match(nxt)
                    or _HEADING.match(nxt)
                    or _FENCE.match(nxt)
                    or _THEMATIC.match(nxt)
                    or stripped.startswith(("|", ">"))
                ):
                    break
                parts.append(stripped)
                j += 1
            yield CorpusTask(
                plan=rel,
                line=i + 1,
                checked=tm.group("box") != " ",
                text=clean(" ".join(parts)),
                section=tuple(h[1] for h in headings),
            )
            i = j
            continue
        i += 1


def extract_corpus(plans_dir: Path) -> list[CorpusTask]:
    """All tasks of every ``*.md`` file under ``plans_dir``, paths sorted."""
    out: list[CorpusTask] = []
    for path in sorted(plans_dir.rglob("*.md")):
        out.extend(extract_file(path, path.relative_to(plans_dir).as_posix()))
    return out


def equivalence_key(text: str) -> str:
    """The key under which two tasks count as copies: cleaned text, case-folded."""
    return clean(text).casefold()


def check_golden(corpus: Path) -> int:
    """Compare the extractor with the golden files; return the number of mismatches."""
    bad = 0
    for gold in sorted((corpus / "golden").rglob("*.jsonl")):
        rel = gold.relative_to(corpus / "golden").as_posix()[: -len(".jsonl")]
        want = [json.loads(x) for x in gold.read_text(encoding="utf-8").splitlines() if x]
        got = list(extract_file(corpus / "plans" / rel, rel))
        gmap = {t.line: t for t in got}
        for w in want:
            g = gmap.get(w["line"])
            if g is None or g.text != w["text"] or list(g.section) != w["section"]:
                bad += 1
                print(f"{rel}:{w['line']}: want {w['text']!r} got {g.text if g else None!r}")
        extra = set(gmap) - {w["line"] for w in want}
        bad += len(extra)
        for line in sorted(extra):
            print(f"{rel}:{line}: extra task {gmap[line].text!r}")
        print(f"{rel}: {len(want)} golden, {len(got)} extracted")
    return bad


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    ap.add_argument("--queries", type=Path, default=DEFAULT_QUERIES)
    ap.add_argument(
        "--check", action="store_true", help="report only; exit 1 if the file would change"
    )
    ap.add_argument(
        "--check-golden", action="store_true", help="compare the extractor with the goldens"
    )
    args = ap.parse_args(argv)
    if args.check_golden:
        return 1 if check_golden(args.corpus) else 0

    tasks = extract_corpus(args.corpus / "plans")
    by_pos = {(t.plan, t.line): t for t in tasks}
    groups: dict[str, list[CorpusTask]] = defaultdict(list)
    for t in tasks:
        groups[equivalence_key(t.text)].append(t)

    rows = [
        json.loads(x) for x in args.queries.read_text(encoding="utf-8").splitlines() if x.strip()
    ]
    problems = 0
    changed = 0
    for row in rows:
        tgt = (row["target"]["plan"], row["target"]["line"])
        task = by_pos.get(tgt)
        if task is None:
            print(f"{row['id']}: target {tgt} is not a task", file=sys.stderr)
            problems += 1
            continue
        eq = [
            {"plan": t.plan, "line": t.line}
            for t in groups[equivalence_key(task.text)]
            if (t.plan, t.line) != tgt
        ]
        if row.get("equivalents") != eq:
            changed += 1
            row["equivalents"] = eq
    print(
        f"{len(tasks)} tasks, {len(rows)} queries, {changed} equivalents lists changed, "
        f"{problems} bad targets, {len({r['target']['plan'] for r in rows})} target plans",
        file=sys.stderr,
    )
    if args.check:
        return 1 if (changed or problems) else 0
    with args.queries.open("w", encoding="utf-8") as fh:
        for row in rows:
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
