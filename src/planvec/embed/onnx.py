"""all-MiniLM-L6-v2 on ONNX Runtime: the default backend (see docs/embedding.md).

Why: same vectors as torch fp32 (cosine 1.0 on the whole corpus), ~1.5x the throughput
with token-count-sorted batches, and a 0.3 s cold start instead of ~4.5 s, because the
embed path imports only onnxruntime, tokenizers and numpy.

The ``.onnx`` file is not shipped: on first use it is exported from the bundled model with
``torch.onnx.export`` (mean pooling and L2 normalisation are inside the graph) and written
atomically to ``<cache_dir>/onnx/<model>-<variant>.onnx`` (temp file + ``os.replace``), so
a killed export never leaves a half-written model. A file that cannot be loaded, or was
written by another export version, is re-exported. The ``int8`` variant is the fp32 graph
passed through ``quantize_dynamic`` (MatMul only, per channel).
"""

from __future__ import annotations

import logging
import os
import tempfile
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from planvec.embed.base import Vectors
from planvec.embed.cpu import core_count
from planvec.embed.model_files import (
    MAX_SEQ_LENGTH,
    MODEL_DIMENSION,
    MODEL_FAMILY,
    model_path,
    require_module,
)
from planvec.errors import ConfigError, EmbedError, ModelNotAvailable

log = logging.getLogger(__name__)

VARIANTS = ("fp32", "int8")
#: Bump when the exported graph changes: older files are then re-exported.
EXPORT_VERSION = "1"
_META_KEY = "planvec_export"
_PROBE = (
    "Mettre en place le pipeline de vectorisation",
    "Écrire les tests d'intégration ✅",
    "a",
)


def onnx_file(cache_dir: Path, variant: str) -> Path:
    """Where the exported model of ``variant`` lives under ``cache_dir``."""
    return Path(cache_dir) / "onnx" / f"{MODEL_FAMILY}-{variant}.onnx"


def _pad(encodings: Sequence[Any]) -> tuple[np.ndarray, np.ndarray]:
    """Right-pad token ids to the longest encoding; returns (input_ids, attention_mask)."""
    width = max(len(e.ids) for e in encodings)
    ids = np.zeros((len(encodings), width), dtype=np.int64)
    mask = np.zeros((len(encodings), width), dtype=np.int64)
    for row, enc in enumerate(encodings):
        ids[row, : len(enc.ids)] = enc.ids
        mask[row, : len(enc.ids)] = 1
    return ids, mask


def load_tokenizer(model_dir: Path) -> Any:
    """The fast tokenizer of the bundled model, set up like sentence-transformers.

    tokenizer.json pads every text to 128 tokens; we pad per batch instead (padding
    dominates the cost of short tasks) and truncate at ``MAX_SEQ_LENGTH``.
    """
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
    tokenizer.no_padding()
    tokenizer.enable_truncation(max_length=MAX_SEQ_LENGTH)
    return tokenizer


