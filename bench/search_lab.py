"""Search-quality lab: compare embedded-text, lexical and fusion variants in seconds.

Why: rebuilding a Qdrant index per variant costs minutes; this lab embeds the corpus task
texts once per *embedded-text variant* (ONNX all-MiniLM-L6-v2 through planvec's
``CachedEmbedder``, with a cache file under /tmp so repeated texts are never re-embedded),
then runs brute-force cosine in numpy, the pure-Python BM25 of ``bench/eval_search.py``
(planvec's ``LexicalEncoder``, Qdrant's IDF formula) and fuses the two rankings in Python
exactly as Qdrant does (weighted RRF: ``1 / ((rank0 + 1) / w + k - 1)`` over each side's
top ``prefetch`` hits). Metrics are those of ``bench/eval_search.py`` (recall@1/5/10, MRR@10).

Nothing here is derived from the query set: variants are generic text transforms.

Examples::

    python bench/search_lab.py --split dev                       # the default grid
    python bench/search_lab.py --split test --dense product --lexical product
    python bench/search_lab.py --dense bare,strip,section --fusion 1:1:60,1:2:60
"""

from __future__ import annotations

import argparse
import importlib.util
import math
import os
import re
import sys
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
spec = importlib.util.spec_from_file_location("eval_search", HERE / "eval_search.py")
assert spec and spec.loader
es = importlib.util.module_from_spec(spec)
sys.modules["eval_search"] = es
spec.loader.exec_module(es)

CACHE = Path(os.environ.get("SEARCH_LAB_CACHE", "/tmp/search_lab_emb.sqlite"))
MATRIX_DIR = Path(os.environ.get("SEARCH_LAB_MATRICES", "/tmp/search_lab_mat"))

Ranking = list[tuple[int, float]]  # (task index, score), best first

# --------------------------------------------------------------------------- text variants

_NUM_LABEL = re.compile(
    r"^\s*(?:(?:micro|sous|nano)[- ]?)?(?:[ée]tape|t[âa]che|task|step|phase|action)\s*"
    r"\d+(?:\.\d+)*\s*[:.\-–—]?\s*",
    re.I,
)
_NUM_PREFIX = re.compile(r"^\s*\d+(?:\.\d+)+\.?\s*[:.\-–—]?\s*|^\s*\d+[.)]\s+")
_MARKUP = re.compile(r"\*\*|__|`")


def strip_text(text: str) -> str:
    """Drop numbering prefixes and Markdown markers (the product's recipe, if it wins)."""
    from planvec.text.clean import clean_task_text

    return clean_task_text(text)


def _last_heading(task: Any) -> str:
    return strip_text(task.section[-1]) if task.section else ""


def make_text_variants() -> dict[str, Callable[[Any], str]]:
    """Named task -> embedded text transforms."""
    from planvec.text.glossary import default_glossary

    gl = default_glossary()

    def sec(task: Any) -> str:
        head = _last_heading(task)
        body = strip_text(task.text)
        return f"{head} > {body}" if head else body

    def trans(task: Any) -> str:
        return gl.to_english(strip_text(task.text))

    def orig_trans(task: Any) -> str:
        body = strip_text(task.text)
        en = gl.to_english(body)
        return body if en == body else f"{body} ({en})"

    def sec_trans(task: Any) -> str:
        head = _last_heading(task)
        body = gl.to_english(strip_text(task.text))
        return f"{gl.to_english(head)} > {body}" if head else body

    def product(task: Any) -> str:
        from planvec.embedding_recipe import embedding_text

        return embedding_text(task)

    return {
        "bare": lambda t: t.text,
        "strip": lambda t: strip_text(t.text),
        "section": sec,
        "trans": trans,
        "bilingual": orig_trans,
        "section_trans": sec_trans,
        "product": product,
    }


def make_query_variants() -> dict[str, Callable[[str], str]]:
    """Named query -> embedded query transforms."""
    from planvec.text.glossary import default_glossary

    gl = default_glossary()
    return {"raw": lambda q: q, "trans": gl.to_english}


# --------------------------------------------------------------------------- dense side


