"""Bad input at scale: thousands of generated plans and damaged archives.

* The parser (decode + parse) gets arbitrary bytes, token soups and mutated real plans: it
  never raises (a binary file is a clear ``SourceError``) and never hangs.
* The archive importer gets truncated, bit-flipped, spliced and re-packed archives: it either
  restores the exact original points or refuses with ``ArchiveError`` having written nothing.

Each input runs under a per-input wall-clock bound (``bounded``): a hang fails the test with
the input, a slow machine does not (the bound is generous). ``make test`` runs a few hundred
inputs; ``--reliability-full`` runs thousands.
"""

from __future__ import annotations

import io
import signal
import tarfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from planvec.backup.transfer import export_collection, import_archive
from planvec.errors import ArchiveError, SourceError
from planvec.index import sources_for
from planvec.sources.files import decode
from planvec.sources.markdown_plans import parse_plan
from planvec.store import open_store

from .conftest import CORPUS, REPO, Figures, full_run
from .helpers import make_index, snapshot

pytestmark = pytest.mark.reliability

PER_INPUT_SECONDS = 10.0
T = TypeVar("T")


class Hang(Exception):
    pass


@contextmanager
def bounded(seconds: float = PER_INPUT_SECONDS) -> Iterator[None]:
    """Fail with ``Hang`` when the body runs longer than ``seconds`` (SIGALRM, main thread)."""

    def alarm(signum: int, frame: Any) -> None:
        raise Hang(f"input took more than {seconds}s")

    previous = signal.signal(signal.SIGALRM, alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _examples(request: pytest.FixtureRequest, short: int, full: int) -> int:
    return full if full_run(request) else short


def _run_many(count: int, strategy: st.SearchStrategy[T], check: Callable[[T], None]) -> int:
    """Run ``check`` on up to ``count`` generated inputs; returns how many really ran."""
    ran = 0

    @settings(
        max_examples=count,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
    )
    @given(strategy)
    def run(value: T) -> None:
        nonlocal ran
        ran += 1
        with bounded():
            check(value)

    run()
    return ran


# -- parser -----------------------------------------------------------------------------------

TOKENS = [
    "- ", "* ", "+ ", "1. ", "2) ", "[ ] ", "[x] ", "[X] ", "[/] ", "[-] ", "```", "~~~",
    "```plaintext", "# ", "## ", "####### ", "> ", "<!--", "-->", "<div>", "</div>", "\n",
    "\r\n", "\r", "  ", "    ", "\t", "|", "**", "`", "~~", "\ufeff", "\x00", "\x1b", "word ",
    "1.2.3 ", "P0 ", "⏱ 1h30m", "📅 2026-01-31", "#tag", "(2h)", "é", "\u00a0", "\u202e",
    "---", "<details>", "$$", "\\", "[lien](http://x)", "\ud7ff", "\U0010ffff",
]  # fmt: skip


def _real_plans() -> list[bytes]:
    if CORPUS.is_dir():
        files = sorted(CORPUS.rglob("*.md"))[::25][:12]
    else:
        files = sorted((REPO / "examples" / "plans").rglob("*.md"))
    return [f.read_bytes()[:60_000] for f in files]


@st.composite
def mutated_plan(draw: st.DrawFn, plans: list[bytes]) -> bytes:
    """A real plan with a few random edits: cuts, duplications, insertions, byte flips."""
    data = bytearray(draw(st.sampled_from(plans)))
    for _ in range(draw(st.integers(1, 6))):
        if not data:
            break
        at = draw(st.integers(0, len(data) - 1))
        kind = draw(st.sampled_from(["cut", "dup", "insert", "flip", "token"]))
        if kind == "cut":
            del data[at : at + draw(st.integers(1, 4000))]
        elif kind == "dup":
            data[at:at] = data[at : at + draw(st.integers(1, 4000))]
        elif kind == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=64))
        elif kind == "flip":
            data[at] ^= 1 << draw(st.integers(0, 7))
        else:
            data[at:at] = draw(st.sampled_from(TOKENS)).encode("utf-8", "surrogatepass")
    return bytes(data)


def _check_bytes(data: bytes) -> None:
    try:
        text, _ = decode(data, "fuzz.md")
    except SourceError as exc:
        assert "binary" in exc.reason  # the one clear refusal
        return
    _check_text(text)


def _check_text(text: str) -> None:
    plan = parse_plan(text, "fuzz.md")
    lines = [t.line for t in plan.tasks]
    assert lines == sorted(set(lines))
    assert len({t.id for t in plan.tasks}) == len(plan.tasks)
    known = set(lines)
    assert all(t.parent_line is None or t.parent_line in known for t in plan.tasks)


def test_parser_survives_thousands_of_inputs(
    request: pytest.FixtureRequest, figures: Figures
) -> None:
    plans = _real_plans()
    per_kind = _examples(request, short=150, full=2000)
    soups = st.lists(st.sampled_from(TOKENS), max_size=200).map("".join)
    ran = _run_many(per_kind, st.text(max_size=3000), _check_text)
    ran += _run_many(per_kind, soups, _check_text)
    ran += _run_many(per_kind, st.binary(max_size=5000), _check_bytes)
    ran += _run_many(per_kind, mutated_plan(plans), _check_bytes)
    figures.add("fuzz", "parser_inputs", ran)
    assert ran >= 3 * per_kind


