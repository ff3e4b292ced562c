"""planvec and the legacy-style loop as benchmark contenders (project venv).

Run by ``bench/run.py`` as ``python bench/contenders.py {planvec,legacy} JOB.json``; prints one
JSON line with a row per scenario (full, no-op, 1 % edited, 1 % deleted, 1 % status flipped):
seconds, tasks, texts embedded, peak RSS so far, the correctness check of
``bench/peers/verify.py`` (ids, text, status) and the file of sampled stored vectors that
``bench/vectors.py`` compares with a reference embedding.
Each scenario is a separate "run" (store and cache reopened); the model stays loaded, as
for every contender.

* ``planvec``: ``Index.sync`` with the embedding cache and lexical vectors, i.e. what
  ``planvec index PATH`` does; ``config`` picks the embedder and the store (Edge by default,
  ``local://`` for the row on the peers' engine).
* ``legacy``: the legacy loop as defined once in ``bench/legacy.py`` (one text per encode
  call, one point per upsert, qdrant-client local mode, rebuilt on every run).
"""

from __future__ import annotations

import json
import os
import re
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent / "peers"))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from verify import load_state, peak_rss_mb, sample_vectors, verify, write_vector_sample

_NON_WORD = re.compile(r"\W+")
#: The legacy scripts' status words, in planvec's vocabulary (for the status check).
LEGACY_STATUS = {"completed": "done", "pending": "todo"}

#: planvec configurations: name -> (embedder, qdrant_url or None for Edge).
CONFIGS = {
    "default": ("auto", None),
    "fastest": ("onnx-int8", None),
    "torch": ("torch", None),
    "local": ("auto", "local://"),
    "hashing": ("hashing", None),
}


#: What a read-back returns: (task id, text, status) per point, and sampled (id, vector).
ReadBack = tuple[list[tuple[str, str, str]], dict[str, Any]]


def _rows(
    job: dict[str, Any],
    one_run: Callable[[dict[str, Any]], tuple[int | None, list[tuple[int, float]]]],
    read_back: Callable[[dict[str, Any]], ReadBack],
) -> list[dict[str, Any]]:
    rows = []
    for sc in job["scenarios"]:
        tasks = load_state(Path(sc["state"]))
        start = time.perf_counter()
        embedded, curve = one_run(sc)
        seconds = time.perf_counter() - start
        points, vectors = read_back(sc)
        check = verify(
            points,
            {t["id"]: t["text"] for t in tasks},
            sc["deleted"],
            sc["edited"],
            statuses={t["id"]: t["status"] for t in tasks},
        )
        rows.append(
            {
                "scenario": sc["name"],
                "seconds": seconds,
                "tasks": len(tasks),
                "embedded": embedded,
                "rss_mb": peak_rss_mb(),
                "curve": curve,
                "vectors_file": write_vector_sample(Path(job["work"]), sc["name"], vectors),
                **check,
            }
        )
        print(f"{job['name']} {sc['name']}: {seconds:.2f}s {check}", file=sys.stderr, flush=True)
        # Cumulative result after every scenario: a run cut at the deadline still reports.
        print(json.dumps({"contender": job["name"], "rows": rows}), flush=True)
    return rows


