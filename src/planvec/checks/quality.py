"""``planvec quality``: is the embedding model still doing its job on this index?

Metrics (all "higher is better" except the vector counters):

* ``self_retrieval_at1`` / ``self_retrieval_mrr``: a sample of indexed tasks (deterministic
  reservoir sample of ``sample`` tasks) is re-embedded from its text and searched (dense);
  the task itself must come first (ties with identical texts count as first).
* ``probe_accuracy`` / ``probe_mrr`` / ``probe_margin``: paraphrase pairs shipped with
  planvec (``planvec/data/probes.jsonl``, FR, EN and FR-EN, plus unrelated distractors) are
  embedded with the index's embedder; each pair's paraphrase must rank above every other
  candidate. This is what a keyword-level model (e.g. the hashing embedder) fails.
* vector statistics over every point: dimensions seen, norm min/mean/max, zero/NaN and
  non-normalized counts (one scroll, page by page).
* near-duplicates: sampled tasks whose nearest neighbours in *other* plans score at or above
  ``near_duplicate_threshold`` (listed, capped).

Baselines (``planvec.checks.baseline``): ``save_baseline`` keeps the metrics in a small JSON
file; ``compare_baseline`` raises an alert for every metric that dropped by more than
``alert_drop`` (absolute).
"""

from __future__ import annotations

import json
import random
import time
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

import numpy as np

from planvec.checks.norms import NormStats
from planvec.embedding_recipe import embedding_text_of
from planvec.errors import CheckFailed, PlanvecError
from planvec.index import Index
from planvec.manifest import now_iso
from planvec.store.base import SearchRequest

#: Version of the baseline/report JSON layout.
QUALITY_SCHEMA = 1
#: Metrics compared with a baseline (higher is better).
METRICS = (
    "self_retrieval_at1",
    "self_retrieval_mrr",
    "probe_accuracy",
    "probe_mrr",
    "probe_margin",
)
#: The metrics that mean the same under any model: ranks, not cosine values. Two model
#: families score on different cosine scales (multilingual-e5 puts nearly every pair above
#: 0.7, MiniLM spreads them from 0 to 1), so ``probe_margin`` compares only within a family.
SCALE_FREE_METRICS = tuple(m for m in METRICS if m != "probe_margin")


@dataclass(frozen=True)
class QualityOptions:
    """Knobs of ``measure_quality``.

    Attributes:
        sample: tasks used for self-retrieval and near-duplicates.
        top_k: hits fetched per sampled task.
        near_duplicate_threshold: cosine at or above which two tasks of different plans
            are listed as near-duplicates.
        near_duplicate_limit: at most this many pairs are listed (all are counted).
        alert_drop: a metric that drops by more than this versus the baseline is an alert.
        seed: seed of the sample.
        page_size: points per scroll page.
    """

    sample: int = 500
    top_k: int = 10
    near_duplicate_threshold: float = 0.95
    near_duplicate_limit: int = 100
    alert_drop: float = 0.05
    seed: int = 0
    page_size: int = 1024


