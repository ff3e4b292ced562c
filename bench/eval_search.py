"""Measure search quality on the query set: recall@1/5/10 and MRR@10.

Why: dense search alone and BM25 alone each find the right task for only part of the
realistic queries (French paraphrases, English translations, questions, keywords), and they
find different ones. This script scores any search configuration on ``bench/queries/dev.jsonl``
so that analyzers, fusion weights and models can be compared on the same ground.

A search function is ``search(query: str, limit: int) -> list[tuple[str, int]]`` returning
(plan path relative to the corpus ``plans/`` folder, 1-based task line), best first. A hit is
the query's target or any of its ``equivalents`` (exact copies across plan versions).

Backends:

* ``planvec`` (default): planvec's public API, ``planvec.index.open_index(...)`` then
  ``.search(query, limit=..., mode=...)`` whose hits have ``.plan`` and ``.line``;
* ``bm25-python``: a pure-Python BM25 over the corpus tasks with planvec's lexical encoder
  (same term weights and the same IDF formula as Qdrant's ``Idf`` modifier), to measure the
  analyzer alone; ``--analyzer naive`` uses lowercase ``\\w+`` tokens instead.

Examples::

    python bench/eval_search.py --backend bm25-python
    python bench/eval_search.py --backend bm25-python --analyzer naive --split dev
    planvec index ../shared/corpus/plans --index-dir /tmp/corpus-index
    python bench/eval_search.py --index-dir /tmp/corpus-index --mode hybrid --json out.json
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import math
import re
import sys
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
DEFAULT_QUERIES = HERE / "queries" / "dev.jsonl"
DEFAULT_PLANS = HERE.parent.parent / "shared" / "corpus" / "plans"
CUTOFFS = (1, 5, 10)

SearchFn = Callable[[str, int], Sequence[tuple[str, int]]]


@dataclass(frozen=True)
class Query:
    """One benchmark query and the (plan, line) pairs that count as a hit."""

    id: str
    query: str
    lang: str
    kind: str
    split: str
    target: tuple[str, int]
    hits: frozenset[tuple[str, int]]
    note: str = ""


def load_queries(path: Path = DEFAULT_QUERIES, split: str | None = None) -> list[Query]:
    """Read the JSONL query set.

    Args:
        path: the ``dev.jsonl`` file.
        split: keep only ``"dev"`` or ``"test"`` queries (``None``: all).

    Returns:
        The queries in file order.
    """
    out: list[Query] = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        row = json.loads(line)
        if split and row.get("split", "dev") != split:
            continue
        target = (row["target"]["plan"], int(row["target"]["line"]))
        hits = {target} | {(e["plan"], int(e["line"])) for e in row.get("equivalents", [])}
        out.append(
            Query(
                id=row["id"],
                query=row["query"],
                lang=row["lang"],
                kind=row["kind"],
                split=row.get("split", "dev"),
                target=target,
                hits=frozenset(hits),
                note=row.get("note", ""),
            )
        )
    return out


@dataclass
class QueryResult:
    """Where the first hit of one query landed (``rank`` is 1-based, ``None`` = missed)."""

    query: Query
    rank: int | None
    top: list[tuple[str, int]] = field(default_factory=list)


def evaluate(queries: Iterable[Query], search: SearchFn, limit: int = 10) -> list[QueryResult]:
    """Run every query through ``search`` and record the rank of its first hit.

    Args:
        queries: the benchmark queries.
        search: the search function under test.
        limit: how many results to ask for (metrics use at most the top 10).

    Returns:
        One result per query.
    """
    results: list[QueryResult] = []
    for q in queries:
        top = [(str(p), int(n)) for p, n in search(q.query, limit)][:limit]
        rank = next((i + 1 for i, hit in enumerate(top) if hit in q.hits), None)
        results.append(QueryResult(q, rank, top))
    return results


def metrics(results: Sequence[QueryResult]) -> dict[str, float]:
    """recall@1/5/10 and MRR@10 of a group of results (``n`` = its size)."""
    n = len(results)
    out: dict[str, float] = {"n": float(n)}
    for k in CUTOFFS:
        out[f"recall@{k}"] = sum(1 for r in results if r.rank and r.rank <= k) / n if n else 0.0
    out["mrr@10"] = sum(1.0 / r.rank for r in results if r.rank and r.rank <= 10) / n if n else 0.0
    return out


def summarize(results: Sequence[QueryResult]) -> dict[str, dict[str, float]]:
    """Metrics overall and per split, language and kind (keys ``all``, ``split=dev``...)."""
    groups: dict[str, list[QueryResult]] = defaultdict(list)
    for r in results:
        groups["all"].append(r)
        groups[f"split={r.query.split}"].append(r)
        groups[f"lang={r.query.lang}"].append(r)
        groups[f"kind={r.query.kind}"].append(r)
    return {
        name: metrics(rs)
        for name, rs in sorted(groups.items(), key=lambda kv: (kv[0] != "all", kv[0]))
    }


def markdown_table(summary: dict[str, dict[str, float]], title: str = "") -> str:
    """The summary as a Markdown table."""
    lines = [f"**{title}**", ""] if title else []
    lines.append("| group | n | R@1 | R@5 | R@10 | MRR@10 |")
    lines.append("|---|---:|---:|---:|---:|---:|")
    for name, m in summary.items():
        lines.append(
            f"| {name} | {int(m['n'])} | {m['recall@1']:.3f} | {m['recall@5']:.3f} | "
            f"{m['recall@10']:.3f} | {m['mrr@10']:.3f} |"
        )
    return "\n".join(lines)


# --------------------------------------------------------------------------- backends


def planvec_search(mode: str = "hybrid", **settings_flags: Any) -> SearchFn:
    """Adapter over planvec's public API: ``open_index(settings).search(query, ...)``.

    The index must already hold the corpus, indexed from the ``plans/`` folder so that hit
    paths are relative to it (``planvec index ../shared/corpus/plans --index-dir DIR``).

    Args:
        mode: ``"dense"``, ``"sparse"`` or ``"hybrid"``.
        **settings_flags: passed to ``planvec.settings.load_settings`` (``index_dir``,
            ``qdrant_url``, ``collection``, ``embedder``...); ``None`` values are ignored.

    Returns:
        A search function returning (plan, line) pairs.
    """
    from planvec.index import open_index
    from planvec.settings import load_settings

    index = open_index(load_settings(**settings_flags))

    def search(query: str, limit: int) -> list[tuple[str, int]]:
        return [(hit.plan, hit.line) for hit in index.search(query, limit=limit, mode=mode)]

    return search


@dataclass(frozen=True)
class CorpusTask:
    """The few task fields the Python BM25 backend needs."""

    plan: str
    line: int
    text: str
    section: tuple[str, ...]


def load_tasks(plans_dir: Path) -> tuple[list[CorpusTask], str]:
    """The corpus tasks, with planvec's parser when present, else the bench extractor.

    Returns:
        The tasks and the name of the parser used.
    """
    try:
        from planvec.sources.files import parse_paths
    except ImportError:  # the parser is optional here: fall back to the bench extractor
        pass
    else:
        try:
            tasks: list[CorpusTask] = []
            plans, _failures = parse_paths([plans_dir])
            for plan in plans:
                for t in plan.tasks:
                    tasks.append(CorpusTask(t.plan, t.line, t.text, tuple(t.section)))
            if tasks:
                return tasks, "planvec.sources.files.parse_paths"
        except Exception as exc:  # the bench falls back, and says so
            print(f"parse_paths failed ({exc!r}); using the bench extractor", file=sys.stderr)
    spec = importlib.util.spec_from_file_location(
        "build_equivalents", HERE / "queries" / "build_equivalents.py"
    )
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    sys.modules["build_equivalents"] = mod
    spec.loader.exec_module(mod)
    extracted = mod.extract_corpus(plans_dir)
    return [CorpusTask(t.plan, t.line, t.text, t.section) for t in extracted], "bench extractor"


_NAIVE = re.compile(r"\w+")


def make_encoder(analyzer: str, **kwargs: Any) -> Any:
    """A ``LexicalEncoder`` with the named analyzer (``naive`` or a stemming mode)."""
    from planvec.text.lexical import Analyzer, LexicalEncoder

    class NaiveAnalyzer(Analyzer):
        """Lowercase ``\\w+`` tokens: no folding, elision, stop words or stemming."""

        def analyze_weighted(self, text: str) -> list[tuple[str, float]]:
            return [(tok, 1.0) for tok in _NAIVE.findall(text.lower())]

    if analyzer == "naive":
        return LexicalEncoder(NaiveAnalyzer(stemming="none"), **kwargs)
    return LexicalEncoder(Analyzer(stemming=analyzer), **kwargs)  # type: ignore[arg-type]


def bm25_python_search(
    tasks: Sequence[CorpusTask], encoder: Any, use_section: bool = True
) -> SearchFn:
    """Pure-Python BM25 over ``tasks``, scoring exactly as Qdrant's ``Idf`` modifier would.

    Document vectors come from ``encoder.encode_document``; a query scores
    ``sum(idf(i) * doc_value(i))`` over its unique indices with
    ``idf = ln((N - df + 0.5) / (df + 0.5) + 1)``.
    """
    postings: dict[int, list[tuple[int, float]]] = defaultdict(list)
    for doc, t in enumerate(tasks):
        vec = encoder.encode_document(t.text, t.section if use_section else ())
        for i, v in zip(vec.indices, vec.values, strict=True):
            postings[i].append((doc, v))
    n_docs = len(tasks)
    idf = {i: math.log((n_docs - len(p) + 0.5) / (len(p) + 0.5) + 1.0) for i, p in postings.items()}

    def search(query: str, limit: int) -> list[tuple[str, int]]:
        scores: dict[int, float] = defaultdict(float)
        qv = encoder.encode_query(query)
        for i, qval in zip(qv.indices, qv.values, strict=True):
            for doc, v in postings.get(i, ()):
                scores[doc] += qval * idf[i] * v
        best = sorted(scores.items(), key=lambda kv: (-kv[1], kv[0]))[:limit]
        return [(tasks[d].plan, tasks[d].line) for d, _ in best]

    return search


# --------------------------------------------------------------------------- CLI


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point (see the module docstring for examples)."""
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--queries", type=Path, default=DEFAULT_QUERIES)
    ap.add_argument("--split", choices=["dev", "test"], default=None, help="only this split")
    ap.add_argument("--backend", choices=["planvec", "bm25-python"], default="planvec")
    ap.add_argument(
        "--mode", choices=["dense", "sparse", "hybrid"], default="hybrid", help="planvec backend"
    )
    ap.add_argument("--index-dir", type=Path, default=None, help="planvec backend: index dir")
    ap.add_argument("--qdrant-url", default=None, help="planvec backend: Qdrant server URL")
    ap.add_argument("--collection", default=None, help="planvec backend: collection name")
    ap.add_argument("--embedder", default=None, help="planvec backend: embedder name")
    ap.add_argument("--plans", type=Path, default=DEFAULT_PLANS, help="corpus plans/ (bm25-python)")
    ap.add_argument(
        "--analyzer", default="both", help="naive | both | fr | en | detect | none (bm25-python)"
    )
    ap.add_argument("--k1", type=float, default=None)
    ap.add_argument("--b", type=float, default=None)
    ap.add_argument("--section-weight", type=float, default=None)
    ap.add_argument("--no-section", action="store_true", help="bm25-python: ignore section paths")
    ap.add_argument(
        "--misses", action="store_true", help="print the queries not found in the top 10"
    )
    ap.add_argument("--json", type=Path, default=None, help="also write the results as JSON here")
    args = ap.parse_args(argv)

    queries = load_queries(args.queries, args.split)
    started = time.perf_counter()
    if args.backend == "planvec":
        search = planvec_search(
            args.mode,
            index_dir=args.index_dir,
            qdrant_url=args.qdrant_url,
            collection=args.collection,
            embedder=args.embedder,
        )
        label = f"planvec {args.mode}"
    else:
        tasks, parser = load_tasks(args.plans)
        kwargs = {
            k: v
            for k, v in (("k1", args.k1), ("b", args.b), ("section_weight", args.section_weight))
            if v is not None
        }
        encoder = make_encoder(args.analyzer, **kwargs)
        search = bm25_python_search(tasks, encoder, use_section=not args.no_section)
        label = f"bm25-python {encoder.version} ({len(tasks)} tasks, {parser})"
    built = time.perf_counter() - started
    results = evaluate(queries, search)
    elapsed = time.perf_counter() - started - built
    summary = summarize(results)
    print(markdown_table(summary, label))
    print(f"\nsetup {built:.1f} s, {len(queries)} queries in {elapsed:.2f} s", file=sys.stderr)
    if args.misses:
        for r in results:
            if r.rank is None:
                print(f"MISS {r.query.id} [{r.query.kind}] {r.query.query!r} -> {r.query.target}")
    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    "label": label,
                    "summary": summary,
                    "queries": [{"id": r.query.id, "rank": r.rank, "top": r.top} for r in results],
                },
                ensure_ascii=False,
                indent=1,
            ),
            encoding="utf-8",
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