def test_pathological_plans_finish(figures: Figures) -> None:
    """Shapes that make naive parsers quadratic: deep nesting, endless fences, long lines."""
    cases = [
        "".join("  " * i + f"- [ ] t{i}\n" for i in range(2000)),  # 2000 levels deep
        "```\n" * 20_000,  # fences opening and closing
        "- [ ] " + "x" * 2_000_000 + "\n",  # one 2 MB task
        ("> " * 500 + "- [ ] quoted\n") * 200,  # deep block quotes
        "<!--\n" + "- [ ] hidden\n" * 50_000,  # a comment that never closes
        "- [ ] a\n" + "  \n" * 100_000 + "  - [ ] b\n",  # a child after 100k blank lines
        "\r" * 200_000 + "- [ ] cr\n",
        "[" * 100_000 + "- [ ] brackets\n",
    ]
    for text in cases:
        with bounded(30):
            _check_text(text)
    figures.add("fuzz", "parser_inputs", len(cases))


# -- archive importer --------------------------------------------------------------------------

ROADMAP = """\
# Roadmap

## Phase 1 : Fondations

- [ ] **1.1** Mettre en place la sauvegarde de la base de données
  - [x] **1.1.1** Écrire le script de dump PostgreSQL
- [ ] **1.2** Configurer l'intégration continue (P1, 2d)

## Phase 2 : API

- [ ] **2.1** Write the API documentation #docs
- [x] Review security policies
"""


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> tuple[bytes, dict[str, Any]]:
    """A real archive (bytes) of a small index, and that index's points."""
    root = tmp_path_factory.mktemp("archive")
    plans = root / "plans"
    plans.mkdir()
    (plans / "roadmap.md").write_text(ROADMAP, encoding="utf-8")
    store = open_store(index_dir=root / "idx", qdrant_url="memory://")
    try:
        make_index(store).sync(sources_for([plans]))
        out = root / "good.planvec.tar"
        export_collection(store, "planvec_tasks", out)
        return out.read_bytes(), snapshot(store)
    finally:
        store.close()


def _members(data: bytes) -> list[tuple[tarfile.TarInfo, bytes]]:
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        return [(m, tar.extractfile(m).read()) for m in tar.getmembers() if m.isreg()]  # type: ignore[union-attr]


def _pack(members: list[tuple[tarfile.TarInfo, bytes]]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for info, data in members:
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


@st.composite
def damaged(draw: st.DrawFn, good: bytes) -> bytes:
    """The good archive, damaged at the byte level or member by member."""
    kind = draw(st.sampled_from(["truncate", "flip", "splice", "member", "drop", "dup"]))
    data = bytearray(good)
    if kind == "truncate":
        return bytes(data[: draw(st.integers(0, len(data) - 1))])
    if kind == "flip":
        for _ in range(draw(st.integers(1, 8))):
            at = draw(st.integers(0, len(data) - 1))
            data[at] ^= 1 << draw(st.integers(0, 7))
        return bytes(data)
    if kind == "splice":
        at = draw(st.integers(0, len(data)))
        data[at:at] = draw(st.binary(min_size=1, max_size=2048))
        return bytes(data)
    members = _members(good)
    pick = draw(st.integers(0, len(members) - 1))
    if kind == "drop":
        del members[pick]
    elif kind == "dup":
        members.insert(draw(st.integers(0, len(members))), members[pick])
    else:  # a member's content replaced, cut or grown (checksums not updated)
        info, body = members[pick]
        change = draw(st.sampled_from(["garbage", "cut", "grow", "empty"]))
        if change == "garbage":
            body = draw(st.binary(min_size=1, max_size=4096))
        elif change == "cut":
            body = body[: draw(st.integers(0, max(0, len(body) - 1)))]
        elif change == "grow":
            body = body + draw(st.binary(min_size=1, max_size=512))
        else:
            body = b""
        members[pick] = (info, body)
    return _pack(members)


def test_importer_refuses_damaged_archives_cleanly(
    archive: tuple[bytes, dict[str, Any]],
    tmp_path: Path,
    request: pytest.FixtureRequest,
    figures: Figures,
) -> None:
    good, points = archive
    store = open_store(index_dir=tmp_path / "target", qdrant_url="memory://")
    outcomes = {"refused": 0, "restored": 0}
    path = tmp_path / "fuzzed.planvec.tar"

    def check(data: bytes) -> None:
        path.write_bytes(data)
        try:
            report = import_archive(store, path, collection="target")
        except ArchiveError as exc:
            assert str(exc).strip() and "Traceback" not in str(exc)
            assert store.list_collections() == [], "a refused archive left a partial write"
            outcomes["refused"] += 1
            return
        # damage that does not matter (tar padding, an unused header byte): exact restore
        assert report.ok, report.to_dict()
        assert snapshot(store, "target") == points
        store.drop_collection("target")
        outcomes["restored"] += 1

    wanted = _examples(request, short=200, full=2500)
    try:
        ran = _run_many(wanted, damaged(good), check)
    finally:
        store.close()
    total = outcomes["refused"] + outcomes["restored"]
    figures.add("fuzz", "archive_inputs", total)
    figures.add("fuzz", "archives_refused", outcomes["refused"])
    figures.add("fuzz", "archives_restored_exactly", outcomes["restored"])
    assert total == ran >= wanted // 2
    assert outcomes["refused"] > total // 2
