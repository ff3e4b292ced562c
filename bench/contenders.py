"""planvec and the legacy-style loop as benchmark contenders (project venv).

Run by ``bench/run.py`` as ``python bench/contenders.py {planvec,legacy} JOB.json``; prints one
JSON line with a row per scenario (full, no-op, 1 % edited, 1 % deleted): seconds, tasks,
texts embedded, peak RSS so far, and the correctness check of ``bench/peers/verify.py``.
Each scenario is a separate "run" (store and cache reopened); the model stays loaded, as
for every contender.

* ``planvec``: ``Index.sync`` with the embedding cache and lexical vectors, i.e. what
  ``planvec index PATH`` does; ``config`` picks the embedder and the store (Edge by default,
  ``local://`` for the row on the peers' engine).
* ``legacy``: one regex per line, ``SentenceTransformer.encode`` of one text, one upsert per
  point into qdrant-client local mode; no change detection, so every run rebuilds the
  collection (the charitable reading: the other one, appending random ids, duplicates).
"""

from __future__ import annotations

import json
import os
import re
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent / "peers"))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from verify import load_state, peak_rss_mb, verify

LEGACY_TASK = re.compile(r"^\s*[-*+]\s+\[([ xX])\]\s+(.*)$")
_NON_WORD = re.compile(r"\W+")

#: planvec configurations: name -> (embedder, qdrant_url or None for Edge).
CONFIGS = {
    "default": ("auto", None),
    "fastest": ("onnx-int8", None),
    "local": ("auto", "local://"),
    "hashing": ("hashing", None),
}


def _rows(
    job: dict[str, Any],
    one_run: Callable[[dict[str, Any]], tuple[int | None, list[tuple[int, float]]]],
    read_back: Callable[[dict[str, Any]], list[tuple[str, str]]],
) -> list[dict[str, Any]]:
    rows = []
    for sc in job["scenarios"]:
        tasks = load_state(Path(sc["state"]))
        start = time.perf_counter()
        embedded, curve = one_run(sc)
        seconds = time.perf_counter() - start
        check = verify(
            read_back(sc), {t["id"]: t["text"] for t in tasks}, sc["deleted"], sc["edited"]
        )
        rows.append(
            {
                "scenario": sc["name"],
                "seconds": seconds,
                "tasks": len(tasks),
                "embedded": embedded,
                "rss_mb": peak_rss_mb(),
                "curve": curve,
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
    from planvec.index import Index, sources_for
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
            report = index.sync(
                sources_for([Path(sc["dir"])]),
                progress=lambda p: curve.append((p.tasks, time.perf_counter() - start)),
            )
            if isinstance(index.embedder, CachedEmbedder):
                index.embedder.cache.close()
        step = max(1, len(curve) // 50)
        return report.embedded, curve[::step]

    def read_back(sc: dict[str, Any]) -> list[tuple[str, str]]:
        with open_index() as index:
            out = [
                (str(p.id), str(p.payload.get("text")))
                for p in index.points.scroll(with_payload=("text",))
            ]
            if isinstance(index.embedder, CachedEmbedder):
                index.embedder.cache.close()
        return out

    return _rows(job, one_run, read_back)


def _norm(text: str) -> str:
    return _NON_WORD.sub("", text.lower())


def run_legacy(job: dict[str, Any]) -> list[dict[str, Any]]:
    from qdrant_client import QdrantClient, models
    from sentence_transformers import SentenceTransformer

    work = Path(job["work"])
    model = SentenceTransformer(job["model_path"], device="cpu")
    model.encode(["warm up"])
    path = str(work / "qdrant")

    def one_run(sc: dict[str, Any]) -> tuple[int, list[tuple[int, float]]]:
        start = time.perf_counter()
        curve: list[tuple[int, float]] = []
        client = QdrantClient(path=path)
        if client.collection_exists("roadmap_tasks"):
            client.delete_collection("roadmap_tasks")
        client.create_collection(
            "roadmap_tasks",
            vectors_config=models.VectorParams(size=384, distance=models.Distance.COSINE),
        )
        done = 0
        root = Path(sc["dir"])
        for f in sorted(root.rglob("*.md")):
            plan = f.relative_to(root).as_posix()
            for n, line in enumerate(f.read_text(encoding="utf-8").splitlines(), 1):
                m = LEGACY_TASK.match(line)
                if not m:
                    continue
                vector = model.encode([m.group(2)], normalize_embeddings=True)[0].tolist()
                client.upsert(
                    "roadmap_tasks",
                    points=[
                        models.PointStruct(
                            id=str(uuid.uuid4()),
                            vector=vector,
                            payload={"plan": plan, "line": n, "description": m.group(2)},
                        )
                    ],
                )
                done += 1
                if done % 100 == 0:
                    curve.append((done, time.perf_counter() - start))
        client.close()
        return done, curve

    def read_back(sc: dict[str, Any]) -> list[tuple[str, str]]:
        """Map legacy points to task ids by (plan, line); its text is the raw line."""
        by_line = {(t["plan"], t["line"]): t for t in load_state(Path(sc["state"]))}
        client = QdrantClient(path=path)
        out: list[tuple[str, str]] = []
        offset = None
        while True:
            points, offset = client.scroll("roadmap_tasks", limit=2048, offset=offset)
            for p in points:
                payload = p.payload or {}
                task = by_line.get((payload["plan"], payload["line"]))
                if task is None:
                    out.append((f"{payload['plan']}:{payload['line']}", payload["description"]))
                    continue
                raw, parsed = _norm(payload["description"]), _norm(task["text"])
                same = parsed in raw or raw in parsed
                out.append((task["id"], task["text"] if same else payload["description"]))
            if offset is None:
                break
        client.close()
        return out

    return _rows(job, one_run, read_back)


def main() -> None:
    kind, job_path = sys.argv[1], Path(sys.argv[2])
    job = json.loads(job_path.read_text(encoding="utf-8"))
    run_planvec(job) if kind == "planvec" else run_legacy(job)


if __name__ == "__main__":
    main()