class DenseLab:
    """Embeds texts through planvec's cached ONNX embedder; keeps one matrix per variant."""

    def __init__(self) -> None:
        from planvec.embed.cache import CachedEmbedder, EmbeddingCache
        from planvec.embed.factory import make_embedder
        from planvec.records import content_hash

        inner = make_embedder("auto", Path.home() / ".cache" / "planvec")
        self.embedder = CachedEmbedder(inner, EmbeddingCache(CACHE), chunk_size=512)
        self.family = inner.family
        self._hash = content_hash

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        # same key as planvec's sync with recipe text-v1, so an existing cache is reused
        items = [(self._hash("text-v1", self.family, t), t) for t in texts]
        vecs, computed = self.embedder.embed_hashed(items)
        if computed:
            print(f"  embedded {computed} new texts", file=sys.stderr)
        norms = np.linalg.norm(vecs, axis=1, keepdims=True)
        return vecs / np.maximum(norms, 1e-9)

    def matrix(self, name: str, texts: Sequence[str]) -> np.ndarray:
        MATRIX_DIR.mkdir(parents=True, exist_ok=True)
        key = self._hash(name, *texts)[:16]
        path = MATRIX_DIR / f"{name.replace('+', '_')}-{key}.npy"
        if path.exists():
            return np.load(path)
        started = time.perf_counter()
        mat = self.embed(texts)
        np.save(path, mat)
        print(
            f"  {name}: {len(texts)} texts in {time.perf_counter() - started:.0f} s",
            file=sys.stderr,
        )
        return mat


def dense_rank(mats: Sequence[np.ndarray], qvec: np.ndarray, limit: int) -> Ranking:
    """Cosine top-``limit``; with several matrices a task scores its best vector."""
    sims = mats[0] @ qvec
    for m in mats[1:]:
        sims = np.maximum(sims, m @ qvec)
    top = np.argpartition(-sims, limit)[:limit]
    top = top[np.argsort(-sims[top], kind="stable")]
    return [(int(i), float(sims[i])) for i in top]


# --------------------------------------------------------------------------- sparse side


class Bm25:
    """BM25 over sparse document vectors, scored as Qdrant's ``Idf`` modifier does."""

    def __init__(self, doc_vectors: Sequence[Any]) -> None:
        self.postings: dict[int, list[tuple[int, float]]] = defaultdict(list)
        for doc, vec in enumerate(doc_vectors):
            for i, v in zip(vec.indices, vec.values, strict=True):
                self.postings[i].append((doc, v))
        n = len(doc_vectors)
        self.idf = {
            i: math.log((n - len(p) + 0.5) / (len(p) + 0.5) + 1.0) for i, p in self.postings.items()
        }

    def rank(self, qv: Any, limit: int) -> Ranking:
        scores: dict[int, float] = defaultdict(float)
        for i, qval in zip(qv.indices, qv.values, strict=True):
            idf = self.idf.get(i)
            if idf is None:
                continue
            for doc, v in self.postings[i]:
                scores[doc] += qval * idf * v
        return sorted(scores.items(), key=lambda kv: (-kv[1], kv[0]))[:limit]


# --------------------------------------------------------------------------- fusion


def rrf(rankings: Sequence[Ranking], weights: Sequence[float], k: float, limit: int) -> Ranking:
    """Qdrant's weighted RRF (see ``planvec.store.common.rrf_fuse``)."""
    scores: dict[int, float] = {}
    for ranking, w in zip(rankings, weights, strict=True):
        if w <= 0:
            continue
        for rank0, (doc, _) in enumerate(ranking):
            scores[doc] = scores.get(doc, 0.0) + 1.0 / ((rank0 + 1.0) / w + k - 1.0)
    return sorted(scores.items(), key=lambda kv: -kv[1])[:limit]


def dbsf(rankings: Sequence[Ranking], limit: int) -> Ranking:
    """Qdrant's distribution-based score fusion: scores normalised by mean +/- 3 sigma."""
    scores: dict[int, float] = defaultdict(float)
    for ranking in rankings:
        if not ranking:
            continue
        vals = np.array([s for _, s in ranking])
        mu, sd = float(vals.mean()), float(vals.std())
        lo, hi = mu - 3 * sd, mu + 3 * sd
        for doc, s in ranking:
            scores[doc] += (s - lo) / (hi - lo) if hi > lo else 0.5
    return sorted(scores.items(), key=lambda kv: -kv[1])[:limit]


# --------------------------------------------------------------------------- driver


def score(queries: Sequence[Any], tasks: Sequence[Any], ranked: Sequence[Ranking]) -> dict:
    results = []
    for q, ranking in zip(queries, ranked, strict=True):
        top = [(tasks[d].plan, tasks[d].line) for d, _ in ranking[:10]]
        rank = next((i + 1 for i, hit in enumerate(top) if hit in q.hits), None)
        results.append(es.QueryResult(q, rank, top))
    return es.summarize(results)


