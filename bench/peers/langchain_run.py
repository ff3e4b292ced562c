"""LangChain ``index()`` + ``SQLRecordManager`` + ``langchain-qdrant`` (local mode on disk).

One Document per task (text = task text; metadata plan, task id, status, section), source id
= the plan, as in LangChain's indexing guide. Each scenario is a separate "run": the Qdrant
client and the record manager are reopened, the model stays loaded (as for every contender).

``batch_size`` (job) is ``index()``'s: incremental cleanup runs per batch and deletes what
the batch's sources no longer hold, so a source (plan) split across batches loses the
documents of its other batches, which the next batch embeds again. The docs' advice is a
batch at least as large as the largest source; as batches are fixed windows over the document
stream, that still splits the plans straddling two windows, so ``bench/run.py``'s recommended
row uses a batch holding the whole data set (none split), a variant the largest plan, and one
row LangChain's default of 100 (kept to show its cost).

Usage (by bench/run.py): ``langchain_run.py JOB.json`` with ``cleanup``, ``batch_size`` and
``runtime`` (torch | onnx) in the job.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from common import ReadBack, load_job, run_scenarios, sentence_model
from langchain_classic.indexes import SQLRecordManager, index
from langchain_core.documents import Document
from langchain_core.embeddings import Embeddings
from langchain_qdrant import QdrantVectorStore
from qdrant_client import QdrantClient, models

COLLECTION = "tasks"


class MiniLM(Embeddings):
    """The same sentence-transformers call as ``HuggingFaceEmbeddings`` (batch 32, normalized)."""

    def __init__(self, model: Any) -> None:
        self.model = model
        self.calls = 0

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        self.calls += len(texts)
        return self.model.encode(texts, batch_size=32, normalize_embeddings=True).tolist()

    def embed_query(self, text: str) -> list[float]:
        return self.embed_documents([text])[0]


def main() -> None:
    job = load_job()
    work = Path(job["work"])
    cleanup = job.get("cleanup", "incremental")
    batch_size = int(job.get("batch_size", 100))
    embeddings = MiniLM(sentence_model(job))
    qdrant_dir = work / "qdrant"
    client = QdrantClient(path=str(qdrant_dir))
    client.create_collection(
        COLLECTION, vectors_config=models.VectorParams(size=384, distance=models.Distance.COSINE)
    )
    client.close()
    holder: dict[str, Any] = {}

    def one_run(tasks: list[dict[str, Any]]) -> int:
        before = embeddings.calls
        client = QdrantClient(path=str(qdrant_dir))
        store = QdrantVectorStore(client=client, collection_name=COLLECTION, embedding=embeddings)
        manager = SQLRecordManager(
            f"qdrant/{COLLECTION}", db_url=f"sqlite:///{work}/records.sqlite"
        )
        manager.create_schema()
        docs = [
            Document(
                page_content=t["text"],
                metadata={
                    "plan": t["plan"],
                    "task_id": t["id"],
                    "status": t["status"],
                    "section": " > ".join(t["section"]),
                },
            )
            for t in tasks
        ]
        index(docs, manager, store, cleanup=cleanup, source_id_key="plan", batch_size=batch_size)
        holder["client"] = client
        return embeddings.calls - before

    def read_back() -> ReadBack:
        client = holder.pop("client")
        out = []
        vectors = []
        offset = None
        while True:
            points, offset = client.scroll(
                COLLECTION, limit=2048, offset=offset, with_payload=True, with_vectors=True
            )
            for p in points:
                meta = p.payload["metadata"]
                out.append((meta["task_id"], p.payload["page_content"], meta["status"]))
                vectors.append((meta["task_id"], p.vector))
            if offset is None:
                break
        client.close()
        return out, vectors

    run_scenarios(f"langchain-{cleanup}-{batch_size}", job, one_run, read_back)


if __name__ == "__main__":
    main()
