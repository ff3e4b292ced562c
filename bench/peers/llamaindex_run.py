"""LlamaIndex ``IngestionPipeline`` + docstore + Qdrant vector store (local mode on disk).

One Document per task (id = the task's stable id, metadata kept out of the embedded text),
the canonical pipeline ``[SentenceSplitter(), embed model]``, a ``SimpleDocumentStore``
persisted between runs (``pipeline.persist`` / ``pipeline.load``) and the
``UPSERTS_AND_DELETE`` strategy, the one meant to keep the vector store in sync.

Usage (by bench/run.py): ``llamaindex_run.py JOB.json`` (``runtime``: torch | onnx)
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from common import ReadBack, load_job, run_scenarios, sentence_model
from llama_index.core import Document
from llama_index.core.embeddings import BaseEmbedding
from llama_index.core.ingestion import DocstoreStrategy, IngestionPipeline
from llama_index.core.node_parser import SentenceSplitter
from llama_index.core.storage.docstore import SimpleDocumentStore
from llama_index.vector_stores.qdrant import QdrantVectorStore
from pydantic import PrivateAttr
from qdrant_client import QdrantClient

COLLECTION = "tasks"
META = ["plan", "task_id", "status", "section"]


class MiniLM(BaseEmbedding):
    """The same sentence-transformers call as ``HuggingFaceEmbedding`` (batch 32, normalized)."""

    _model: Any = PrivateAttr()
    calls: int = 0

    def __init__(self, model: Any) -> None:
        super().__init__(model_name="all-MiniLM-L6-v2", embed_batch_size=32)
        self._model = model

    def _encode(self, texts: list[str]) -> list[list[float]]:
        self.calls += len(texts)
        return self._model.encode(texts, batch_size=32, normalize_embeddings=True).tolist()

    def _get_text_embeddings(self, texts: list[str]) -> list[list[float]]:
        return self._encode(texts)

    def _get_text_embedding(self, text: str) -> list[float]:
        return self._encode([text])[0]

    def _get_query_embedding(self, query: str) -> list[float]:
        return self._encode([query])[0]

    async def _aget_query_embedding(self, query: str) -> list[float]:
        return self._get_query_embedding(query)


def main() -> None:
    job = load_job()
    work = Path(job["work"])
    embed = MiniLM(sentence_model(job))
    state_dir = work / "pipeline_state"
    holder: dict[str, Any] = {}

    def one_run(tasks: list[dict[str, Any]]) -> int:
        before = embed.calls
        client = QdrantClient(path=str(work / "qdrant"))
        pipeline = IngestionPipeline(
            transformations=[SentenceSplitter(), embed],
            docstore=SimpleDocumentStore(),
            vector_store=QdrantVectorStore(client=client, collection_name=COLLECTION),
            docstore_strategy=DocstoreStrategy.UPSERTS_AND_DELETE,
        )
        if state_dir.exists():
            pipeline.load(str(state_dir))
        docs = []
        for t in tasks:
            doc = Document(
                text=t["text"],
                id_=t["id"],
                metadata={
                    "plan": t["plan"],
                    "task_id": t["id"],
                    "status": t["status"],
                    "section": " > ".join(t["section"]),
                },
            )
            doc.excluded_embed_metadata_keys = list(META)
            doc.excluded_llm_metadata_keys = list(META)
            docs.append(doc)
        pipeline.run(documents=docs)
        pipeline.persist(str(state_dir))
        holder["client"] = client
        return embed.calls - before

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
                text = json.loads(p.payload["_node_content"])["text"]
                out.append((p.payload["task_id"], text, p.payload["status"]))
                vector = p.vector
                if isinstance(vector, dict):  # named vectors: the dense one
                    vector = next(iter(vector.values()), None)
                vectors.append((p.payload["task_id"], vector))
            if offset is None:
                break
        client.close()
        return out, vectors

    run_scenarios("llamaindex", job, one_run, read_back)


if __name__ == "__main__":
    main()