def _quantize(source: Path, target: Path) -> None:
    """Dynamic int8 quantization of the MatMul weights (per channel)."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    logging.disable(logging.WARNING)  # it nags on the root logger about preprocessing
    try:
        quantize_dynamic(
            source,
            target,
            op_types_to_quantize=["MatMul"],
            per_channel=True,
            weight_type=QuantType.QInt8,
        )
    finally:
        logging.disable(logging.NOTSET)


def export_model(target: Path, variant: str, model_dir: Path) -> None:
    """Export the bundled model to ONNX at ``target``, atomically (needs torch once).

    The caller holds the export lock, so temp files of a killed earlier export can go.

    Args:
        target: final path of the ``.onnx`` file.
        variant: ``fp32`` or ``int8``.
        model_dir: the bundled model directory.

    Raises:
        ModelNotAvailable: torch/transformers/onnx are not installed.
        EmbedError: the export failed or its output disagrees with torch.
    """
    for module in ("torch", "transformers", "onnx"):
        require_module(module, f"exporting the ONNX model (once, to {target})")
    target.parent.mkdir(parents=True, exist_ok=True)
    for leftover in target.parent.glob(f".{target.stem}.*"):  # from a killed export
        leftover.unlink(missing_ok=True)
    temps: list[Path] = []

    def temp(suffix: str) -> Path:
        fd, name = tempfile.mkstemp(prefix=f".{target.stem}.", suffix=suffix, dir=target.parent)
        os.close(fd)
        temps.append(Path(name))
        return Path(name)

    try:
        reference = _export_fp32(temp(".raw.onnx"), model_dir)
        source = temps[0]
        if variant == "int8":
            source = temp(".int8.onnx")
            _quantize(temps[0], source)
        import onnx

        model = onnx.load(str(source))
        entry = model.metadata_props.add()
        entry.key, entry.value = _META_KEY, f"{EXPORT_VERSION}:{variant}"
        final = temp(".onnx")
        onnx.save(model, str(final))
        _check_against(final, reference, model_dir, 0.9999 if variant == "fp32" else 0.95)
        with final.open("rb") as handle:
            os.fsync(handle.fileno())
        os.replace(final, target)
        temps.remove(final)
    except (OSError, RuntimeError, ValueError) as exc:
        raise EmbedError(f"exporting {MODEL_FAMILY} to ONNX ({target}) failed: {exc}") from exc
    finally:
        for path in temps:
            path.unlink(missing_ok=True)


def _export_fp32(path: Path, model_dir: Path) -> np.ndarray:
    """torch.onnx.export of BERT + mean pooling + L2 norm; returns torch's probe vectors."""
    import torch
    import transformers

    transformers.logging.disable_progress_bar()  # type: ignore[no-untyped-call]
    bert = transformers.AutoModel.from_pretrained(
        str(model_dir), attn_implementation="eager", local_files_only=True
    ).eval()

    class Pooled(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.bert = bert

        def forward(self, input_ids: Any, attention_mask: Any) -> Any:
            hidden = self.bert(
                input_ids=input_ids,
                attention_mask=attention_mask,
                token_type_ids=torch.zeros_like(input_ids),
            ).last_hidden_state
            weights = attention_mask.unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * weights).sum(1) / weights.sum(1).clamp(min=1e-9)
            return pooled / pooled.norm(dim=1, keepdim=True).clamp(min=1e-12)

    wrapper = Pooled().eval()
    # The example batch must contain padding: with an all-ones mask the tracer may bake
    # in a "no padding" shortcut of transformers' masking code.
    ids, mask = _pad(load_tokenizer(model_dir).encode_batch(list(_PROBE)))
    inputs = (torch.from_numpy(ids), torch.from_numpy(mask))
    import warnings

    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            wrapper,
            inputs,
            str(path),
            input_names=["input_ids", "attention_mask"],
            output_names=["embedding"],
            dynamic_axes={
                "input_ids": {0: "batch", 1: "tokens"},
                "attention_mask": {0: "batch", 1: "tokens"},
                "embedding": {0: "batch"},
            },
            opset_version=17,
            dynamo=False,
        )
        reference = wrapper(*inputs).numpy()
    return np.asarray(reference, dtype=np.float32)


def _check_against(path: Path, reference: np.ndarray, model_dir: Path, floor: float) -> None:
    """Refuse an export whose probe vectors drift from torch's (cosine below ``floor``)."""
    session = _new_session(path)
    ids, mask = _pad(load_tokenizer(model_dir).encode_batch(list(_PROBE)))
    got = session.run(None, {"input_ids": ids, "attention_mask": mask})[0]
    cosine = float(np.min(np.sum(got * reference, axis=1)))
    if cosine < floor:
        raise RuntimeError(f"exported model disagrees with torch (cosine {cosine:.5f} < {floor})")