@dataclass
class QualityReport:
    """Metrics of one index, and the comparison with a baseline when one was given."""

    model: str = ""
    model_id: str = ""
    dimension: int = 0
    points: int = 0
    sampled: int = 0
    probes: int = 0
    metrics: dict[str, float] = field(default_factory=dict)
    vectors: dict[str, Any] = field(default_factory=dict)
    near_duplicates: list[dict[str, Any]] = field(default_factory=list)
    near_duplicate_pairs: int = 0
    baseline: dict[str, Any] | None = None
    comparison: dict[str, dict[str, float]] = field(default_factory=dict)
    alerts: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def exit_code(self) -> int:
        return 1 if self.alerts else 0

    def baseline_dict(self) -> dict[str, Any]:
        """What ``--save-baseline`` writes."""
        return {
            "schema_version": QUALITY_SCHEMA,
            "created_at": now_iso(),
            "model": self.model,
            "model_id": self.model_id,
            "dimension": self.dimension,
            "points": self.points,
            "metrics": self.metrics,
            "vectors": {k: self.vectors.get(k, 0) for k in ("not_normalized", "zero", "nan")},
        }

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema_version": QUALITY_SCHEMA,
            "status": "alert" if self.alerts else "ok",
            "exit_code": self.exit_code,
            "model": self.model,
            "model_id": self.model_id,
            "dimension": self.dimension,
            "points": self.points,
            "sampled": self.sampled,
            "probes": self.probes,
            "metrics": self.metrics,
            "vectors": self.vectors,
            "near_duplicate_pairs": self.near_duplicate_pairs,
            "near_duplicates": self.near_duplicates,
            "baseline": self.baseline,
            "comparison": self.comparison,
            "alerts": self.alerts,
            "seconds": round(self.seconds, 3),
        }

    def to_markdown(self, max_rows: int = 20) -> str:
        head = "🚨 alert" if self.alerts else "✅ ok"
        lines = [
            f"## planvec quality: {head}",
            "",
            f"Model `{self.model_id}` ({self.dimension}-d), {self.points} points, "
            f"{self.sampled} sampled, {self.probes} probe pairs.",
            "",
        ]
        for alert in self.alerts:
            lines.append(f"- **{alert}**")
        if self.alerts:
            lines.append("")
        lines += ["| metric | value | baseline | change |", "|---|---:|---:|---:|"]
        for name in METRICS:
            cmp = self.comparison.get(name)
            base = f"{cmp['baseline']:.3f}" if cmp else "—"
            delta = f"{cmp['current'] - cmp['baseline']:+.3f}" if cmp else "—"
            lines.append(
                f"| {name} | {self.metrics.get(name, float('nan')):.3f} | {base} | {delta} |"
            )
        v = self.vectors
        lines += [
            "",
            f"Vectors: dimensions {v.get('dimensions')}, norm min/mean/max "
            f"{v.get('norm_min')}/{v.get('norm_mean')}/{v.get('norm_max')}, "
            f"{v.get('not_normalized', 0)} not normalized, {v.get('zero', 0)} zero, "
            f"{v.get('nan', 0)} NaN.",
            "",
        ]
        lines.append(
            f"Near-duplicates across plans (cosine ≥ threshold): "
            f"{self.near_duplicate_pairs} pair(s) among the sample."
        )
        if self.near_duplicates:
            lines += ["", "| score | task | other task |", "|---:|---|---|"]
            for d in self.near_duplicates[:max_rows]:
                lines.append(
                    f"| {d['score']:.3f} | `{d['plan']}:{d['line']}` "
                    f"{_md(d['text'])} | `{d['other_plan']}:{d['other_line']}` "
                    f"{_md(d['other_text'])} |"
                )
        return "\n".join(lines) + "\n"


def load_probes() -> tuple[list[tuple[str, str, str]], list[str]]:
    """The shipped probe set: ``(a, b, lang)`` paraphrase pairs and distractor texts."""
    text = resources.files("planvec").joinpath("data/probes.jsonl").read_text("utf-8")
    pairs: list[tuple[str, str, str]] = []
    distractors: list[str] = []
    for line in text.splitlines():
        if not line.strip():
            continue
        row = json.loads(line)
        if "distractor" in row:
            distractors.append(str(row["distractor"]))
        else:
            pairs.append((str(row["a"]), str(row["b"]), str(row.get("lang", ""))))
    return pairs, distractors


def probe_metrics(index: Index) -> tuple[dict[str, float], int]:
    """Probe accuracy, MRR and mean margin with the index's embedder (see module doc)."""
    pairs, distractors = load_probes()
    a = index.embedder.embed([p[0] for p in pairs])
    candidates = index.embedder.embed([p[1] for p in pairs] + distractors)
    sims = np.asarray(a, dtype=np.float32) @ np.asarray(candidates, dtype=np.float32).T
    hits, rr, margins = 0, 0.0, []
    for i in range(len(pairs)):
        row = sims[i]
        own = float(row[i])
        others = np.delete(row, i)
        rank = 1 + int(np.sum(others > own))
        hits += rank == 1
        rr += 1.0 / rank
        margins.append(own - float(others.max()))
    n = max(1, len(pairs))
    return {
        "probe_accuracy": hits / n,
        "probe_mrr": rr / n,
        "probe_margin": float(np.mean(margins)) if margins else 0.0,
    }, len(pairs)