def row(label: str, summary: dict, groups: Sequence[str]) -> str:
    cells = []
    for g in groups:
        m = summary.get(g)
        cells.append("-" if m is None else f"{m['recall@10']:.3f}/{m['mrr@10']:.3f}")
    m = summary["all"]
    return (
        f"| {label} | {m['recall@1']:.3f} | {m['recall@5']:.3f} | {m['recall@10']:.3f} | "
        f"{m['mrr@10']:.3f} | " + " | ".join(cells) + " |"
    )


GROUPS = (
    "lang=fr",
    "lang=en",
    "kind=paraphrase_fr",
    "kind=translation_en",
    "kind=question_en",
    "kind=question_fr",
    "kind=keywords",
)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--split", choices=["dev", "test", "all"], default="dev")
    ap.add_argument(
        "--dense",
        default="bare,strip,section",
        help="embedded-text variants; a+b = two vectors per task (max cosine)",
    )
    ap.add_argument("--qdense", default="raw", help="query variants for the dense side")
    ap.add_argument("--lexical", default="base", help="base | docx | qx | docx+qx | product")
    ap.add_argument(
        "--fusion",
        default="1:1:60,1:2:60,1:3:60,1:2:20,1:3:20,1:4:10,dbsf",
        help="wd:ws:k RRF configs, or dbsf",
    )
    ap.add_argument("--prefetch", type=int, default=100)
    ap.add_argument("--plans", type=Path, default=es.DEFAULT_PLANS)
    args = ap.parse_args(argv)

    from planvec.sources.files import parse_paths

    queries = es.load_queries(es.DEFAULT_QUERIES, None if args.split == "all" else args.split)
    plans, _ = parse_paths([args.plans])
    tasks = [t for p in plans for t in p.tasks]
    print(f"{len(tasks)} tasks, {len(queries)} queries ({args.split})", file=sys.stderr)
    pf = args.prefetch

    text_variants = make_text_variants()
    query_variants = make_query_variants()
    lab = DenseLab()

    dense_runs: dict[str, list[Ranking]] = {}
    for spec_ in args.dense.split(","):
        for qname in args.qdense.split(","):
            mats = [lab.matrix(n, [text_variants[n](t) for t in tasks]) for n in spec_.split("+")]
            qvecs = lab.embed([query_variants[qname](q.query) for q in queries])
            dense_runs[f"{spec_}/q={qname}"] = [dense_rank(mats, qv, pf) for qv in qvecs]

    sparse_runs: dict[str, list[Ranking]] = {}
    for lname in args.lexical.split(","):
        enc_doc, enc_q = lexical_variant(lname)
        index = Bm25([enc_doc.encode_document(t.text, t.section) for t in tasks])
        sparse_runs[lname] = [index.rank(enc_q.encode_query(q.query), pf) for q in queries]

    head = (
        "| variant | R@1 | R@5 | R@10 | MRR@10 | " + " | ".join(GROUPS) + " |\n"
        "|---|---:|---:|---:|---:|" + "---:|" * len(GROUPS)
    )
    print(head)
    for name, ranked in dense_runs.items():
        print(row(f"dense {name}", score(queries, tasks, ranked), GROUPS))
    for name, ranked in sparse_runs.items():
        print(row(f"sparse {name}", score(queries, tasks, ranked), GROUPS))
    for dname, dr in dense_runs.items():
        for sname, sr in sparse_runs.items():
            for f in args.fusion.split(","):
                if f == "dbsf":
                    fused = [dbsf([a, b], 10) for a, b in zip(dr, sr, strict=True)]
                else:
                    wd, ws, k = (float(x) for x in f.split(":"))
                    fused = [rrf([a, b], (wd, ws), k, 10) for a, b in zip(dr, sr, strict=True)]
                print(row(f"hybrid {dname} + {sname} [{f}]", score(queries, tasks, fused), GROUPS))
    return 0


def lexical_variant(name: str) -> tuple[Any, Any]:
    """(document encoder, query encoder) for a named lexical variant."""
    from planvec.text.glossary import default_glossary
    from planvec.text.lexical import LexicalEncoder

    if name == "product":
        from planvec.text.lexical import default_lexical_encoder

        enc = default_lexical_encoder()
        return enc, enc
    from planvec.text.lexical import Analyzer

    analyzer = Analyzer(accent_stem=name.startswith("acc:"))
    name = name.removeprefix("acc:")
    if name == "base":
        base = LexicalEncoder(analyzer)
        return base, base
    sides, _, weight = name.partition("@")
    enc = LexicalEncoder(
        analyzer,
        expansion=default_glossary(),
        expansion_weight=float(weight or 0.3),
        expand_documents="docx" in sides,
        expand_queries="qx" in sides,
    )
    return enc, enc


if __name__ == "__main__":
    raise SystemExit(main())
