"""The peers on ONNX Runtime: planvec's exported fp32 graph, called the way sentence-transformers
calls its model (peers venv: onnxruntime + tokenizers only).

sentence-transformers' own ONNX backend (``SentenceTransformer(path, backend="onnx")``) needs
``optimum-onnx``, whose every release pins ``transformers<4.58`` while sentence-transformers
6.2 needs ``transformers>=5``: it cannot be installed next to it, and with ``--no-deps`` it
fails to import (``get_parameter_dtype`` is gone from transformers 5). So the ONNX rows of the
peers run the very graph planvec runs (BERT + mean pooling + L2 norm, exported by
``planvec.embed.onnx``), with sentence-transformers' batching: texts sorted by length,
batches of 32, truncation at 256 tokens. Runtime and weights are then the same for planvec
and the peers; only the framework differs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

MAX_SEQ_LENGTH = 256


class OnnxSentenceModel:
    """``encode(texts, batch_size, normalize_embeddings)`` on ONNX Runtime, fp32."""

    def __init__(self, onnx_path: str, model_dir: str) -> None:
        import onnxruntime as ort
        from tokenizers import Tokenizer

        if not Path(onnx_path).is_file():
            raise SystemExit(f"{onnx_path} is missing: run a planvec contender first")
        options = ort.SessionOptions()
        self.session = ort.InferenceSession(onnx_path, options, providers=["CPUExecutionProvider"])
        self.tokenizer = Tokenizer.from_file(str(Path(model_dir) / "tokenizer.json"))
        self.tokenizer.no_padding()
        self.tokenizer.enable_truncation(max_length=MAX_SEQ_LENGTH)

    def encode(
        self, texts: list[str], batch_size: int = 32, normalize_embeddings: bool = True
    ) -> Any:
        out = np.zeros((len(texts), 384), dtype=np.float32)
        if not texts:
            return out
        encodings = self.tokenizer.encode_batch(list(texts))
        order = np.argsort([-len(e.ids) for e in encodings], kind="stable")
        for start in range(0, len(order), batch_size):
            rows = order[start : start + batch_size]
            width = max(len(encodings[i].ids) for i in rows)
            ids = np.zeros((len(rows), width), dtype=np.int64)
            mask = np.zeros((len(rows), width), dtype=np.int64)
            for r, i in enumerate(rows):
                n = len(encodings[i].ids)
                ids[r, :n] = encodings[i].ids
                mask[r, :n] = 1
            out[rows] = self.session.run(None, {"input_ids": ids, "attention_mask": mask})[0]
        return out  # the graph already L2-normalises