def run_planvec(job: dict[str, Any]) -> list[dict[str, Any]]:
    from planvec.embed.cache import CachedEmbedder, EmbeddingCache
    from planvec.embed.factory import make_embedder
    from planvec.index import Index
    from planvec.store import open_store
    from planvec.text.lexical import LexicalEncoder

    work = Path(job["work"])
    embedder_name, url = CONFIGS[job["config"]]
    raw = make_embedder(embedder_name, Path(job.get("model_cache") or work / "model-cache"))
    raw.embed(["warm up"])

    def open_index() -> Index:
        store = open_store(index_dir=work / "index", qdrant_url=url)
        embedder: Any = raw
        if embedder_name != "hashing":
            embedder = CachedEmbedder(raw, EmbeddingCache(work / "cache" / "embeddings.sqlite"))
        return Index(store, embedder, lexical=LexicalEncoder())

    def one_run(sc: dict[str, Any]) -> tuple[int, list[tuple[int, float]]]:
        start = time.perf_counter()
        curve: list[tuple[int, float]] = []
        with open_index() as index:
            # what a user re-running `planvec index DIR` gets: the rooted source, whose
            # recorded file fingerprints skip the files that did not change (each scenario
            # is a copy of the data set in its own directory, named from that root)
            scenario = Path(sc["dir"])
            report = index.sync(
                index.source([scenario], root=scenario),
                progress=lambda p: curve.append((p.tasks, time.perf_counter() - start)),
            )
            if isinstance(index.embedder, CachedEmbedder):
                index.embedder.cache.close()
        step = max(1, len(curve) // 50)
        return report.embedded, curve[::step]

    def read_back(sc: dict[str, Any]) -> ReadBack:
        with open_index() as index:
            points = list(index.points.scroll(with_payload=("text", "status"), with_vectors=True))
            if isinstance(index.embedder, CachedEmbedder):
                index.embedder.cache.close()
        out = [
            (str(p.id), str(p.payload.get("text")), str(p.payload.get("status"))) for p in points
        ]
        vectors = sample_vectors(((str(p.id), p.vector) for p in points), sc["vector_sample"])
        return out, vectors

    return _rows(job, one_run, read_back)


def _norm(text: str) -> str:
    return _NON_WORD.sub("", text.lower())


def run_legacy(job: dict[str, Any]) -> list[dict[str, Any]]:
    from qdrant_client import QdrantClient
    from sentence_transformers import SentenceTransformer

    from legacy import COLLECTION, run_legacy_loop

    work = Path(job["work"])
    model = SentenceTransformer(job["model_path"], device="cpu")
    model.encode(["warm up"])
    path = str(work / "qdrant")

    def encode_one(text: str) -> list[float]:
        return [float(x) for x in model.encode([text], normalize_embeddings=True)[0]]

    def one_run(sc: dict[str, Any]) -> tuple[int, list[tuple[int, float]]]:
        curve: list[tuple[int, float]] = []

        def progress(done: int, seconds: float) -> None:
            if done % 100 == 0:
                curve.append((done, seconds))

        client = QdrantClient(path=path)
        done = run_legacy_loop(Path(sc["dir"]), encode_one, client, 384, on_point=progress)
        client.close()
        return done, curve

    def read_back(sc: dict[str, Any]) -> ReadBack:
        """Map legacy points to task ids by (plan, line); its text is the raw line."""
        by_line = {(t["plan"], t["line"]): t for t in load_state(Path(sc["state"]))}
        client = QdrantClient(path=path)
        out: list[tuple[str, str, str]] = []
        vectors: list[tuple[str, Any]] = []
        offset = None
        while True:
            points, offset = client.scroll(COLLECTION, limit=2048, offset=offset, with_vectors=True)
            for p in points:
                payload = p.payload or {}
                status = LEGACY_STATUS.get(payload.get("status", ""), "?")
                task = by_line.get((payload["plan"], payload["line"]))
                if task is None:
                    key = f"{payload['plan']}:{payload['line']}"
                    out.append((key, payload["description"], status))
                    continue
                raw, parsed = _norm(payload["description"]), _norm(task["text"])
                same = parsed in raw or raw in parsed
                out.append((task["id"], task["text"] if same else payload["description"], status))
                vectors.append((task["id"], p.vector))
            if offset is None:
                break
        client.close()
        return out, sample_vectors(vectors, sc["vector_sample"])

    return _rows(job, one_run, read_back)


def main() -> None:
    kind, job_path = sys.argv[1], Path(sys.argv[2])
    job = json.loads(job_path.read_text(encoding="utf-8"))
    run_planvec(job) if kind == "planvec" else run_legacy(job)


if __name__ == "__main__":
    main()