def _new_session(path: Path, threads: int | None = None) -> Any:
    """An inference session on ``path`` with ``threads`` intra-op threads (default: one
    per core)."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads or core_count()
    options.inter_op_num_threads = 1
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.log_severity_level = 3
    # No busy-waiting between ops: the index pipeline parses on another thread and the
    # machine is often shared; spinning workers then steal the CPU they wait for
    # (measured 1.2-1.4x faster without spinning under load).
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


class OnnxEmbedder:
    """all-MiniLM-L6-v2 on ONNX Runtime, fp32 (default) or dynamic int8."""

    family = MODEL_FAMILY
    dimension = MODEL_DIMENSION
    #: ``session.run`` and the tokenizer release the GIL (``planvec.embed.base``)
    releases_gil = True

    def __init__(
        self,
        variant: str = "fp32",
        cache_dir: Path = Path("~/.cache/planvec"),
        batch_size: int = 16,
        sort_by_length: bool = True,
    ) -> None:
        """Check the dependencies now; export/load the model on first use.

        Args:
            variant: ``fp32`` or ``int8``.
            cache_dir: planvec's cache directory; the model goes under ``onnx/``.
            batch_size: texts per ``run`` call (16 is fastest for short tasks).
            sort_by_length: group texts of similar token count to cut padding.

        Raises:
            ConfigError: unknown variant.
            ModelNotAvailable: onnxruntime, tokenizers or the model is missing.
        """
        if variant not in VARIANTS:
            raise ConfigError(f"unknown ONNX variant {variant!r}: choose one of fp32, int8")
        require_module("onnxruntime", "the ONNX embedder")
        require_module("tokenizers", "the ONNX embedder")
        self._model_dir = model_path()
        self.variant = variant
        self.path = onnx_file(Path(cache_dir).expanduser(), variant)
        self.batch_size = max(1, batch_size)
        self.sort_by_length = sort_by_length
        self.model_id = f"{MODEL_FAMILY}@onnx-{variant}"
        self._session: Any = None
        #: one intra-op thread: queries (``embed_queries``) and ``embed_aside``
        self._one_thread: Any = None
        self._tokenizer: Any = None
        self._lock = threading.Lock()

    def _try_open(self, threads: int | None) -> Any:
        """The session of a valid existing file, or None when it must be (re-)exported."""
        if not self.path.is_file():
            return None
        try:
            session = _new_session(self.path, threads)
        except Exception as exc:  # onnxruntime raises its own untyped errors
            log.warning("%s cannot be loaded (%s): re-exporting", self.path, exc)
            return None
        stamp = session.get_modelmeta().custom_metadata_map.get(_META_KEY)
        if stamp != f"{EXPORT_VERSION}:{self.variant}":
            log.warning("%s is from another export (%s): re-exporting", self.path, stamp)
            return None
        return session

    def _open(self, threads: int | None = None) -> Any:
        """Load a session, exporting (again) when the file is missing, stale or broken."""
        session = self._try_open(threads)
        if session is not None:
            return session
        from filelock import FileLock

        self.path.parent.mkdir(parents=True, exist_ok=True)
        with FileLock(str(self.path) + ".lock"):
            session = self._try_open(threads)  # another process may have exported it
            if session is not None:
                return session
            log.warning(
                "exporting %s to %s: once, ~15 s (`planvec model prepare` does it ahead)",
                self.model_id,
                self.path,
            )
            export_model(self.path, self.variant, self._model_dir)
        try:
            return _new_session(self.path, threads)
        except Exception as exc:
            raise EmbedError(f"cannot load the ONNX model {self.path}: {exc}") from exc

    def load(self) -> None:
        """Load (exporting on first use) now instead of on the first ``embed``."""
        with self._lock:
            if self._session is None:
                self._load_tokenizer()
                self._session = self._open()

    def _load_tokenizer(self) -> None:
        if self._tokenizer is not None:
            return
        try:
            self._tokenizer = load_tokenizer(self._model_dir)
        except Exception as exc:
            raise ModelNotAvailable(
                f"cannot read the tokenizer of {self._model_dir}: {exc}; reinstall it "
                "with `pip install --force-reinstall 'planvec[embed]'`"
            ) from exc

    def load_aside(self) -> None:
        """Load the one-thread session (``embed_queries``, ``embed_aside``) now."""
        with self._lock:
            if self._one_thread is None:
                self._load_tokenizer()
                self._one_thread = self._open(threads=1)

    def embed_queries(self, texts: Sequence[str]) -> Vectors:
        """Embed search queries: the vectors of ``embed``, from a one-thread session.

        Search calls it when it runs its lexical side on the other core meanwhile
        (``planvec.search``), where a second model thread would only fight it; a search
        with nothing beside the model calls ``embed_queries_alone``. A query is one short
        text (~14 tokens): on one machine a second thread gained nothing (p50 5.9 ms either
        way), on another it gained ~0.9 ms (see ``embed_queries_alone``). The session
        loads on first use; a process that holds both sessions holds about 90 MB more.
        """
        return self.embed_aside(texts)

    def embed_queries_alone(self, texts: Sequence[str]) -> Vectors:
        """Embed search queries on every core (the main session): for a search that runs
        nothing beside the model. One query (~14 tokens, this 2-core CPU, 147 dev queries)
        took p50 3.6 / p95 5.0 ms there against 4.5 / 5.8-6.2 ms on the one-thread session."""
        return self.embed(texts)

    def embed_aside(self, texts: Sequence[str]) -> Vectors:
        """Embed documents on the one-thread session: the vectors of ``embed`` (within
        float noise), leaving the other cores to the caller's other threads.

        A small incremental sync embeds its changed tasks this way while its parse thread
        diffs the other changed files (``planvec.sync``): on every core, the model's second
        thread and the parse thread would slow each other down.
        """
        if texts:
            self.load_aside()
        return self._run(self._one_thread, texts)

    def embed(self, texts: Sequence[str]) -> Vectors:
        """Embed a batch of texts (see ``planvec.embed.base``).

        Args:
            texts: the texts, in order.

        Returns:
            A ``(len(texts), 384)`` float32 array of unit rows, in the order of ``texts``.
        """
        if texts:
            self.load()
        return self._run(self._session, texts)

    def _run(self, session: Any, texts: Sequence[str]) -> Vectors:
        """``texts`` through ``session``, in batches of similar token counts."""
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        if not texts:
            return out
        encodings = self._tokenizer.encode_batch(list(texts))
        order = np.arange(len(texts))
        if self.sort_by_length:
            order = np.argsort([len(e.ids) for e in encodings], kind="stable")
        for start in range(0, len(order), self.batch_size):
            rows = order[start : start + self.batch_size]
            ids, mask = _pad([encodings[i] for i in rows])
            try:
                result = session.run(None, {"input_ids": ids, "attention_mask": mask})
            except Exception as exc:
                raise EmbedError(f"the ONNX embedder failed: {exc}") from exc
            out[rows] = result[0]
        return out