def measure_quality(index: Index, options: QualityOptions | None = None) -> QualityReport:
    """Embedding-quality metrics of ``index`` (read-only).

    Args:
        index: the index; its embedder must be the model that built it.
        options: sample sizes and thresholds.

    Returns:
        The report (no baseline comparison: see ``compare_baseline``).

    Raises:
        CheckFailed: the index cannot be read or was built by another model.
    """
    opts = options or QualityOptions()
    started = time.perf_counter()
    try:
        index.check_manifest()
    except PlanvecError as exc:
        raise CheckFailed(f"cannot measure quality: {exc}") from exc
    report = QualityReport(
        model=index.embedder.family,
        model_id=index.embedder.model_id,
        dimension=index.embedder.dimension,
    )
    report.baseline = None
    try:
        sample = _scan(index, report, opts)
        _self_retrieval(index, sample, report, opts)
        probes, report.probes = probe_metrics(index)
        report.metrics.update(probes)
    except PlanvecError as exc:
        raise CheckFailed(f"cannot measure quality: {exc}") from exc
    report.metrics = {k: round(v, 6) for k, v in report.metrics.items()}
    report.seconds = time.perf_counter() - started
    return report


_Sample = tuple[str, str, int, str]  # id, plan, line, text


def _scan(index: Index, report: QualityReport, opts: QualityOptions) -> list[_Sample]:
    """One scroll with vectors: norm/dimension statistics and a reservoir sample."""
    rng = random.Random(opts.seed)
    sample: list[_Sample] = []
    stats = NormStats(index.embedder.dimension, opts.page_size)
    for point in index.points.scroll(
        with_vectors=True,
        with_payload=("plan", "line", "text"),
        batch_size=opts.page_size,
    ):
        stats.add(point.vector or [])
        p = point.payload
        item = (
            str(point.id),
            str(p.get("plan", "")),
            int(p.get("line") or 0),
            str(p.get("text", "")),
        )
        if len(sample) < opts.sample:
            sample.append(item)
        else:
            j = rng.randrange(stats.count)
            if j < opts.sample:
                sample[j] = item
    stats.flush()
    report.points = stats.count
    report.vectors = stats.summary()
    return sample


def _self_retrieval(
    index: Index, sample: list[_Sample], report: QualityReport, opts: QualityOptions
) -> None:
    report.sampled = len(sample)
    if not sample:
        report.metrics.update({"self_retrieval_at1": 0.0, "self_retrieval_mrr": 0.0})
        return
    # embed what the index embedded for these tasks (the recipe of planvec.embedding_recipe)
    vectors = index.embedder.embed([embedding_text_of(s[3]) for s in sample])
    at1, rr = 0, 0.0
    pairs: dict[tuple[str, str], dict[str, Any]] = {}
    for (pid, plan, line, text), vec in zip(sample, vectors, strict=True):
        hits = index.points.search(
            SearchRequest(dense=np.asarray(vec, dtype=np.float32).tolist(), limit=opts.top_k),
        )
        own = next((h.score for h in hits if str(h.id) == pid), None)
        if own is not None:
            rank = 1 + sum(1 for h in hits if h.score > own + 1e-6)
            at1 += rank == 1
            rr += 1.0 / rank
        for h in hits:
            other_plan = str(h.payload.get("plan", ""))
            if str(h.id) == pid or other_plan == plan:
                continue
            if h.score < opts.near_duplicate_threshold:
                break
            key = (min(pid, str(h.id)), max(pid, str(h.id)))
            pairs.setdefault(
                key,
                {
                    "score": round(float(h.score), 6),
                    "id": pid,
                    "plan": plan,
                    "line": line,
                    "text": text,
                    "other_id": str(h.id),
                    "other_plan": other_plan,
                    "other_line": h.payload.get("line"),
                    "other_text": h.payload.get("text"),
                },
            )
    report.metrics.update(
        {"self_retrieval_at1": at1 / len(sample), "self_retrieval_mrr": rr / len(sample)}
    )
    report.near_duplicate_pairs = len(pairs)
    ranked = sorted(pairs.values(), key=lambda d: -float(d["score"]))
    report.near_duplicates = ranked[: opts.near_duplicate_limit]


def _md(text: Any) -> str:
    s = str(text or "").replace("|", "\\|").replace("\n", " ")
    return s if len(s) <= 80 else s[:79] + "…"
